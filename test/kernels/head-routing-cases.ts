// Kernel cases for mixture of heads (`head_routing: top(k)`) and for head groups (each group
// its own mask, scale, softcap, bias and GQA ratio; one output with the heads in declaration
// order). Each case is compared with the CPU reference within 1e-4 on every adapter, compiled
// for the device's profile (rowwise) and for `portable` (tiled, packed bindings).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckedAttention } from '../../src/check/checked.js';
import { compileAttention } from '../../src/codegen/compile.js';
import { referenceAttention } from '../../src/reference/index.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';
import {
  asF16,
  attention,
  m,
  makeProblem,
  packedSegments,
  randomFloats,
  type Problem,
} from './build.js';
import { linformer, projections } from './lowrank-cases.js';
import { excessError } from './run-cases.js';

const S = { start: 0, end: 0 };

export type RoutedProblem = Problem & {
  router?: Float32Array;
  E?: Float32Array;
  F?: Float32Array;
  centroids?: Float32Array;
};

export interface RoutingCase {
  readonly name: string;
  readonly attention: CheckedAttention;
  readonly problem: () => RoutedProblem;
  readonly small: boolean;
  /** Heads whose output must be exactly 0 (dropped on every row). */
  readonly zeroHeads?: readonly number[];
}

export function routed(a: CheckedAttention, k: number): CheckedAttention {
  return { ...a, headRouting: { k, span: S } };
}

type RouterKind = 'spread' | 'ties' | { readonly neverKept: number };

/** Router logits [B, Nq, H]: spread in [-3, 3), integer ties, or one head always last. */
export function routerLogits(
  a: CheckedAttention,
  batch: number,
  seqQ: number,
  kind: RouterKind,
  seed = 5,
): Float32Array {
  const logits = randomFloats(batch * seqQ * a.heads, seed, 3);
  if (kind === 'ties') return logits.map((x) => Math.round(x / 2));
  if (kind !== 'spread') {
    for (let r = 0; r < batch * seqQ; r++) logits[r * a.heads + kind.neverKept] = -50;
  }
  return logits;
}

function rcase(
  name: string,
  a: CheckedAttention,
  shape: { batch: number; seqQ: number; seqK: number },
  options: { router?: RouterKind; segments?: boolean; small?: boolean } = {},
): RoutingCase {
  const router = options.router ?? 'spread';
  return {
    name: `${name} [B=${shape.batch} Nq=${shape.seqQ} Nk=${shape.seqK}]`,
    attention: a,
    small: options.small ?? shape.seqK <= 300,
    ...(typeof router === 'object' ? { zeroHeads: [router.neverKept] } : {}),
    problem: () => {
      const p: RoutedProblem = makeProblem(a, shape.batch, shape.seqQ, shape.seqK, 9);
      if (options.segments)
        Object.assign(p, packedSegments(shape.batch, shape.seqQ, shape.seqK, 4));
      if (a.headRouting) p.router = routerLogits(a, shape.batch, shape.seqQ, router);
      Object.assign(p, projections(a, shape.seqK, 0.2));
      const clusters = a.groups.flatMap((g) => (g.mask.kind === 'cluster' ? [g.mask.count] : []));
      if (clusters.length > 0)
        p.centroids = randomFloats(a.kvHeads * Math.max(...clusters) * a.headDim, 11);
      return p;
    },
  };
}

const n = (batch: number, seqQ: number, seqK = seqQ) => ({ batch, seqQ, seqK });
const heads8 = (o: Parameters<typeof attention>[0] = {}) => attention({ heads: 8, ...o });

export const ROUTING_CASES: readonly RoutingCase[] = [
  ...[1, 2, 63, 65, 257, 1000].map((N) =>
    rcase('top(2) of 8, causal', routed(heads8({ causal: true }), 2), n(1, N), {
      small: N <= 257,
    }),
  ),
  rcase('top(1) of 4, full', routed(attention({ heads: 4 }), 1), n(1, 65)),
  rcase('top(1) of 8, window(9)', routed(heads8({ mask: m.window(9) }), 1), n(1, 257)),
  rcase('top(7) of 8 (k = H-1)', routed(heads8({ mask: m.window(16) }), 7), n(1, 130)),
  rcase('top(8) of 8 (k = H)', routed(heads8({ causal: true }), 8), n(1, 70)),
  rcase('ties in the logits', routed(attention({ heads: 4, causal: true }), 2), n(2, 100), {
    router: 'ties',
  }),
  rcase('head 2 never kept', routed(attention({ heads: 4 }), 2), n(1, 90), {
    router: { neverKept: 2 },
  }),
  rcase(
    'GQA 8/2, bnhd, batch 2',
    routed(heads8({ kvHeads: 2, causal: true, layout: 'bnhd' }), 3),
    n(2, 70),
  ),
  rcase(
    'MQA, value_dim 8, odd D',
    routed(attention({ heads: 4, kvHeads: 1, headDim: 5, valueDim: 8 }), 2),
    n(1, 66),
  ),
  rcase('decode Nq=1', routed(heads8({ causal: true }), 2), n(2, 1, 100)),
  rcase('Nq < Nk', routed(heads8({ causal: true, mask: m.window(20) }), 2), n(1, 65, 257)),
  rcase(
    'segment | sink(2)',
    routed(heads8({ causal: true, mask: m.or(m.segment(), m.sink(2)) }), 2),
    n(2, 257),
    { segments: true },
  ),
  rcase('random blocks', routed(attention({ heads: 4, mask: m.random(2, 16, 3) }), 2), n(1, 200)),
  rcase(
    'softcap + alibi',
    routed(heads8({ causal: true, softcap: 5, bias: 'alibi', scale: 0.8 }), 3),
    n(1, 100),
  ),
  rcase('f16', asF16(routed(heads8({ causal: true }), 2)), n(1, 130)),
  rcase(
    'groups: window/softcap + causal GQA + stride',
    routed(
      attention({
        groups: [
          { name: 'local', heads: 2, mask: m.window(6), softcap: 4 },
          { name: 'global', heads: 4, kvHeads: 2, causal: true, bias: 'alibi' },
          { name: 'strided', heads: 2, kvHeads: 1, mask: m.stride(3), scale: 0.2 },
        ],
      }),
      3,
    ),
    n(2, 120),
  ),
  rcase(
    'groups, top(1) across groups, bnhd',
    routed(
      attention({
        layout: 'bnhd',
        groups: [
          { name: 'a', heads: 1, causal: true },
          { name: 'b', heads: 3, kvHeads: 1, mask: m.window(4) },
        ],
      }),
      1,
    ),
    n(1, 257),
  ),
];

const elu1 = { kind: 'elu1', span: S } as const;
const relu = { kind: 'relu', span: S } as const;
const favor = (features: number) => ({ kind: 'favor', features, seed: 3, span: S }) as const;
const nystrom = (landmarks: number) => ({ kind: 'nystrom', landmarks, iters: 6, span: S }) as const;
const cluster = (count: number) => ({ kind: 'cluster', count, span: S }) as const;
const lsh = (buckets: number) => ({ kind: 'lsh', buckets, seed: 7, span: S }) as const;
/** One group of `heads` query heads with the given mechanism fields. */
const group = (
  heads: number,
  fields: Record<string, unknown>,
  o: Parameters<typeof attention>[0] = {},
) => attention({ ...o, groups: [{ name: 'g', heads, kvHeads: o.kvHeads ?? heads, ...fields }] });

/**
 * Groups whose per-query kernels walk the kept-row lists like the softmax kernel (kernelized
 * output, low-rank attend, routed softmax): dropped (row, head) pairs are never computed there.
 */
export const KEPT_ROW_CASES: readonly RoutingCase[] = [
  // kernelized, causal: the intra-chunk exact part of rows spread over several chunks
  ...[1, 63, 257].map((N) =>
    rcase('elu1 causal, top(2) of 8', routed(group(8, { kernel: elu1, causal: true }), 2), n(1, N)),
  ),
  rcase('elu1 full, top(2) of 4, batch 2', routed(group(4, { kernel: elu1 }), 2), n(2, 63)),
  rcase('relu full, N=257', routed(group(4, { kernel: relu }), 1), n(1, 257)),
  rcase(
    'relu causal, GQA 4/2, bnhd',
    routed(group(4, { kernel: relu, causal: true }, { kvHeads: 2, layout: 'bnhd' }), 1),
    n(2, 130),
  ),
  rcase('favor(16) causal', routed(group(4, { kernel: favor(16), causal: true }), 2), n(1, 150)),
  rcase(
    'favor(80) causal, several feature blocks',
    routed(group(4, { kernel: favor(80), causal: true }), 2),
    n(1, 100),
  ),
  rcase('favor(24) full', routed(group(4, { kernel: favor(24) }), 3), n(1, 90)),
  rcase('elu1 causal, k = H', routed(group(4, { kernel: elu1, causal: true }), 4), n(1, 70)),
  rcase(
    'elu1 causal, head 1 never kept',
    routed(group(4, { kernel: elu1, causal: true }), 2),
    n(1, 200),
    {
      router: { neverKept: 1 },
    },
  ),
  rcase('relu causal, ties', routed(group(4, { kernel: relu, causal: true }), 2), n(2, 100), {
    router: 'ties',
  }),
  rcase(
    'f16 elu1 causal, bnhd',
    asF16(routed(group(4, { kernel: elu1, causal: true }, { layout: 'bnhd' }), 2)),
    n(1, 130),
  ),
  rcase('elu1 causal, Nq < Nk', routed(group(4, { kernel: elu1, causal: true }), 2), n(1, 40, 150)),
  // low-rank: the attend pass per query
  ...[1, 63, 257].map((N) =>
    rcase(
      'linformer(16), top(2) of 4',
      routed(group(4, { lowrank: linformer(16) }, { maxSeq: 300 }), 2),
      n(1, N),
    ),
  ),
  rcase(
    'linformer(8), GQA 4/2, batch 2, ties',
    routed(group(4, { lowrank: linformer(8) }, { kvHeads: 2, maxSeq: 128 }), 1),
    n(2, 100),
    { router: 'ties' },
  ),
  rcase(
    'f16 linformer(8), bnhd',
    asF16(routed(group(4, { lowrank: linformer(8) }, { maxSeq: 300, layout: 'bnhd' }), 2)),
    n(1, 130),
  ),
  rcase('nystrom(8), top(1) of 4', routed(group(4, { lowrank: nystrom(8) }), 1), n(1, 96)),
  rcase(
    'nystrom(8), batch 2, head 0 never kept, k = 3',
    routed(group(4, { lowrank: nystrom(8) }), 3),
    n(2, 257),
    { router: { neverKept: 0 } },
  ),
  rcase(
    'nystrom(4), k = H, GQA 4/1',
    routed(group(4, { lowrank: nystrom(4) }, { kvHeads: 1 }), 4),
    n(1, 63),
  ),
  // data-dependent masks: the routed softmax kernel
  rcase(
    'topk mask | window(3)',
    routed(attention({ heads: 4, mask: m.or(m.window(3), m.topk(2, 16)) }), 2),
    n(1, 130),
  ),
  ...[1, 63, 257].map((N) =>
    rcase(
      'topk causal',
      routed(attention({ heads: 4, causal: true, mask: m.topk(2, 16) }), 2),
      n(1, N),
    ),
  ),
  rcase(
    'cluster(4), GQA 4/2',
    routed(group(4, { mask: cluster(4) }, { kvHeads: 2 }), 2),
    n(1, 120),
  ),
  rcase(
    'cluster(3) causal, ties, batch 2',
    routed(group(4, { mask: cluster(3), causal: true }), 1),
    n(2, 90),
    {
      router: 'ties',
    },
  ),
  rcase(
    'f16 topk causal, batch 2',
    asF16(routed(attention({ heads: 4, causal: true, mask: m.topk(2, 16) }), 2)),
    n(2, 100),
  ),
  rcase('lsh(8), batch 2', routed(group(4, { mask: lsh(8) }), 2), n(2, 100)),
  rcase('lsh(4) causal, k = H', routed(group(4, { mask: lsh(4), causal: true }), 4), n(1, 257)),
  rcase('lsh(4), head 3 never kept', routed(group(4, { mask: lsh(4) }), 2), n(1, 70), {
    router: { neverKept: 3 },
  }),
  // mixed groups in one attention
  rcase(
    'hybrid: window group + elu1 group',
    routed(
      attention({
        causal: true,
        groups: [
          { name: 'local', heads: 2, mask: m.window(8) },
          { name: 'lin', heads: 2, kernel: elu1 },
        ],
      }),
      2,
    ),
    n(2, 70),
  ),
  ...[63, 257].map((N) =>
    rcase(
      'groups: softmax, elu1 causal GQA, linformer, nystrom, topk, cluster',
      routed(
        attention({
          maxSeq: 300,
          groups: [
            { name: 'soft', heads: 2, kvHeads: 1, mask: m.window(5) },
            { name: 'lin', heads: 2, kvHeads: 1, kernel: elu1, causal: true },
            { name: 'lf', heads: 1, lowrank: linformer(8) },
            { name: 'ny', heads: 1, lowrank: nystrom(4) },
            { name: 'tk', heads: 1, mask: m.topk(1, 16) },
            { name: 'cl', heads: 1, mask: cluster(3) },
          ],
        }),
        3,
      ),
      n(2, N),
    ),
  ),
];

export const GROUP_CASES: readonly RoutingCase[] = [
  ...[1, 65, 257].map((N) =>
    rcase(
      'groups: masks, scales, softcap, GQA within groups',
      attention({
        groups: [
          { name: 'local', heads: 2, mask: m.window(5), scale: 0.3, softcap: 5 },
          { name: 'causal', heads: 4, kvHeads: 2, causal: true, bias: 'alibi' },
          { name: 'mqa', heads: 2, kvHeads: 1, mask: m.or(m.sink(2), m.window(0, 7)) },
        ],
      }),
      n(1, N),
    ),
  ),
  rcase(
    'groups, bnhd, batch 2, Nq < Nk',
    attention({
      layout: 'bnhd',
      groups: [
        { name: 'dense', heads: 3, kvHeads: 1, scale: 0.5 },
        { name: 'dilated', heads: 2, kvHeads: 2, mask: m.dilated(3, 2), causal: true },
      ],
    }),
    n(2, 40, 130),
  ),
  rcase(
    'groups with segment and random',
    attention({
      groups: [
        { name: 'docs', heads: 2, mask: m.segment(), causal: true },
        { name: 'rand', heads: 2, kvHeads: 1, mask: m.random(2, 32, 1) },
      ],
    }),
    n(2, 200),
    { segments: true },
  ),
];

export function describeRoutingCases(
  adapter: 'llvmpipe' | 'swiftshader',
  cases: readonly RoutingCase[],
  options: { smallOnly: boolean },
): void {
  describe(`head routing and groups on ${adapter}`, () => {
    let acquired: AcquiredDevice;
    beforeAll(async () => {
      acquired = await acquireDevice({ adapter });
    });
    afterAll(() => acquired?.destroy());

    for (const c of cases.filter((c) => !options.smallOnly || c.small)) {
      it(c.name, async () => {
        const problem = c.problem();
        const expected = referenceAttention(c.attention, problem);
        for (const profile of [acquired.profile, PORTABLE_PROFILE]) {
          const compiled = compileAttention(c.attention, profile, { verify: true });
          const loaded = load(acquired.device, compiled);
          acquired.device.pushErrorScope('validation');
          const { o } = await loaded.run(problem);
          const error = await acquired.device.popErrorScope();
          loaded.destroy();
          expect(error?.message ?? null, `${profile.name}: WebGPU validation`).toBeNull();
          expect(o.every(Number.isFinite), `${profile.name}: finite output`).toBe(true);
          expect(excessError(o, expected, c.attention.dtype === 'f16'), profile.name).toBe(0);
          for (const h of c.zeroHeads ?? []) {
            expect(headValues(c.attention, problem, o, h).every((x) => x === 0)).toBe(true);
          }
        }
      });
    }
  });
}

/** Every output value of head `h` (either layout). */
function headValues(a: CheckedAttention, p: Problem, o: Float32Array, h: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < p.batch; b++) {
    for (let i = 0; i < p.seqQ; i++) {
      const row =
        a.layout === 'bhnd' ? (b * a.heads + h) * p.seqQ + i : (b * p.seqQ + i) * a.heads + h;
      for (let d = 0; d < a.valueDim; d++) out.push(o[row * a.valueDim + d]!);
    }
  }
  return out;
}
