// The kernel test matrix: every static mask primitive alone and combined, score modifiers,
// GQA/MQA, value_dim, both layouts, batch, Nq <= Nk (decode included), fully masked rows
// and huge logits. Each case is compared with the CPU reference on every adapter.

import type { CheckedAttention } from '../../src/check/checked.js';
import {
  asF16,
  attention,
  m,
  makeProblem,
  packedSegments,
  randomFloats,
  type Problem,
} from './build.js';

export interface KernelCase {
  readonly name: string;
  readonly attention: CheckedAttention;
  readonly problem: () => Problem;
  /** Cheap enough for SwiftShader (~10x slower than llvmpipe). */
  readonly small: boolean;
}

const sizes = (batch: number, seqQ: number, seqK: number) => ({ batch, seqQ, seqK });

function kcase(
  name: string,
  a: CheckedAttention,
  shape: { batch: number; seqQ: number; seqK: number },
  options: {
    small?: boolean;
    segments?: 'packed' | 'scattered';
    amplitude?: number;
    seed?: number;
  } = {},
): KernelCase {
  return {
    name: `${name} [B=${shape.batch} Nq=${shape.seqQ} Nk=${shape.seqK}]`,
    attention: a,
    small: options.small ?? shape.seqK <= 300,
    problem: () => {
      const p = makeProblem(
        a,
        shape.batch,
        shape.seqQ,
        shape.seqK,
        options.seed ?? 7,
        options.amplitude ?? 1,
      );
      if (options.segments === 'packed')
        Object.assign(p, packedSegments(shape.batch, shape.seqQ, shape.seqK, 11));
      if (options.segments === 'scattered') {
        const r = randomFloats(shape.batch * (shape.seqQ + shape.seqK), 13);
        const ids = Array.from(r, (x) => Math.floor((x + 1) * 2));
        p.seg_q = Uint32Array.from(ids.slice(0, shape.batch * shape.seqQ));
        p.seg_k = Uint32Array.from(ids.slice(shape.batch * shape.seqQ));
      }
      return p;
    },
  };
}

export const KERNEL_CASES: readonly KernelCase[] = [
  // Dense at every size around the tile boundaries.
  ...[1, 2, 63, 64, 65, 257, 1000].map((n) =>
    kcase('full', attention({ mask: m.full() }), sizes(1, n, n), { small: n <= 257 }),
  ),
  kcase('causal', attention({ causal: true }), sizes(1, 257, 257)),
  kcase('causal Nq<Nk', attention({ causal: true }), sizes(1, 65, 257)),
  kcase('causal decode', attention({ causal: true }), sizes(1, 1, 1000), { small: true }),
  kcase('window decode', attention({ mask: m.window(40) }), sizes(2, 1, 257)),
  kcase('window(5)', attention({ mask: m.window(5) }), sizes(1, 257, 257)),
  kcase('window(5) N=1000', attention({ mask: m.window(5) }), sizes(1, 1000, 1000)),
  kcase('window(left 7, right 0)', attention({ mask: m.window(7, 0) }), sizes(1, 130, 200)),
  kcase('window(left 0, right 9)', attention({ mask: m.window(0, 9) }), sizes(1, 130, 130)),
  kcase('window & causal', attention({ mask: m.window(33), causal: true }), sizes(1, 200, 257)),
  kcase('dilated(4, 3)', attention({ mask: m.dilated(4, 3) }), sizes(1, 257, 257)),
  kcase('stride(5)', attention({ mask: m.stride(5) }), sizes(1, 100, 257)),
  kcase('global(first 2)', attention({ mask: m.global(2) }), sizes(1, 257, 257)),
  kcase('global(5, 100)', attention({ mask: m.global(0, [5, 100]) }), sizes(1, 257, 257)),
  kcase('global(first 3, 200)', attention({ mask: m.global(3, [200]) }), sizes(1, 120, 257)),
  kcase('sink(4)', attention({ mask: m.sink(4) }), sizes(1, 65, 65)),
  kcase('blocks(16)', attention({ mask: m.blocks(16) }), sizes(1, 257, 257)),
  kcase('blocks(50)', attention({ mask: m.blocks(50) }), sizes(1, 200, 257)),
  kcase('random(2, block 16)', attention({ mask: m.random(2, 16, 3) }), sizes(1, 257, 257)),
  kcase('random(3, block 40)', attention({ mask: m.random(3, 40, 9) }), sizes(2, 150, 257)),
  kcase(
    'random(20, block 8) all blocks',
    attention({ mask: m.random(20, 8, 1) }),
    sizes(1, 64, 64),
  ),
  kcase('segment packed', attention({ mask: m.segment() }), sizes(2, 257, 257), {
    segments: 'packed',
  }),
  kcase(
    'segment packed Nq<Nk',
    attention({ mask: m.segment(), causal: true }),
    sizes(2, 100, 257),
    { segments: 'packed' },
  ),
  kcase('segment scattered', attention({ mask: m.segment() }), sizes(1, 130, 200), {
    segments: 'scattered',
  }),
  // Unions and intersections.
  kcase(
    'longformer window | global',
    attention({ mask: m.or(m.window(16), m.global(1)) }),
    sizes(1, 257, 257),
  ),
  kcase(
    'window | sink, causal',
    attention({ mask: m.or(m.window(8), m.sink(4)), causal: true }),
    sizes(1, 257, 257),
  ),
  kcase(
    '(blocks & stride) | sink',
    attention({ mask: m.or(m.and(m.blocks(32), m.stride(2)), m.sink(1)) }),
    sizes(1, 200, 200),
  ),
  kcase(
    'window & segment',
    attention({ mask: m.and(m.window(32), m.segment()) }),
    sizes(1, 257, 257),
    { segments: 'packed' },
  ),
  kcase(
    'bigbird random | window | global',
    attention({ mask: m.or(m.random(2, 32, 5), m.window(20), m.global(2)) }),
    sizes(1, 257, 257),
  ),
  kcase(
    'overlapping windows merge',
    attention({ mask: m.or(m.window(4, 10), m.window(12, 2), m.dilated(8, 1)) }),
    sizes(1, 100, 100),
  ),
  kcase(
    'dilated | window & causal',
    attention({ mask: m.and(m.or(m.dilated(5, 4), m.window(3)), m.causal()) }),
    sizes(1, 150, 150),
  ),
  // Fully masked rows give 0.
  kcase(
    'fully masked rows',
    attention({ mask: m.global(0, [100]), causal: true }),
    sizes(1, 150, 150),
  ),
  kcase(
    'empty mask: window & stride none',
    attention({ mask: m.and(m.window(0, 0), m.sink(0)) }),
    sizes(1, 40, 40),
  ),
  kcase('segments that never match', attention({ mask: m.segment() }), sizes(1, 70, 70), {
    segments: 'scattered',
    seed: 2,
  }),
  // Score modifiers.
  kcase('softcap', attention({ softcap: 2, scale: 1 }), sizes(1, 100, 100), { amplitude: 3 }),
  kcase('alibi causal', attention({ bias: 'alibi', causal: true, heads: 4 }), sizes(1, 100, 100)),
  kcase(
    'softcap + alibi + window',
    attention({ softcap: 5, bias: 'alibi', mask: m.window(30), heads: 2 }),
    sizes(1, 130, 130),
  ),
  kcase('scale 0.5', attention({ scale: 0.5 }), sizes(1, 65, 65)),
  kcase('large logits |s|~1e4', attention({ scale: 1 }), sizes(1, 64, 64), { amplitude: 30 }),
  kcase(
    'large logits causal window',
    attention({ scale: 1, mask: m.window(10), causal: true }),
    sizes(1, 65, 65),
    { amplitude: 30 },
  ),
  kcase('large logits softcap', attention({ scale: 1, softcap: 50 }), sizes(1, 64, 64), {
    amplitude: 30,
  }),
  // Heads, dims, layouts, batch.
  kcase('GQA 4/2', attention({ heads: 4, kvHeads: 2, causal: true }), sizes(2, 65, 65)),
  kcase('MQA 4/1', attention({ heads: 4, kvHeads: 1, mask: m.window(7) }), sizes(1, 65, 130)),
  kcase('value_dim 8', attention({ headDim: 16, valueDim: 8 }), sizes(1, 65, 65)),
  kcase(
    'value_dim 24 head_dim 8',
    attention({ headDim: 8, valueDim: 24, causal: true }),
    sizes(1, 65, 65),
  ),
  kcase(
    'odd dims 5/3 (scalar loads)',
    attention({ headDim: 5, valueDim: 3, mask: m.window(9) }),
    sizes(1, 65, 65),
  ),
  kcase('head_dim 64', attention({ headDim: 64, causal: true }), sizes(1, 130, 130)),
  kcase('bnhd', attention({ layout: 'bnhd', heads: 3 }), sizes(2, 65, 65)),
  kcase(
    'bnhd GQA window Nq<Nk',
    attention({ layout: 'bnhd', heads: 4, kvHeads: 2, mask: m.window(12), headDim: 8 }),
    sizes(2, 33, 100),
  ),
  kcase('batch 2 blocks', attention({ mask: m.blocks(20) }), sizes(2, 100, 100)),
  kcase(
    'two groups',
    attention({
      groups: [
        { name: 'local', heads: 2, kvHeads: 1, mask: m.window(8), causal: true },
        { name: 'wide', heads: 2, kvHeads: 2, mask: m.or(m.sink(2), m.blocks(16)), bias: 'alibi' },
      ],
    }),
    sizes(2, 65, 65),
  ),
  // dtype f16: q, k, v, o stored as halves (packed two per u32: no adapter here has shader-f16).
  kcase('f16 full', asF16(attention()), sizes(1, 257, 257)),
  kcase('f16 causal decode', asF16(attention({ causal: true, headDim: 8 })), sizes(2, 1, 300)),
  kcase(
    'f16 bnhd GQA window',
    asF16(attention({ layout: 'bnhd', heads: 4, kvHeads: 2, mask: m.window(9), valueDim: 8 })),
    sizes(2, 65, 100),
  ),
  kcase(
    'f16 softcap alibi',
    asF16(attention({ softcap: 4, bias: 'alibi', heads: 2, causal: true })),
    sizes(1, 100, 100),
    { amplitude: 2 },
  ),
  kcase(
    'f16 segment | sink',
    asF16(attention({ mask: m.or(m.segment(), m.sink(2)) })),
    sizes(2, 100, 130),
    { segments: 'packed' },
  ),
];
