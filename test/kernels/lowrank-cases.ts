// Low-rank kernel cases (linformer and nystrom, language.md section 7) and their runner: one
// device per test file, each case compiled for the device's profile and for `portable`
// (compatibility limits: q/k/v may share one buffer), compared with the CPU reference.
// linformer: within 1e-4 absolute. nystrom: within 1e-4 * max(1, |expected|) — its iterative
// pseudo-inverse, run in f32 against the reference's f64, scales rounding with the output.
// dtype f16 (q/k/v/o stored as halves, as the reference rounds them): also one f16 ulp of the
// expected value where that is larger, as in the other f16 kernel tests (run-cases.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckedAttention, CheckedGroup, LowRank } from '../../src/check/checked.js';
import { compileAttention } from '../../src/codegen/compile.js';
import { referenceAttention } from '../../src/reference/index.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';
import { asF16, attention, m, makeProblem, randomFloats, type Problem } from './build.js';

const S = { start: 0, end: 0 };

export const linformer = (rank: number): LowRank => ({ kind: 'linformer', rank, span: S });
export const nystrom = (landmarks: number, iters = 6): LowRank => ({
  kind: 'nystrom',
  landmarks,
  iters,
  span: S,
});

export type LowRankProblem = Problem & {
  E?: Float32Array;
  F?: Float32Array;
  router?: Float32Array;
};

export interface LowRankCase {
  readonly name: string;
  readonly attention: CheckedAttention;
  readonly problem: () => LowRankProblem;
  /** Cheap enough for SwiftShader. */
  readonly small: boolean;
  /** Relative tolerance (nystrom) or absolute (linformer). */
  readonly relative: boolean;
}

interface Options {
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  valueDim?: number;
  layout?: 'bhnd' | 'bnhd';
  maxSeq?: number;
  /** Amplitude of E and F entries. */
  projection?: number;
  groups?: Partial<Omit<CheckedGroup, 'headOffset' | 'kvHeadOffset' | 'span'>>[];
}

export function lowRankAttention(lowrank: LowRank | null, o: Options = {}): CheckedAttention {
  const base = attention({
    heads: o.heads ?? 1,
    kvHeads: o.kvHeads ?? o.heads ?? 1,
    headDim: o.headDim ?? 16,
    ...(o.valueDim !== undefined ? { valueDim: o.valueDim } : {}),
    layout: o.layout ?? 'bhnd',
    ...(o.maxSeq !== undefined ? { maxSeq: o.maxSeq } : {}),
    ...(o.groups !== undefined ? { groups: o.groups } : {}),
  });
  if (lowrank === null) return base;
  return { ...base, groups: base.groups.map((g) => ({ ...g, lowrank })) };
}

/** E and F `[Hkv, r, max_seq]` for the attention's linformer groups, if any. */
export function projections(
  a: CheckedAttention,
  seed: number,
  amplitude: number,
): { E?: Float32Array; F?: Float32Array } {
  const group = a.groups.find((g) => g.lowrank?.kind === 'linformer');
  if (group?.lowrank?.kind !== 'linformer' || a.maxSeq === undefined) return {};
  const length = a.kvHeads * group.lowrank.rank * a.maxSeq;
  return {
    E: randomFloats(length, seed + 10, amplitude),
    F: randomFloats(length, seed + 11, amplitude),
  };
}

function lcase(
  name: string,
  a: CheckedAttention,
  batch: number,
  seqQ: number,
  seqK: number,
  options: { small?: boolean; projection?: number } = {},
): LowRankCase {
  const relative = a.groups.some((g) => g.lowrank?.kind === 'nystrom');
  return {
    name: `${name} [B=${batch} Nq=${seqQ} Nk=${seqK}]`,
    attention: a,
    small: options.small ?? seqK <= 300,
    relative,
    problem: () => ({
      ...makeProblem(a, batch, seqQ, seqK, seqK + 3),
      ...projections(a, seqK, options.projection ?? 0.2),
      // head_routing: router logits [B, Nq, H] in [-3, 3).
      ...(a.headRouting ? { router: randomFloats(batch * seqQ * a.heads, seqQ + 7, 3) } : {}),
    }),
  };
}

const lin = (rank: number, o: Options = {}) =>
  lowRankAttention(linformer(rank), { maxSeq: 1024, ...o });
const nys = (m: number, iters = 6, o: Options = {}) => lowRankAttention(nystrom(m, iters), o);

export const LOW_RANK_CASES: readonly LowRankCase[] = [
  ...[1, 2, 63, 65, 257, 1000].map((n) => lcase('linformer(16)', lin(16), 1, n, n)),
  lcase('linformer(100), rank not a multiple of 64', lin(100), 1, 130, 130),
  lcase('linformer(8) E, F in [-1, 1]', lin(8), 1, 200, 200, { projection: 1 }),
  lcase('linformer GQA 4/2', lin(16, { heads: 4, kvHeads: 2 }), 1, 65, 65),
  lcase('linformer MQA 3/1 bnhd', lin(16, { heads: 3, kvHeads: 1, layout: 'bnhd' }), 1, 70, 70),
  lcase('linformer batch 2, Nq < Nk', lin(16, { heads: 2 }), 2, 33, 100),
  lcase('linformer value_dim 24', lin(16, { valueDim: 24 }), 1, 65, 65),
  lcase('linformer head_dim 6 (scalar)', lin(12, { headDim: 6, valueDim: 5 }), 1, 65, 65),
  lcase('linformer N = max_seq', lin(16, { maxSeq: 257 }), 1, 257, 257),
  lcase('linformer(64) N=4096', lin(64, { maxSeq: 4096 }), 1, 4096, 4096),
  ...[8, 63, 65, 257, 1000].map((n) => lcase('nystrom(8)', nys(8), 1, n, n)),
  lcase('nystrom(1)', nys(1), 1, 40, 40),
  lcase('nystrom(16, iters: 0)', nys(16, 0), 1, 100, 100),
  lcase('nystrom(100, iters: 3), m > workgroup', nys(100, 3), 1, 257, 257),
  lcase('nystrom GQA 4/2', nys(8, 6, { heads: 4, kvHeads: 2 }), 1, 65, 65),
  lcase('nystrom bnhd 2/1', nys(8, 6, { heads: 2, kvHeads: 1, layout: 'bnhd' }), 1, 70, 70),
  lcase('nystrom batch 2, Nq < Nk', nys(8, 6, { heads: 2 }), 2, 33, 100),
  lcase('nystrom value_dim 24', nys(8, 6, { valueDim: 24 }), 1, 65, 65),
  lcase('nystrom head_dim 6 (scalar)', nys(8, 6, { headDim: 6, valueDim: 5 }), 1, 65, 65),
  lcase('nystrom(64) N=4096', nys(64, 6, { headDim: 64 }), 1, 4096, 4096),
  // dtype f16: q/k/v/o packed two halves per u32; E, F and the scratch stay f32. (Low-rank
  // groups cannot be causal: the checker rejects it, E502.) N = 1000 runs on SwiftShader too.
  ...[1, 63, 257, 1000].map((n) =>
    lcase('f16 linformer(16)', asF16(lin(16)), 1, n, n, { small: true }),
  ),
  lcase('f16 linformer GQA 4/2', asF16(lin(16, { heads: 4, kvHeads: 2 })), 1, 65, 65),
  lcase(
    'f16 linformer MQA 3/1 bnhd, value_dim 8',
    asF16(lin(16, { heads: 3, kvHeads: 1, layout: 'bnhd', valueDim: 8 })),
    1,
    70,
    70,
  ),
  lcase('f16 linformer batch 2, Nq < Nk', asF16(lin(16, { heads: 2 })), 2, 33, 100),
  lcase('f16 nystrom(1)', asF16(nys(1)), 1, 1, 1),
  ...[63, 257, 1000].map((n) => lcase('f16 nystrom(8)', asF16(nys(8)), 1, n, n, { small: true })),
  lcase('f16 nystrom GQA 4/2', asF16(nys(8, 6, { heads: 4, kvHeads: 2 })), 1, 65, 65),
  lcase(
    'f16 nystrom bnhd 2/1, value_dim 24',
    asF16(nys(8, 6, { heads: 2, kvHeads: 1, layout: 'bnhd', valueDim: 24 })),
    1,
    70,
    70,
  ),
  lcase('f16 nystrom batch 2, Nq < Nk', asF16(nys(8, 6, { heads: 2 })), 2, 33, 100),
  lcase(
    'f16 groups: linformer, nystrom, softmax, bnhd (portable packs q/k/v into one buffer)',
    asF16(
      lowRankAttention(null, {
        maxSeq: 300,
        layout: 'bnhd',
        groups: [
          { name: 'lin', heads: 1, kvHeads: 1, lowrank: linformer(16) },
          { name: 'nys', heads: 2, kvHeads: 1, lowrank: nystrom(8) },
          { name: 'soft', heads: 1, kvHeads: 1, mask: m.random(2, 16, 5) },
        ],
      }),
    ),
    2,
    100,
    130,
  ),
  lcase(
    'f16 groups: linformer GQA, nystrom, head_routing top(2) of 5',
    asF16({
      ...lowRankAttention(null, {
        maxSeq: 300,
        groups: [
          { name: 'lin', heads: 2, kvHeads: 1, lowrank: linformer(16) },
          { name: 'nys', heads: 3, kvHeads: 3, lowrank: nystrom(8) },
        ],
      }),
      headRouting: { k: 2, span: S },
    }),
    2,
    90,
    120,
  ),
  lcase(
    'groups: linformer, nystrom, random-mask softmax (portable packs q/k/v into one buffer)',
    lowRankAttention(null, {
      maxSeq: 300,
      groups: [
        { name: 'lin', heads: 1, kvHeads: 1, lowrank: linformer(16) },
        { name: 'nys', heads: 2, kvHeads: 1, lowrank: nystrom(8) },
        { name: 'soft', heads: 1, kvHeads: 1, mask: m.random(2, 16, 5) },
      ],
    }),
    1,
    100,
    130,
  ),
  lcase(
    'groups: linformer, nystrom, softmax',
    lowRankAttention(null, {
      maxSeq: 512,
      groups: [
        { name: 'lin', heads: 2, kvHeads: 1, lowrank: linformer(16) },
        { name: 'nys', heads: 1, kvHeads: 1, lowrank: nystrom(8) },
        { name: 'soft', heads: 1, kvHeads: 1 },
      ],
    }),
    2,
    65,
    65,
  ),
];

/**
 * Largest error beyond `1e-4` (absolute) or `1e-4 * max(1, |expected|)` (relative), or under
 * f16 storage one f16 ulp of the expected value where that is larger (o itself is rounded to
 * f16, and WGSL leaves pack2x16float's rounding direction to the implementation).
 */
export function lowRankExcess(
  actual: Float32Array,
  expected: Float32Array,
  relative: boolean,
  f16 = false,
) {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let x = 0; x < actual.length; x++) {
    const e = expected[x]!;
    const ulp = f16 ? 2 ** (Math.floor(Math.log2(Math.max(Math.abs(e), 2 ** -14))) - 10) : 0;
    const allowed = Math.max(1e-4 * (relative ? Math.max(1, Math.abs(e)) : 1), ulp);
    const d = Math.abs(actual[x]! - e) - allowed;
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

export function describeLowRankCases(
  adapter: 'llvmpipe' | 'swiftshader',
  options: { smallOnly: boolean },
): void {
  describe(`low-rank kernels on ${adapter}`, () => {
    let acquired: AcquiredDevice;
    beforeAll(async () => {
      acquired = await acquireDevice({ adapter });
    });
    afterAll(() => acquired?.destroy());

    for (const c of LOW_RANK_CASES.filter((c) => !options.smallOnly || c.small)) {
      it(c.name, async () => {
        const problem = c.problem();
        const expected = referenceAttention(c.attention, problem);
        for (const profile of [acquired.profile, PORTABLE_PROFILE]) {
          const compiled = compileAttention(c.attention, profile, { verify: true });
          const loaded = load(acquired.device, compiled);
          acquired.device.pushErrorScope('validation');
          const { o } = await loaded.run(problem);
          const error = await acquired.device.popErrorScope();
          expect(error?.message ?? null, `${profile.name}: WebGPU validation`).toBeNull();
          expect(o.every(Number.isFinite), `${profile.name}: finite output`).toBe(true);
          const f16 = c.attention.dtype === 'f16';
          expect(lowRankExcess(o, expected, c.relative, f16), `on ${profile.name}`).toBe(0);
        }
      });
    }
  });
}
