import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Mask } from '../../src/ir/ir.js';
import { maskAllows } from '../../src/ir/mask.js';
import { printMask } from '../../src/ir/print.js';
import { maskContains, simplifyMask } from '../../src/passes/canonicalize-mask.js';

const S = { start: 0, end: 0 };
const band = (lo: number | null, hi: number | null): Mask => ({ kind: 'band', lo, hi, span: S });
const causal = band(null, 0);
const window = (w: number) => band(-w, w);
const or = (...terms: Mask[]): Mask => ({ kind: 'union', terms, span: S });
const and = (...terms: Mask[]): Mask => ({ kind: 'intersect', terms, span: S });
const sink = (count: number): Mask => ({ kind: 'sink', count, span: S });
const global = (first: number, positions: number[] = []): Mask => ({
  kind: 'global',
  first,
  positions,
  span: S,
});
const stride = (step: number): Mask => ({ kind: 'stride', step, span: S });
const dilated = (width: number, dilation: number): Mask => ({
  kind: 'dilated',
  width,
  dilation,
  span: S,
});
const blocks = (size: number): Mask => ({ kind: 'blocks', size, span: S });
const random = (count: number, block: number, seed: number): Mask => ({
  kind: 'random',
  count,
  block,
  seed,
  span: S,
});
const all: Mask = { kind: 'all', span: S };

const simplified = (mask: Mask) => printMask(simplifyMask(mask));

describe('canonicalizeMask', () => {
  it('folds causal into a window', () => {
    expect(simplified(and(window(8), causal))).toBe('band(-8..0)');
    expect(simplified(and(causal, band(-3, 5)))).toBe('band(-3..0)');
  });
  it('merges overlapping and adjacent windows of a union', () => {
    expect(simplified(or(band(-4, 10), band(-12, 2)))).toBe('band(-12..10)');
    expect(simplified(or(band(-4, -2), band(-1, 3)))).toBe('band(-4..3)');
    expect(simplified(or(band(-9, -6), band(-1, 3)))).toBe('band(-9..-6) | band(-1..3)');
    expect(simplified(or(causal, window(3)))).toBe('band(-inf..3)');
  });
  it('drops dominated terms', () => {
    expect(simplified(or(sink(2), global(4)))).toBe('global(first: 4)');
    expect(simplified(or(window(2), dilated(1, 2), stride(7)))).toBe('window(2) | stride(7)');
    expect(simplified(or(window(1), dilated(1, 2)))).toBe('window(1) | dilated(1, 2)');
    expect(simplified(and(stride(2), stride(4)))).toBe('stride(4)');
    expect(simplified(or(blocks(4), blocks(8)))).toBe('blocks(8)');
    expect(simplified(or(window(3), window(3)))).toBe('window(3)');
    expect(simplified(and(random(1, 8, 1), random(1, 8, 1)))).toBe('random(1, block: 8, seed: 1)');
  });
  it('simplifies degenerate leaves', () => {
    expect(simplified(stride(1))).toBe('full');
    expect(simplified(dilated(3, 1))).toBe('window(3)');
    expect(simplified(blocks(1))).toBe('window(0)');
    expect(simplified(sink(0))).toBe('none');
    expect(simplified(or(all, sink(3)))).toBe('full');
    expect(simplified(and(all, sink(3)))).toBe('sink(3)');
    expect(simplified(and(window(0), band(2, 5)))).toBe('none');
    expect(simplified(and(causal, band(null, null)))).toBe('causal');
  });
  it('decides containment conservatively', () => {
    expect(maskContains(window(4), dilated(2, 2))).toBe(true);
    expect(maskContains(window(3), dilated(2, 2))).toBe(false);
    expect(maskContains(stride(3), dilated(5, 6))).toBe(true);
    expect(maskContains(global(3, [9]), global(2, [9]))).toBe(true);
  });

  // Property: the simplified mask allows exactly what the original allows.
  const leaf: fc.Arbitrary<Mask> = fc.oneof(
    fc.constant(all),
    fc.constant(causal),
    fc
      .tuple(fc.integer({ min: -6, max: 6 }), fc.integer({ min: 0, max: 8 }))
      .map(([lo, w]) => band(lo, lo + w)),
    fc
      .tuple(fc.option(fc.integer({ min: -5, max: 5 })), fc.option(fc.integer({ min: -5, max: 5 })))
      .map(([a, b]) => band(a, b)),
    fc
      .tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 4 }))
      .map(([w, d]) => dilated(w, d)),
    fc.integer({ min: 1, max: 5 }).map(stride),
    fc
      .tuple(
        fc.integer({ min: 0, max: 3 }),
        fc.uniqueArray(fc.integer({ min: 3, max: 20 }), { maxLength: 2 }),
      )
      .map(([f, ps]) =>
        global(
          f,
          [...ps].sort((a, b) => a - b),
        ),
      ),
    fc.integer({ min: 0, max: 5 }).map(sink),
    fc.integer({ min: 1, max: 8 }).map(blocks),
    fc
      .tuple(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 0, max: 9 }),
      )
      .map(([c, b, s]) => random(c, b, s)),
  );
  const mask: fc.Arbitrary<Mask> = fc.letrec<{ node: Mask }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((terms) => or(...terms)),
      fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((terms) => and(...terms)),
    ),
  })).node;

  it('preserves allowed(p, j) on every position (property)', () => {
    fc.assert(
      fc.property(
        mask,
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 0, max: 23 }),
        (m, seqK, back) => {
          const seqQ = Math.max(1, seqK - back);
          const after = simplifyMask(m);
          for (let i = 0; i < seqQ; i++) {
            const p = i + seqK - seqQ;
            for (let j = 0; j < seqK; j++) {
              const at = { i, p, j, seqK };
              if (maskAllows(m, at) !== maskAllows(after, at)) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 400 },
    );
  });
});
