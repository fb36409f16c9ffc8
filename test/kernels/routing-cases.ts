// Kernel cases of the data-dependent masks (topk, cluster, lsh): alone, in unions and
// intersections with static masks, under causal, GQA, batch 2, bnhd, sizes from 1 to 4096.
// Shared by the llvmpipe and SwiftShader routing test files (one device per file).

import type { CheckedAttention, MaskNode } from '../../src/check/checked.js';
import { attention, m, makeProblem, randomFloats, type Problem } from './build.js';

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
  } = {},
): RoutingCase {
  return {
    name: `${name} [B=${batch} Nq=${seqQ} Nk=${seqK}]`,
    attention: a,
    small: seqK <= 300,
    ...(options.llvmpipeOnly ? { llvmpipeOnly: true } : {}),
    problem: () => {
      const p: RoutingProblem = makeProblem(a, batch, seqQ, seqK, options.seed ?? 3);
      const c = a.groups.map((g) => clusterCount(g.mask)).find((x) => x !== null);
      if (c !== undefined && c !== null) {
        p.centroids = options.centroids
          ? options.centroids(c)
          : randomFloats(a.kvHeads * c * a.headDim, 99);
      }
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
];

/** The routing examples through the public `compile()`; `heads` shrinks them for large N. */
export const ROUTING_EXAMPLES: readonly {
  file: string;
  heads?: number;
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
];
