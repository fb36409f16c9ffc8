// Hand-built CheckedAttention values for compiler and kernel tests (no parser needed), plus
// deterministic inputs. Masks are written with the small constructors below.

import type { CheckedAttention, CheckedGroup, MaskNode } from '../../src/check/checked.js';

const S = { start: 0, end: 0 };

export const m = {
  full: (): MaskNode => ({ kind: 'full', span: S }),
  causal: (): MaskNode => ({ kind: 'causal', span: S }),
  window: (left: number, right = left): MaskNode => ({ kind: 'window', left, right, span: S }),
  dilated: (width: number, dilation: number): MaskNode => ({
    kind: 'dilated',
    width,
    dilation,
    span: S,
  }),
  stride: (step: number): MaskNode => ({ kind: 'stride', step, span: S }),
  global: (first: number, positions: number[] = []): MaskNode => ({
    kind: 'global',
    first,
    positions,
    span: S,
  }),
  sink: (count: number): MaskNode => ({ kind: 'sink', count, span: S }),
  blocks: (size: number): MaskNode => ({ kind: 'blocks', size, span: S }),
  random: (count: number, block: number, seed: number): MaskNode => ({
    kind: 'random',
    count,
    block,
    seed,
    span: S,
  }),
  segment: (): MaskNode => ({ kind: 'segment', span: S }),
  topk: (k: number, block: number): MaskNode => ({ kind: 'topk', k, block, span: S }),
  or: (...terms: MaskNode[]): MaskNode => ({ kind: 'union', terms, span: S }),
  and: (...terms: MaskNode[]): MaskNode => ({ kind: 'intersect', terms, span: S }),
};

export interface AttentionOptions {
  name?: string;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  valueDim?: number;
  layout?: 'bhnd' | 'bnhd';
  mask?: MaskNode;
  causal?: boolean;
  scale?: number;
  softcap?: number;
  bias?: 'alibi';
  maxSeq?: number;
  groups?: Partial<Omit<CheckedGroup, 'headOffset' | 'kvHeadOffset' | 'span'>>[];
}

export function attention(o: AttentionOptions = {}): CheckedAttention {
  const headDim = o.headDim ?? 16;
  const base = {
    causal: o.causal ?? false,
    scale: o.scale ?? 1 / Math.sqrt(headDim),
    mask: o.mask ?? m.full(),
    ...(o.softcap !== undefined ? { softcap: o.softcap } : {}),
    ...(o.bias !== undefined ? { bias: o.bias } : {}),
  };
  const specs = o.groups ?? [
    { name: o.name ?? 'attn', heads: o.heads ?? 1, kvHeads: o.kvHeads ?? o.heads ?? 1 },
  ];
  let headOffset = 0;
  let kvHeadOffset = 0;
  const groups: CheckedGroup[] = specs.map((g, n) => {
    const heads = g.heads ?? 1;
    const kvHeads = g.kvHeads ?? heads;
    const group: CheckedGroup = {
      ...base,
      ...g,
      name: g.name ?? `g${n}`,
      span: S,
      heads,
      kvHeads,
      headOffset,
      kvHeadOffset,
    } as CheckedGroup;
    headOffset += heads;
    kvHeadOffset += kvHeads;
    return group;
  });
  return {
    name: o.name ?? 'attn',
    span: S,
    heads: headOffset,
    kvHeads: kvHeadOffset,
    headDim,
    valueDim: o.valueDim ?? headDim,
    layout: o.layout ?? 'bhnd',
    dtype: 'f32',
    ...(o.maxSeq !== undefined ? { maxSeq: o.maxSeq } : {}),
    declaredGroups: o.groups !== undefined,
    groups,
  };
}

/** Deterministic values in [-amplitude, amplitude) (xorshift32). */
export function randomFloats(count: number, seed: number, amplitude = 1): Float32Array {
  const out = new Float32Array(count);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let n = 0; n < count; n++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[n] = ((x / 4294967296) * 2 - 1) * amplitude;
  }
  return out;
}

export interface Problem {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  batch: number;
  seqQ: number;
  seqK: number;
  seg_q?: Uint32Array;
  seg_k?: Uint32Array;
}

export function makeProblem(
  a: CheckedAttention,
  batch: number,
  seqQ: number,
  seqK: number,
  seed = 1,
  amplitude = 1,
): Problem {
  const problem: Problem = {
    q: randomFloats(batch * a.heads * seqQ * a.headDim, seed, amplitude),
    k: randomFloats(batch * a.kvHeads * seqK * a.headDim, seed + 1, amplitude),
    v: randomFloats(batch * a.kvHeads * seqK * a.valueDim, seed + 2),
    batch,
    seqQ,
    seqK,
  };
  return problem;
}

/** Sorted segment ids (packed sequences) of random lengths, aligned so seg_q is seg_k's tail. */
export function packedSegments(
  batch: number,
  seqQ: number,
  seqK: number,
  seed: number,
): { seg_q: Uint32Array; seg_k: Uint32Array } {
  const seg_k = new Uint32Array(batch * seqK);
  const seg_q = new Uint32Array(batch * seqQ);
  const r = randomFloats(batch * seqK, seed);
  for (let b = 0; b < batch; b++) {
    let id = 0;
    for (let j = 0; j < seqK; j++) {
      if (j > 0 && r[b * seqK + j]! > 0.9) id++;
      seg_k[b * seqK + j] = id;
    }
    for (let i = 0; i < seqQ; i++) seg_q[b * seqQ + i] = seg_k[b * seqK + i + seqK - seqQ]!;
  }
  return { seg_q, seg_k };
}

/** The same attention with `dtype: f16`. */
export function asF16(a: CheckedAttention): CheckedAttention {
  return { ...a, dtype: 'f16' };
}
