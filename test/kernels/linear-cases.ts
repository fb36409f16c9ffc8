// The kernel test matrix of linear (kernelized) attention: every feature map, causal and not,
// N around the chunk (64) and feature-block boundaries, Nq < Nk (decode included), GQA/MQA,
// bnhd, batch, value_dim != head_dim, odd dims (scalar loads), FAVOR+ wide enough for several
// feature blocks, f16 storage, and linear groups beside softmax groups.

import type { CheckedAttention, CheckedGroup, FeatureMap } from '../../src/check/checked.js';
import { attention, asF16, m, makeProblem, type Problem } from './build.js';

const S = { start: 0, end: 0 };

export const phi = {
  elu1: (): FeatureMap => ({ kind: 'elu1', span: S }),
  relu: (): FeatureMap => ({ kind: 'relu', span: S }),
  favor: (features: number, seed = 0): FeatureMap => ({ kind: 'favor', features, seed, span: S }),
};

export interface LinearCase {
  readonly name: string;
  readonly attention: CheckedAttention;
  readonly problem: () => Problem;
  /** Cheap enough for SwiftShader. */
  readonly small: boolean;
  /** Only on llvmpipe, device profile only (N = 4096). */
  readonly large?: boolean;
}

interface LinearOptions {
  readonly kernel: FeatureMap;
  readonly causal?: boolean;
  readonly heads?: number;
  readonly kvHeads?: number;
  readonly headDim?: number;
  readonly valueDim?: number;
  readonly layout?: 'bhnd' | 'bnhd';
  /** The mask as written (`causal` folds into it like `causal: true`). */
  readonly mask?: CheckedGroup['mask'];
}

export function linearAttention(o: LinearOptions): CheckedAttention {
  return attention({
    headDim: o.headDim ?? 16,
    ...(o.valueDim !== undefined ? { valueDim: o.valueDim } : {}),
    layout: o.layout ?? 'bhnd',
    causal: o.causal ?? false,
    mask: o.mask ?? m.full(),
    groups: [
      {
        name: 'lin',
        heads: o.heads ?? 1,
        kvHeads: o.kvHeads ?? o.heads ?? 1,
        kernel: o.kernel,
      },
    ],
  });
}

function lcase(
  name: string,
  a: CheckedAttention,
  batch: number,
  seqQ: number,
  seqK: number,
  extra: { small?: boolean; large?: boolean; amplitude?: number } = {},
): LinearCase {
  return {
    name: `${name} [B=${batch} Nq=${seqQ} Nk=${seqK}]`,
    attention: a,
    small: extra.small ?? seqK <= 300,
    ...(extra.large ? { large: true } : {}),
    problem: () => makeProblem(a, batch, seqQ, seqK, 5, extra.amplitude ?? 1),
  };
}

const MAPS: readonly [string, () => FeatureMap][] = [
  ['elu1', phi.elu1],
  ['relu', phi.relu],
  ['favor(32)', () => phi.favor(32, 7)],
];

export const LINEAR_CASES: readonly LinearCase[] = [
  // Every map, causal and not, at every size around the chunk boundary.
  ...MAPS.flatMap(([label, kernel]) =>
    [false, true].flatMap((causal) =>
      [1, 2, 63, 65, 257, 1000].map((n) =>
        lcase(
          `${label}${causal ? ' causal' : ''}`,
          linearAttention({ kernel: kernel(), causal }),
          1,
          n,
          n,
          { small: n <= 257 },
        ),
      ),
    ),
  ),
  // N = 4096, one head (llvmpipe only).
  lcase(
    'elu1 causal D=64',
    linearAttention({ kernel: phi.elu1(), causal: true, headDim: 64 }),
    1,
    4096,
    4096,
    { large: true },
  ),
  lcase('elu1 D=64', linearAttention({ kernel: phi.elu1(), headDim: 64 }), 1, 4096, 4096, {
    large: true,
  }),
  lcase(
    'favor(64) causal',
    linearAttention({ kernel: phi.favor(64, 1), causal: true }),
    1,
    4096,
    4096,
    { large: true },
  ),
  // The causal mask written in the mask, and in a union/intersection with full.
  lcase('mask: causal', linearAttention({ kernel: phi.elu1(), mask: m.causal() }), 1, 100, 100),
  lcase(
    'mask: full & causal',
    linearAttention({ kernel: phi.relu(), mask: m.and(m.full(), m.causal()) }),
    1,
    100,
    100,
  ),
  lcase(
    'mask: full | causal',
    linearAttention({ kernel: phi.relu(), mask: m.or(m.full(), m.causal()) }),
    1,
    100,
    100,
  ),
  // Nq < Nk: bottom-right alignment, decode.
  lcase('elu1 causal Nq<Nk', linearAttention({ kernel: phi.elu1(), causal: true }), 1, 65, 257),
  lcase(
    'elu1 causal Nq<Nk unaligned',
    linearAttention({ kernel: phi.elu1(), causal: true }),
    2,
    100,
    230,
  ),
  lcase('elu1 causal decode', linearAttention({ kernel: phi.elu1(), causal: true }), 1, 1, 1000, {
    small: true,
  }),
  lcase(
    'favor causal decode',
    linearAttention({ kernel: phi.favor(24, 3), causal: true }),
    2,
    1,
    130,
  ),
  lcase('relu Nq<Nk', linearAttention({ kernel: phi.relu() }), 1, 33, 200),
  // Heads, dims, layouts, batch.
  lcase(
    'elu1 GQA 4/2 causal',
    linearAttention({ kernel: phi.elu1(), causal: true, heads: 4, kvHeads: 2 }),
    2,
    65,
    65,
  ),
  lcase(
    'favor GQA 4/2',
    linearAttention({ kernel: phi.favor(32, 2), heads: 4, kvHeads: 2 }),
    2,
    70,
    130,
  ),
  lcase(
    'relu MQA 4/1 causal',
    linearAttention({ kernel: phi.relu(), causal: true, heads: 4, kvHeads: 1 }),
    1,
    130,
    130,
  ),
  lcase('elu1 value_dim 8', linearAttention({ kernel: phi.elu1(), valueDim: 8 }), 1, 65, 65),
  lcase(
    'elu1 causal head_dim 8 value_dim 24',
    linearAttention({ kernel: phi.elu1(), causal: true, headDim: 8, valueDim: 24 }),
    1,
    130,
    130,
  ),
  lcase(
    'favor causal value_dim 12',
    linearAttention({ kernel: phi.favor(20, 4), causal: true, valueDim: 12 }),
    1,
    100,
    100,
  ),
  lcase(
    'odd dims 5/3 causal (scalar)',
    linearAttention({ kernel: phi.elu1(), causal: true, headDim: 5, valueDim: 3 }),
    1,
    100,
    100,
  ),
  lcase('favor(7) odd features (scalar)', linearAttention({ kernel: phi.favor(7, 9) }), 1, 70, 70),
  lcase(
    'head_dim 64 causal',
    linearAttention({ kernel: phi.elu1(), causal: true, headDim: 64 }),
    1,
    130,
    130,
  ),
  lcase(
    'head_dim 80 (partial feature block)',
    linearAttention({ kernel: phi.relu(), causal: true, headDim: 80, valueDim: 16 }),
    1,
    70,
    70,
  ),
  lcase(
    'favor(100) causal (several feature blocks)',
    linearAttention({ kernel: phi.favor(100, 5), causal: true }),
    1,
    130,
    130,
  ),
  lcase('favor(100) full', linearAttention({ kernel: phi.favor(100, 5) }), 1, 70, 150),
  lcase(
    'bnhd causal',
    linearAttention({ kernel: phi.elu1(), causal: true, layout: 'bnhd', heads: 3 }),
    2,
    65,
    65,
  ),
  lcase(
    'bnhd GQA favor Nq<Nk',
    linearAttention({
      kernel: phi.favor(16, 8),
      layout: 'bnhd',
      heads: 4,
      kvHeads: 2,
      headDim: 8,
      causal: true,
    }),
    2,
    33,
    100,
  ),
  lcase('batch 3 full', linearAttention({ kernel: phi.elu1(), heads: 2 }), 3, 64, 64),
  lcase('large inputs relu', linearAttention({ kernel: phi.relu(), causal: true }), 1, 100, 100, {
    amplitude: 10,
  }),
  // dtype f16.
  lcase(
    'f16 elu1 causal',
    asF16(linearAttention({ kernel: phi.elu1(), causal: true })),
    1,
    130,
    130,
  ),
  lcase(
    'f16 favor bnhd GQA',
    asF16(
      linearAttention({
        kernel: phi.favor(16, 1),
        layout: 'bnhd',
        heads: 4,
        kvHeads: 2,
        valueDim: 8,
      }),
    ),
    2,
    40,
    70,
  ),
  // Linear groups next to softmax groups: each group writes its own heads of o.
  lcase(
    'groups: window softmax + elu1 linear, causal',
    attention({
      headDim: 16,
      causal: true,
      groups: [
        { name: 'local', heads: 2, kvHeads: 1, mask: m.window(8, 0) },
        { name: 'linear', heads: 2, kvHeads: 2, kernel: phi.elu1() },
      ],
    }),
    2,
    65,
    100,
  ),
  lcase(
    'groups: favor, softmax, relu (bnhd)',
    attention({
      headDim: 8,
      valueDim: 12,
      layout: 'bnhd',
      groups: [
        { name: 'fav', heads: 2, kvHeads: 1, kernel: phi.favor(12, 3) },
        { name: 'soft', heads: 1, kvHeads: 1, mask: m.or(m.window(4), m.sink(2)) },
        { name: 'rel', heads: 2, kvHeads: 2, kernel: phi.relu(), causal: true },
      ],
    }),
    1,
    70,
    70,
  ),
];
