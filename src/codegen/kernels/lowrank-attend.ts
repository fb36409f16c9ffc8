// The small softmax attention every low-rank program ends with (and nystrom also uses for its
// landmark values): each invocation owns one query row and walks a list of key rows with the
// online softmax of blocks/online-softmax.ts in exp2, accumulating the value rows. Where the
// rows come from is given as kernel IR over the names the kernel defines, so one builder
// serves
//   linformer: q (layout) over the r projected rows K', V';
//   nystrom:   q (layout) over the m landmark keys and mixed values, and
//              the m query landmarks over all Nk keys (layout) -> landmark values.
// No workgroup memory and no barriers: valid under every profile, rows past the end return.
// Each declared buffer carries its row codec (row-codec.ts: the attention's dtype for q/k/v/o,
// f32 for the rest), so the row expressions stay in row-vector units and all arithmetic is f32.

import type { SizeExpr } from '../plan.js';
import { constantLoopCost } from '../wgsl/loop-budget.js';
import { size } from '../plan.js';
import {
  add,
  call,
  construct,
  div,
  f32,
  ge,
  gt,
  index,
  mod,
  mul,
  select,
  T,
  u32,
  uniform,
  type BlockBuilder,
  type Operand,
} from '../../kernel/build.js';
import type { RowPlace } from '../../kernel/blocks/layout.js';
import { auxWords, findKeptList, selectKeptRow } from '../../kernel/blocks/kept-rows.js';
import { keyUpdate } from '../../kernel/blocks/online-softmax.js';
import type { Expr, Kernel, BufferSlot } from '../../kernel/ir.js';
import {
  keptRowUniforms,
  routedTileBound,
  type RoutedRowsArrays,
} from '../wgsl/emit-head-routing.js';
import {
  bufferView,
  declareBuffers,
  type GroupShape,
  type KernelBuffer,
  LOWEST_SCORE,
  lowRankKernel,
  LOWRANK_WORKGROUP,
  totalOf,
} from './lowrank-blocks.js';

export interface SmallAttentionSpec {
  readonly title: string;
  readonly shape: GroupShape;
  readonly scale: number;
  readonly buffers: readonly KernelBuffer[];
  /** Uniforms beyond `total`, `rowTiles` and `rows` (array bases, sizes), with their values. */
  readonly uniforms: readonly { readonly name: string; readonly value: SizeExpr }[];
  /** Query rows per (batch, head). */
  readonly rows: SizeExpr;
  /** Kernel-specific u32 constants the expressions below use. */
  readonly constants: readonly { readonly name: string; readonly value: number }[];
  /** The number of key rows each query walks. */
  readonly keys: Operand;
  /** The same count as a size expression, for the loop-iteration bound. */
  readonly keyCount: SizeExpr;
  /**
   * Row starts in units of the row vector, over the kernel's `b`, `hl`, `h`, `hkl`, `hk`,
   * `row` and, for keys and values, `j` (`P.x` for the uniforms).
   */
  readonly queryRow: Expr;
  readonly keyRow: Expr;
  readonly valueRow: Expr;
  readonly outputRow: Expr;
  readonly queryBuffer: string;
  readonly keyBuffer: string;
  readonly valueBuffer: string;
  readonly outputBuffer: string;
  /**
   * Head routing (query rows of q only): walk the kept-row lists in `aux` instead of every row,
   * scaling each row by its routing weight (blocks/kept-rows.ts).
   */
  readonly headRouting?: {
    readonly arrays: RoutedRowsArrays;
    readonly aux: BufferSlot;
  };
}

const oneLine = { oneLine: true };

/** Query (and output) row `row` of head `h` in q and o, over the names the kernel defines. */
export const QUERY_PLACE: RowPlace = {
  batch: 'b',
  head: 'h',
  heads: 'TOTAL_HEADS',
  seq: uniform('seqQ'),
  row: 'row',
};

export function smallAttentionKernel(spec: SmallAttentionSpec): Kernel {
  const routing = spec.headRouting;
  const total = routing
    ? routedTileBound(routing.arrays, spec.shape.heads, LOWRANK_WORKGROUP)
    : totalOf(spec.shape.heads, spec.rows);
  const { k, main, build } = lowRankKernel(spec.title, spec.shape, total, {
    name: 'rowTiles',
    value: size.ceilDiv(spec.rows, LOWRANK_WORKGROUP),
  });
  const rows = k.uniform('rows', spec.rows);
  for (const u of spec.uniforms) k.uniform(u.name, u.value);
  declareBuffers(k, spec.buffers);
  if (routing) {
    for (const u of keptRowUniforms(routing.arrays)) k.uniform(u.name, u.value);
    k.storage(routing.aux.binding, routing.aux.name, 'read', T.u32);
    k.function(findKeptList(auxWords(routing.aux.name)));
  }
  for (const c of spec.constants) k.constBeforeMain(c.name, T.u32, u32(c.value));
  main((b) => {
    if (routing) {
      selectKeptRow(b, auxWords(routing.aux.name), LOWRANK_WORKGROUP);
      b.let('hkl', div('hl', 'GROUP_SIZE'));
      b.let('hk', add('KV_HEAD_OFFSET', 'hkl'));
      b.let('row', 'routeRow');
    } else {
      const hl = b.let('hl', mod('bh', 'HEADS'));
      b.let('b', div('bh', 'HEADS'));
      b.let('h', add('HEAD_OFFSET', hl));
      b.let('hkl', div(hl, 'GROUP_SIZE'));
      b.let('hk', add('KV_HEAD_OFFSET', 'hkl'));
      const row = b.let('row', add(mul('tile', 'WG'), 'lid'));
      b.returnIf(ge(row, rows));
    }
    attendRow(b, spec, routing !== undefined);
  });
  // Per key a step (its row loops unrolled); per row the q, acc and output loops, the key
  // loop's exit and, with head routing, the kept-row search.
  const W = spec.shape.width;
  const perRow =
    constantLoopCost(spec.shape.headDim / W) +
    2 * constantLoopCost(spec.shape.valueDim / W) +
    1 +
    (routing ? 64 : 0);
  return { ...build(), loopIterations: size.add(spec.keyCount, perRow) };
}

/** The online softmax of one query row over `keys` key rows, written to its output row. */
function attendRow(b: BlockBuilder, spec: SmallAttentionSpec, weighted: boolean): void {
  const view = (name: string) => bufferView(spec.buffers, name);
  const q = view(spec.queryBuffer);
  const key = view(spec.keyBuffer);
  const value = view(spec.valueBuffer);
  const out = view(spec.outputBuffer);
  const W = spec.shape.width;
  const vec = W === 4 ? T.vec(4, 'f32') : T.f32;
  const qRow = b.let('qRow', spec.queryRow);
  const oRow = b.let('oRow', spec.outputRow);
  b.comment('q pre-scaled by scale * log2(e): the softmax runs in exp2.');
  const qv = b.var('qv', undefined, T.array(vec, 'DW'));
  const acc = b.var('acc', undefined, T.array(vec, 'DVW'));
  const overVectors = (count: string, body: (b: BlockBuilder, d: Expr) => void) =>
    b.range('d', count, body, oneLine);
  overVectors('DW', (body, d) =>
    body.assign(index(qv, d), mul(q.load(add(qRow, d)), f32(spec.scale * Math.LOG2E))),
  );
  overVectors('DVW', (body, d) =>
    body.assign(index(acc, d), W === 4 ? construct(vec, f32(0)) : f32(0)),
  );
  b.var('m', LOWEST_SCORE);
  const l = b.var('l', f32(0));
  const keys = b.let('keys', spec.keys);
  b.range('j', keys, (body) => {
    const kRow = body.let('kRow', spec.keyRow);
    const vRow = body.let('vRow', spec.valueRow);
    keyUpdate(body, {
      score: { scale: spec.scale, softcap: null, bias: null },
      modified: false,
      kAt: key.load(add(kRow, 'd')),
      vAt: value.load(add(vRow, 'd')),
      dot: (a, c) => (W === 4 ? call('dot', a, c) : mul(a, c)),
      vectors: spec.shape.headDim / W,
      valueVectors: spec.shape.valueDim / W,
      query: 'qv',
      rescaleComment: [
        'Lazy rescale: only when the running max grows (the first key rescales 0 by 0).',
        '(Two or four keys per step were 20-40% slower on llvmpipe.)',
      ],
    });
  });
  const normalize = select(f32(0), div(f32(1), l), gt(l, f32(0)));
  const inv = b.let('inv', weighted ? mul(normalize, 'routeWeight') : normalize);
  overVectors('DVW', (body, d) => out.store(body, add(oRow, d), mul(index(acc, d), inv)));
}
