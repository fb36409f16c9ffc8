// The IR of low-rank attention (language.md section 7): the `lowrank` mechanism and the one
// `lowrank` step kind whose `op` names each kernel of its program. Kept apart from ir.ts so
// the shared unions grow by one variant each; printing and verifying these nodes live here too.
//
// A low-rank program never forms an N x N matrix: linformer projects K and V to r rows
// (split over key chunks, then summed), nystrom reduces q and k to m landmark rows, and both
// end with every query attending over a handful of small rows.

import type { Span } from '../base/span.js';
import type { Mask } from './mask-ir.js';

export type LowRankMethod =
  | { readonly kind: 'linformer'; readonly rank: number }
  | { readonly kind: 'nystrom'; readonly landmarks: number; readonly iters: number };

/**
 * Low-rank attention of a group. `mask` is always `full` (the checker allows nothing else; the
 * projections mix every key) and `plan` always null (no tile plan): both are kept so code that
 * reads any mechanism's mask or plan, such as `attnc explain`, sees what it means.
 */
export interface LowRankMechanism {
  readonly kind: 'lowrank';
  readonly method: LowRankMethod;
  readonly scale: number;
  readonly mask: Mask;
  readonly plan: null;
  readonly span: Span;
}

/** Kernel-level operations of low-rank programs, in the order `fuseLowRank` emits them. */
export type LowRankOp =
  /** Per key chunk of `chunk` keys: partial `E K` and `F V` of every projected row. */
  | { readonly kind: 'linformer-project'; readonly rank: number; readonly chunk: number }
  /** Sums the chunk partials (fixed order, so deterministic) into K', V' `[B, Hkv, r, D + Dv]`. */
  | { readonly kind: 'linformer-reduce'; readonly rank: number }
  /** Segment means of q (per head) and k (per kv head) into `m` landmark rows each. */
  | { readonly kind: 'nystrom-landmarks'; readonly landmarks: number }
  /** `softmax(scale Ql K^T) V`: each query landmark attends over all keys (online softmax). */
  | { readonly kind: 'nystrom-landmark-values'; readonly landmarks: number }
  /** `pinv(softmax(scale Ql Kl^T))` by `iters` Nystromformer iterations, times the values above. */
  | { readonly kind: 'nystrom-pinv'; readonly landmarks: number; readonly iters: number }
  /** Every query attends over `rows` small rows (projected or landmark keys and values) -> o. */
  | {
      readonly kind: 'attend-small';
      readonly source: 'linformer' | 'nystrom';
      readonly rows: number;
    };

export function printLowRankMechanism(m: LowRankMechanism): string {
  const method =
    m.method.kind === 'linformer'
      ? `linformer(${m.method.rank})`
      : `nystrom(${m.method.landmarks}, iters: ${m.method.iters})`;
  return `lowrank ${method} scale=${m.scale}`;
}

export function printLowRankOp(op: LowRankOp): string {
  switch (op.kind) {
    case 'linformer-project':
      return `linformer-project k, v, E, F -> kv_partial  (r=${op.rank}, ${op.chunk} keys per chunk)`;
    case 'linformer-reduce':
      return `linformer-reduce kv_partial -> kv_projected  [B x Hkv x ${op.rank} x (D + Dv)]`;
    case 'nystrom-landmarks':
      return `nystrom-landmarks q, k -> landmarks  (${op.landmarks} segment means each)`;
    case 'nystrom-landmark-values':
      return `nystrom-landmark-values landmarks, k, v -> landmark_values  (online softmax over Nk)`;
    case 'nystrom-pinv':
      return `nystrom-pinv landmarks, landmark_values -> mixed  (${op.iters} iterations)`;
    case 'attend-small':
      return op.source === 'linformer'
        ? `attend-small q, kv_projected -> o  (softmax over ${op.rows} rows)`
        : `attend-small q, landmarks, mixed -> o  (softmax over ${op.rows} rows)`;
    default:
      return unreachableOp(op);
  }
}

/** Problems with a low-rank mechanism (sizes, scale). */
export function verifyLowRankMechanism(m: LowRankMechanism, fail: (message: string) => void): void {
  const positiveInt = (x: number) => Number.isInteger(x) && x > 0;
  if (!(m.scale > 0) || !Number.isFinite(m.scale)) fail('scale must be finite and positive');
  if (m.mask.kind !== 'all') fail(`low-rank mask must be full, found ${m.mask.kind}`);
  if (m.method.kind === 'linformer' && !positiveInt(m.method.rank))
    fail('linformer rank must be a positive integer');
  if (m.method.kind === 'nystrom') {
    if (!positiveInt(m.method.landmarks)) fail('nystrom landmarks must be a positive integer');
    if (!(Number.isInteger(m.method.iters) && m.method.iters >= 0))
      fail('nystrom iters must be a non-negative integer');
  }
}

/** The op order each method's program must follow. */
const PROGRAMS: Record<LowRankMethod['kind'], readonly LowRankOp['kind'][]> = {
  linformer: ['linformer-project', 'linformer-reduce', 'attend-small'],
  nystrom: ['nystrom-landmarks', 'nystrom-landmark-values', 'nystrom-pinv', 'attend-small'],
};

/** Problems with a low-rank program: ops of the method, in order, and of its sizes. */
export function verifyLowRankProgram(
  m: LowRankMechanism,
  ops: readonly LowRankOp[],
  fail: (message: string) => void,
): void {
  const expected = PROGRAMS[m.method.kind];
  const actual = ops.map((op) => op.kind);
  if (actual.join(',') !== expected.join(',')) {
    fail(`low-rank program [${actual.join(', ')}], expected [${expected.join(', ')}]`);
  }
  const size = m.method.kind === 'linformer' ? m.method.rank : m.method.landmarks;
  for (const op of ops) {
    const opSize =
      op.kind === 'linformer-project' || op.kind === 'linformer-reduce'
        ? op.rank
        : op.kind === 'attend-small'
          ? op.rows
          : op.landmarks;
    if (opSize !== size) fail(`${op.kind} is sized ${opSize}, the mechanism ${size}`);
    if (op.kind === 'attend-small' && op.source !== m.method.kind)
      fail(`attend-small reads ${op.source} rows in a ${m.method.kind} group`);
    if (op.kind === 'linformer-project' && !(Number.isInteger(op.chunk) && op.chunk > 0))
      fail('linformer-project chunk must be a positive integer');
  }
}

function unreachableOp(value: never): never {
  throw new Error(`internal error: unexpected low-rank op ${JSON.stringify(value)}`);
}
