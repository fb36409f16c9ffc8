// Kernel cases of the data-dependent masks (topk, cluster, lsh): alone, in unions and
// intersections with static masks, `random` and `segment`, under causal, GQA, batch 2, bnhd,
// sizes from 1 to 4096, dtype f32 and f16 (with routing ties that exist only after rounding).
// Shared by the llvmpipe and SwiftShader routing test files (one device per file).

import type { CheckedAttention, MaskNode } from '../../src/check/checked.js';
import { roundToF16 } from '../../src/reference/index.js';
import {
  asF16,
  attention,
  m,
  makeProblem,
  packedSegments,
  randomFloats,
  type Problem,
} from './build.js';

const S = { start: 0, end: 0 };
export const r = {
  topk: m.topk,
  cluster: (count: number): MaskNode => ({ kind: 'cluster', count, span: S }),
  lsh: (buckets: number, seed: number): MaskNode => ({ kind: 'lsh', buckets, seed, span: S }),
};

export interface RoutingProblem extends Problem {
  centroids?: Float32Array;
}

export interface RoutingCase {
  readonly name: string;
  readonly attention: CheckedAttention;
  readonly problem: () => RoutingProblem;
  /** Cheap enough for SwiftShader. */
  readonly small: boolean;
  /** Only on llvmpipe (large N). */
  readonly llvmpipeOnly?: boolean;
}

function clusterCount(mask: MaskNode): number | null {
  if (mask.kind === 'cluster') return mask.count;
  if (mask.kind === 'union' || mask.kind === 'intersect') {
    for (const t of mask.terms) {
      const c = clusterCount(t);
      if (c !== null) return c;
    }
  }
  return null;
}

export function rcase(
  name: string,
  a: CheckedAttention,
  batch: number,
  seqQ: number,
  seqK: number,
  options: {
    seed?: number;
    centroids?: (count: number) => Float32Array;
    llvmpipeOnly?: boolean;
    /** Run on SwiftShader too even past 300 keys. */
    small?: boolean;
    /** seg_q/seg_k: sorted ids (packed sequences) or ids in {0..3} scattered at random. */
    segments?: 'packed' | 'scattered';
    /** Rewrites the random inputs (routing ties). */
    tweak?: (p: RoutingProblem) => void;
  } = {},
): RoutingCase {
  return {
    name: `${name} [B=${batch} Nq=${seqQ} Nk=${seqK}]`,
    attention: a,
    small: options.small ?? seqK <= 300,
    ...(options.llvmpipeOnly ? { llvmpipeOnly: true } : {}),
    problem: () => {
      const p: RoutingProblem = makeProblem(a, batch, seqQ, seqK, options.seed ?? 3);
      const c = a.groups.map((g) => clusterCount(g.mask)).find((x) => x !== null);
      if (c !== undefined && c !== null) {
        p.centroids = options.centroids
          ? options.centroids(c)
          : randomFloats(a.kvHeads * c * a.headDim, 99);
      }
      if (options.segments === 'packed') Object.assign(p, packedSegments(batch, seqQ, seqK, 11));
      if (options.segments === 'scattered') {
        const ids = Array.from(randomFloats(batch * (seqQ + seqK), 13), (x) =>
          Math.floor((x + 1) * 2),
        );
        p.seg_q = Uint32Array.from(ids.slice(0, batch * seqQ));
        p.seg_k = Uint32Array.from(ids.slice(batch * seqQ));
      }
      options.tweak?.(p);
      return p;
    },
  };
}

const topk = r.topk;
const cl = r.cluster;
const lsh = r.lsh;

export const ROUTING_CASES: RoutingCase[] = [
  // topk alone, causal, ragged last block, early blocks with fewer than k candidates.
  rcase('topk(2, 16)', attention({ mask: topk(2, 16) }), 1, 100, 100),
  rcase('topk(3, 8) causal', attention({ mask: topk(3, 8), causal: true }), 1, 63, 63),
  rcase('topk(2, 16) N=1', attention({ mask: topk(2, 16) }), 1, 1, 1),
  rcase('topk(2, 16) N=2 causal', attention({ mask: topk(2, 16), causal: true }), 1, 2, 2),
  rcase('topk(4, 16) causal N=65', attention({ mask: topk(4, 16), causal: true }), 1, 65, 65),
  rcase(
    'topk(2, 32) & causal term',
    attention({ mask: m.and(topk(2, 32), m.causal()) }),
    1,
    257,
    257,
  ),
  rcase(
    'window(8) | topk(2, 16)',
    attention({ mask: m.or(m.window(8), topk(2, 16)) }),
    1,
    257,
    257,
  ),
  rcase(
    'sink(4) | window(8) | topk(2, 16) causal',
    attention({ mask: m.or(m.sink(4), m.window(8), topk(2, 16)), causal: true }),
    1,
    257,
    257,
  ),
  rcase(
    'topk(2, 16) GQA 4/2 batch 2 bnhd',
    attention({ mask: topk(2, 16), heads: 4, kvHeads: 2, layout: 'bnhd' }),
    2,
    65,
    65,
  ),
  rcase(
    'topk(3, 32) decode Nq=1 causal',
    attention({ mask: topk(3, 32), causal: true }),
    1,
    1,
    257,
  ),
  rcase('topk(2, 16) Nq<Nk', attention({ mask: topk(2, 16) }), 1, 40, 130),
  rcase(
    'topk(3, 16) odd dims D=6 softcap alibi',
    attention({ mask: topk(3, 16), headDim: 6, valueDim: 5, softcap: 5, bias: 'alibi' }),
    1,
    100,
    100,
  ),
  rcase('topk(4, 64) N=1000 causal', attention({ mask: topk(4, 64), causal: true }), 1, 1000, 1000),
  rcase(
    'window(64) | topk(4, 64) N=4096',
    attention({ mask: m.or(m.window(64), topk(4, 64)), headDim: 64 }),
    1,
    4096,
    4096,
    { llvmpipeOnly: true },
  ),
  // cluster
  rcase('cluster(4)', attention({ mask: cl(4) }), 1, 100, 100),
  rcase('cluster(4) causal', attention({ mask: cl(4), causal: true }), 1, 63, 63),
  rcase('cluster(3) N=1', attention({ mask: cl(3) }), 1, 1, 1),
  rcase('cluster(3) N=2', attention({ mask: cl(3) }), 1, 2, 2),
  rcase(
    'cluster(4) empty clusters (zero centroids but one)',
    attention({ mask: cl(4) }),
    1,
    65,
    65,
    {
      // mu_0 = mu_1 = 0 tie everywhere: argmax goes to t = 0 or to the one non-zero centroid 3,
      // so clusters 1 and 2 are empty; equal scores exercise tie-breaking.
      centroids: (c) => {
        const out = new Float32Array(1 * c * 16);
        for (let d = 0; d < 16; d++) out[3 * 16 + d] = d % 2 === 0 ? 1 : -1;
        return out;
      },
    },
  ),
  rcase(
    'window(left: 16, right: 0) | cluster(4) causal (routing transformer shape)',
    attention({ mask: m.or(m.window(16, 0), cl(4)), causal: true }),
    1,
    257,
    257,
  ),
  rcase('cluster(4) & window(32)', attention({ mask: m.and(cl(4), m.window(32)) }), 1, 130, 130),
  rcase('cluster(4) GQA 4/2 batch 2', attention({ mask: cl(4), heads: 4, kvHeads: 2 }), 2, 65, 65),
  rcase('cluster(8) N=1000', attention({ mask: cl(8), headDim: 32 }), 1, 1000, 1000),
  rcase(
    'cluster(16) | window(64) causal N=4096',
    attention({ mask: m.or(m.window(64, 0), cl(16)), causal: true, headDim: 64 }),
    1,
    4096,
    4096,
    { llvmpipeOnly: true },
  ),
  // lsh
  rcase('lsh(8, 7)', attention({ mask: lsh(8, 7) }), 1, 100, 100),
  rcase('lsh(4, 1) causal', attention({ mask: lsh(4, 1), causal: true }), 1, 65, 65),
  rcase('lsh(2, 3) N=1', attention({ mask: lsh(2, 3) }), 1, 1, 1),
  rcase('lsh(16, 5) N=2', attention({ mask: lsh(16, 5) }), 1, 2, 2),
  rcase('sink(2) | lsh(8, 7)', attention({ mask: m.or(m.sink(2), lsh(8, 7)) }), 1, 257, 257),
  rcase(
    'lsh(4, 2) GQA 4/1 batch 2 bnhd',
    attention({ mask: lsh(4, 2), heads: 4, kvHeads: 1, layout: 'bnhd' }),
    2,
    63,
    63,
  ),
  rcase('lsh(32, 7) N=1000', attention({ mask: lsh(32, 7), headDim: 32 }), 1, 1000, 1000),
  // several routed leaves together
  rcase(
    'topk(2, 16) | cluster(4) | lsh(4, 9)',
    attention({ mask: m.or(topk(2, 16), cl(4), lsh(4, 9)) }),
    1,
    100,
    100,
  ),
  rcase(
    'topk(2, 16) & lsh(2, 9) causal',
    attention({ mask: m.and(topk(2, 16), lsh(2, 9)), causal: true }),
    1,
    100,
    100,
  ),
  // Split-K decode (Nq <= 16): keys cut by position into min(16, ceil(Nk / 256)) splits, each
  // repeating the row's decision; Nk from one split to all 16 and past (splits grow).
  rcase('split-K topk(4, 64) causal', attention({ mask: topk(4, 64), causal: true }), 1, 1, 3000),
  rcase(
    'split-K topk(2, 32) causal GQA 4/2 bnhd',
    attention({ mask: topk(2, 32), causal: true, heads: 4, kvHeads: 2, layout: 'bnhd' }),
    2,
    4,
    1500,
  ),
  rcase('split-K topk(3, 16) one split', attention({ mask: topk(3, 16), causal: true }), 1, 4, 200),
  rcase('split-K cluster(4) causal', attention({ mask: cl(4), causal: true }), 1, 1, 2000),
  rcase(
    'split-K window(left: 64, right: 0) | cluster(4) causal',
    attention({ mask: m.or(m.window(64, 0), cl(4)), causal: true, heads: 4, kvHeads: 2 }),
    1,
    4,
    1300,
  ),
  rcase('split-K lsh(8, 3)', attention({ mask: lsh(8, 3) }), 1, 4, 2000),
  rcase('split-K lsh(4, 5) causal', attention({ mask: lsh(4, 5), causal: true }), 1, 1, 700),
  rcase(
    'split-K topk(4, 64) causal, long',
    attention({ mask: topk(4, 64), causal: true }),
    1,
    1,
    20_000,
    { llvmpipeOnly: true },
  ),
  rcase('split-K cluster(8) causal, long', attention({ mask: cl(8), causal: true }), 1, 4, 16_000, {
    llvmpipeOnly: true,
  }),
  rcase(
    'split-K lsh(16, 2) causal, long',
    attention({ mask: lsh(16, 2), causal: true }),
    1,
    1,
    16_000,
    {
      llvmpipeOnly: true,
    },
  ),
];

/**
 * Every third row of q and k (rows of `D` values) scaled by 1e-9: exactly 0 in f16, so all of
 * that row's routing scores tie at 0 (topk: the lowest blocks; cluster 0; lsh bucket 0), while
 * the unrounded values would route by their signs.
 */
function tinyRows(D: number): (p: RoutingProblem) => void {
  return (p) => {
    for (const x of [p.q, p.k])
      for (let row = 0; row * D < x.length; row += 3)
        for (let d = 0; d < D; d++) x[row * D + d]! *= 1e-9;
  };
}

/**
 * Key block 1 a copy of key block 0 (one kv head, bhnd) scaled by 1 + 1e-4, less than half an
 * f16 ulp: in f16 both blocks hold the same values, so their means tie exactly and topk keeps
 * block 0; unrounded, block 1 would win wherever the score is positive. Both blocks lean
 * along +1 so they are the best candidates of many rows.
 */
function twinBlocks(D: number, block: number): (p: RoutingProblem) => void {
  return (p) => {
    for (let x = 0; x < block * D; x++) {
      const value = roundToF16(0.5 + 0.25 * p.k[x]!);
      p.k[x] = value;
      p.k[block * D + x] = value * (1 + 1e-4);
    }
  };
}

/** Routing ties that only exist in the f16-rounded inputs (the reference routes on those). */
export const ROUTING_TIE_CASES: RoutingCase[] = [
  rcase(
    'f16 ties: twin key blocks, topk(1, 16)',
    asF16(attention({ mask: topk(1, 16) })),
    1,
    64,
    64,
    {
      tweak: twinBlocks(16, 16),
    },
  ),
  rcase(
    'f16 ties: twin key blocks, window(4) | topk(1, 16) causal',
    asF16(attention({ mask: m.or(m.window(4), topk(1, 16)), causal: true })),
    1,
    100,
    100,
    { tweak: twinBlocks(16, 16) },
  ),
  rcase(
    'f16 ties: rows zero in f16, topk(2, 16)',
    asF16(attention({ mask: topk(2, 16) })),
    1,
    100,
    100,
    {
      tweak: tinyRows(16),
    },
  ),
  rcase('f16 ties: rows zero in f16, cluster(4)', asF16(attention({ mask: cl(4) })), 1, 100, 100, {
    tweak: tinyRows(16),
  }),
  rcase(
    'f16 ties: rows zero in f16, lsh(8, 7)',
    asF16(attention({ mask: lsh(8, 7) })),
    1,
    100,
    100,
    {
      tweak: tinyRows(16),
    },
  ),
];

ROUTING_CASES.push(
  // dtype f16 (q, k, v, o packed two halves per u32): every routed kind, causal and not, GQA,
  // N in {1, 63, 257, 1000}.
  rcase('f16 topk(2, 16) N=1', asF16(attention({ mask: topk(2, 16) })), 1, 1, 1),
  rcase('f16 topk(3, 16) causal', asF16(attention({ mask: topk(3, 16), causal: true })), 1, 63, 63),
  rcase(
    'f16 window(8) | topk(2, 32) GQA 4/2 bnhd',
    asF16(
      attention({ mask: m.or(m.window(8), topk(2, 32)), heads: 4, kvHeads: 2, layout: 'bnhd' }),
    ),
    1,
    257,
    257,
  ),
  rcase(
    'f16 topk(4, 64) causal N=1000',
    asF16(attention({ mask: topk(4, 64), causal: true })),
    1,
    1000,
    1000,
    { small: true },
  ),
  rcase(
    'f16 topk(2, 16) Nq<Nk value_dim 8',
    asF16(attention({ mask: topk(2, 16), valueDim: 8 })),
    1,
    40,
    130,
  ),
  rcase('f16 cluster(3) N=1', asF16(attention({ mask: cl(3) })), 1, 1, 1),
  rcase('f16 cluster(4) causal', asF16(attention({ mask: cl(4), causal: true })), 1, 63, 63),
  rcase(
    'f16 cluster(4) GQA 4/2 batch 2',
    asF16(attention({ mask: cl(4), heads: 4, kvHeads: 2 })),
    2,
    257,
    257,
  ),
  rcase('f16 cluster(8) N=1000', asF16(attention({ mask: cl(8), headDim: 32 })), 1, 1000, 1000, {
    small: true,
  }),
  rcase('f16 lsh(2, 3) N=1', asF16(attention({ mask: lsh(2, 3) })), 1, 1, 1),
  rcase(
    'f16 lsh(4, 1) causal GQA 4/1 bnhd',
    asF16(attention({ mask: lsh(4, 1), causal: true, heads: 4, kvHeads: 1, layout: 'bnhd' })),
    1,
    63,
    63,
  ),
  rcase('f16 lsh(8, 7)', asF16(attention({ mask: lsh(8, 7) })), 1, 257, 257),
  rcase(
    'f16 lsh(16, 5) causal N=1000',
    asF16(attention({ mask: lsh(16, 5), causal: true, headDim: 32 })),
    1,
    1000,
    1000,
    { small: true },
  ),
  ...ROUTING_TIE_CASES,
  // random: a union term is a source of its own (its drawn blocks); segment filters.
  rcase(
    'topk(1, 32) | random(2, 32, 1)',
    attention({ mask: m.or(topk(1, 32), m.random(2, 32, 1)) }),
    1,
    257,
    257,
  ),
  rcase(
    'topk(2, 32) | random(2, 32, 1) causal',
    attention({ mask: m.or(topk(2, 32), m.random(2, 32, 1)), causal: true }),
    1,
    257,
    257,
  ),
  rcase(
    'topk(4, 64) | random(2, 64, 1) N=1000',
    attention({ mask: m.or(topk(4, 64), m.random(2, 64, 1)) }),
    1,
    1000,
    1000,
    { small: true },
  ),
  rcase(
    'topk(2, 16) | random(3, 16, 9) Nq<Nk',
    attention({ mask: m.or(topk(2, 16), m.random(3, 16, 9)) }),
    1,
    40,
    130,
  ),
  rcase(
    'cluster(4) | random(1, 16, 5)',
    attention({ mask: m.or(cl(4), m.random(1, 16, 5)) }),
    1,
    130,
    130,
  ),
  rcase(
    'lsh(8, 3) | random(2, 32, 2) causal GQA 4/2',
    attention({ mask: m.or(lsh(8, 3), m.random(2, 32, 2)), causal: true, heads: 4, kvHeads: 2 }),
    1,
    257,
    257,
  ),
  rcase(
    'topk(2, 16) | (random(2, 16, 4) & causal)',
    attention({ mask: m.or(topk(2, 16), m.and(m.random(2, 16, 4), m.causal())) }),
    1,
    100,
    100,
  ),
  rcase(
    'random(3, 16, 2) & lsh(4, 5)',
    attention({ mask: m.and(m.random(3, 16, 2), lsh(4, 5)) }),
    1,
    100,
    100,
  ),
  rcase(
    'segment & cluster(8) packed',
    attention({ mask: m.and(m.segment(), cl(8)) }),
    1,
    257,
    257,
    { segments: 'packed' },
  ),
  rcase(
    'segment & topk(2, 16) causal scattered',
    attention({ mask: m.and(m.segment(), topk(2, 16)), causal: true }),
    1,
    130,
    130,
    { segments: 'scattered' },
  ),
  rcase(
    'segment & lsh(4, 1) GQA 4/2 batch 2 Nq<Nk',
    attention({ mask: m.and(m.segment(), lsh(4, 1)), heads: 4, kvHeads: 2 }),
    2,
    50,
    65,
    { segments: 'packed' },
  ),
  rcase(
    '(window(64) | lsh(8, 3)) & segment',
    attention({ mask: m.and(m.or(m.window(64), lsh(8, 3)), m.segment()) }),
    1,
    257,
    257,
    { segments: 'packed' },
  ),
  rcase('segment | topk(2, 16)', attention({ mask: m.or(m.segment(), topk(2, 16)) }), 1, 100, 100, {
    segments: 'scattered',
  }),
  rcase(
    'window(16) | random(2, 32, 7) | topk(2, 32)',
    attention({ mask: m.or(m.window(16), m.random(2, 32, 7), topk(2, 32)) }),
    1,
    257,
    257,
  ),
  rcase(
    'window(16) | random(2, 64, 7) | cluster(4) causal N=1000',
    attention({ mask: m.or(m.window(16), m.random(2, 64, 7), cl(4)), causal: true }),
    1,
    1000,
    1000,
    { small: true },
  ),
  // f16 with random and segment together.
  rcase(
    'f16 (topk(2, 32) | random(2, 32, 1)) & segment',
    asF16(attention({ mask: m.and(m.or(topk(2, 32), m.random(2, 32, 1)), m.segment()) })),
    1,
    257,
    257,
    { segments: 'packed' },
  ),
  rcase(
    'f16 (segment & cluster(4)) | random(1, 16, 3) causal',
    asF16(attention({ mask: m.or(m.and(m.segment(), cl(4)), m.random(1, 16, 3)), causal: true })),
    1,
    100,
    100,
    { segments: 'scattered' },
  ),
  rcase(
    'f16 window(8) | random(2, 16, 5) | lsh(4, 2) bnhd GQA 4/2 batch 2',
    asF16(
      attention({
        mask: m.or(m.window(8), m.random(2, 16, 5), lsh(4, 2)),
        heads: 4,
        kvHeads: 2,
        layout: 'bnhd',
      }),
    ),
    2,
    65,
    65,
  ),
);

/**
 * The routing examples through the public `compile()`; `heads` shrinks them for large N,
 * `dtype` and `mask` rewrite the source text (the user-facing spelling of the combinations).
 */
export const ROUTING_EXAMPLES: readonly {
  file: string;
  heads?: number;
  dtype?: 'f16';
  mask?: string;
  sizes: { llvmpipe: [number, number][]; swiftshader: [number, number][] };
}[] = [
  {
    file: 'moba.attn',
    sizes: {
      llvmpipe: [
        [1, 1],
        [65, 65],
        [1, 600],
      ],
      swiftshader: [[63, 63]],
    },
  },
  // 3 blocks of 512 and a ragged one: the causal top-3 actually chooses.
  { file: 'moba.attn', heads: 1, sizes: { llvmpipe: [[1600, 1600]], swiftshader: [[1, 1100]] } },
  {
    file: 'routing_transformer.attn',
    sizes: {
      llvmpipe: [
        [1, 1],
        [257, 257],
        [1, 300],
      ],
      swiftshader: [[65, 65]],
    },
  },
  {
    file: 'routing_transformer.attn',
    heads: 1,
    sizes: { llvmpipe: [[1000, 1000]], swiftshader: [] },
  },
  {
    file: 'reformer.attn',
    sizes: {
      llvmpipe: [
        [1, 1],
        [257, 257],
        [2, 300],
      ],
      swiftshader: [[65, 65]],
    },
  },
  { file: 'reformer.attn', heads: 1, sizes: { llvmpipe: [[1000, 1000]], swiftshader: [] } },
  {
    file: 'moba.attn',
    heads: 2,
    dtype: 'f16',
    sizes: {
      llvmpipe: [
        [1, 1],
        [1100, 1100],
      ],
      swiftshader: [[600, 600]],
    },
  },
  {
    file: 'reformer.attn',
    heads: 2,
    dtype: 'f16',
    sizes: { llvmpipe: [[257, 257]], swiftshader: [[65, 65]] },
  },
  {
    file: 'routing_transformer.attn',
    heads: 2,
    dtype: 'f16',
    sizes: { llvmpipe: [[300, 300]], swiftshader: [[65, 65]] },
  },
  {
    file: 'moba.attn',
    heads: 1,
    mask: 'topk(4, block: 64) | random(2, block: 64, seed: 1)',
    sizes: { llvmpipe: [[600, 600]], swiftshader: [[300, 300]] },
  },
  {
    file: 'routing_transformer.attn',
    heads: 1,
    mask: 'segment & cluster(8)',
    sizes: { llvmpipe: [[600, 600]], swiftshader: [[300, 300]] },
  },
  {
    file: 'reformer.attn',
    heads: 1,
    dtype: 'f16',
    mask: '(window(64) | lsh(buckets: 8, seed: 3)) & segment',
    sizes: { llvmpipe: [[600, 600]], swiftshader: [[300, 300]] },
  },
];
