// Hand-built CheckedAttention values for the reference tests (the checker is not needed:
// the reference's contract is src/check/checked.ts itself).

import type { CheckedAttention, CheckedGroup, MaskNode } from '../../src/check/checked.js';
import type { Span } from '../../src/base/span.js';

export const S: Span = { start: 0, end: 0 };

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
  cluster: (count: number): MaskNode => ({ kind: 'cluster', count, span: S }),
  lsh: (buckets: number, seed: number): MaskNode => ({ kind: 'lsh', buckets, seed, span: S }),
  or: (...terms: MaskNode[]): MaskNode => ({ kind: 'union', terms, span: S }),
  and: (...terms: MaskNode[]): MaskNode => ({ kind: 'intersect', terms, span: S }),
};

type GroupOptions = Partial<Omit<CheckedGroup, 'heads' | 'span' | 'name'>> & {
  heads: number;
  name?: string;
};

export function group(options: GroupOptions, headDim = 2): CheckedGroup {
  return {
    name: 'g',
    span: S,
    kvHeads: options.heads,
    headOffset: 0,
    kvHeadOffset: 0,
    causal: false,
    scale: 1 / Math.sqrt(headDim),
    mask: m.full(),
    ...options,
  };
}

type AttentionOptions = Partial<
  Omit<CheckedAttention, 'groups' | 'span' | 'name' | 'heads' | 'kvHeads'>
> & {
  headDim: number;
};

/** An attention whose groups are laid out one after another, as the checker does. */
export function attention(options: AttentionOptions, groups: CheckedGroup[]): CheckedAttention {
  let headOffset = 0;
  let kvHeadOffset = 0;
  const placed = groups.map((g) => {
    const at = { ...g, headOffset, kvHeadOffset };
    headOffset += g.heads;
    kvHeadOffset += g.kvHeads;
    return at;
  });
  return {
    name: 'a',
    span: S,
    heads: headOffset,
    kvHeads: kvHeadOffset,
    valueDim: options.headDim,
    layout: 'bhnd',
    dtype: 'f32',
    declaredGroups: groups.length > 1,
    ...options,
    groups: placed,
  };
}

/** A single-group attention. */
export function single(options: AttentionOptions & GroupOptions): CheckedAttention {
  const { headDim, valueDim, layout, dtype, maxSeq, headRouting, declaredGroups, ...groupOptions } =
    options;
  const top = Object.fromEntries(
    Object.entries({ valueDim, layout, dtype, maxSeq, headRouting, declaredGroups }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  return attention({ headDim, ...top }, [group(groupOptions, headDim)]);
}

/** Deterministic test data in [-amplitude, amplitude): a tiny LCG, independent of src/random. */
export function data(length: number, seed: number, amplitude = 1): Float32Array {
  let state = (seed * 2654435761 + 12345) >>> 0;
  return Float32Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.fround(((state / 2 ** 32) * 2 - 1) * amplitude);
  });
}

/** A grid as text, one row per query: '#' allowed, '.' masked. */
export function picture(grid: readonly (readonly boolean[])[]): string[] {
  return grid.map((row) => row.map((a) => (a ? '#' : '.')).join(''));
}

export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
): void {
  if (actual.length !== expected.length)
    throw new Error(`length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)))) {
      throw new Error(`element ${i}: ${a} differs from ${e} by more than ${tolerance}`);
    }
  }
}
