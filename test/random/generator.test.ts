import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  fmix32,
  gaussianMatrix,
  randomBlocks,
  randomGaussian,
  randomU32,
  randomUniform,
  randomUniformOpen,
  GAUSSIAN_STREAM,
} from '../../src/random/index.js';

// Golden values were cross-checked with an independent Python implementation of docs/random.md.
describe('counter-based generator', () => {
  it('uses the murmur3 finalizer', () => {
    expect([0, 1, 2, 0xdeadbeef].map(fmix32)).toEqual([0, 1364076727, 821347078, 233162409]);
  });

  it('gives the documented u32 values', () => {
    expect([0, 1, 2, 3].map((c) => randomU32(0, 0, c))).toEqual([
      1380512277, 2739429585, 3148918479, 2643829696,
    ]);
    expect([0, 1, 2, 3].map((c) => randomU32(42, 7, c))).toEqual([
      665574812, 474539973, 2272478319, 1699611519,
    ]);
  });

  it('gives the documented uniforms', () => {
    expect([0, 1, 2, 3].map((c) => randomUniform(0, 0, c))).toEqual([
      0.32142555713653564, 0.6378231048583984, 0.7331646680831909, 0.6155645251274109,
    ]);
  });

  it('gives the documented Gaussians, row-major in one stream', () => {
    const w = gaussianMatrix(1, 2, 3);
    expect(Array.from(w)).toEqual([
      -1.1950774192810059, 1.464951515197754, -1.2160133123397827, -1.1712294816970825,
      -0.5684258937835693, -1.1102744340896606,
    ]);
    expect(randomGaussian(1, GAUSSIAN_STREAM, 4)).toBe(w[4]);
    // A matrix is a prefix of the stream: the shape only decides where rows break.
    expect(Array.from(gaussianMatrix(1, 3, 2))).toEqual(Array.from(w));
  });

  it('is deterministic and depends on every argument', () => {
    expect(randomU32(5, 6, 7)).toBe(randomU32(5, 6, 7));
    expect(Array.from(gaussianMatrix(3, 4, 5))).toEqual(Array.from(gaussianMatrix(3, 4, 5)));
    const base = randomU32(5, 6, 7);
    expect(randomU32(4, 6, 7)).not.toBe(base);
    expect(randomU32(5, 5, 7)).not.toBe(base);
    expect(randomU32(5, 6, 6)).not.toBe(base);
  });

  it('treats arguments mod 2^32', () => {
    expect(randomU32(-1, 0, 0)).toBe(randomU32(0xffffffff, 0, 0));
    expect(randomU32(2 ** 32 + 3, 0, 0)).toBe(randomU32(3, 0, 0));
  });

  it('keeps uniforms in range and float32-exact', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), (seed, stream, counter) => {
        const u = randomUniform(seed, stream, counter);
        const open = randomUniformOpen(seed, stream, counter);
        return (
          u >= 0 && u < 1 && open > 0 && open <= 1 && Math.fround(u) === u && open - u === 2 ** -24
        );
      }),
    );
  });

  it('draws standard normals', () => {
    const samples = gaussianMatrix(11, 200, 100);
    const n = samples.length;
    const mean = samples.reduce((s, x) => s + x, 0) / n;
    const variance = samples.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(samples.every((x) => Number.isFinite(x) && Math.fround(x) === x)).toBe(true);
  });
});

describe('randomBlocks', () => {
  it('gives the documented blocks', () => {
    expect([0, 1, 2, 3].map((qb) => randomBlocks(7, qb, 3, 10))).toEqual([
      [1, 2, 8],
      [4, 6, 7],
      [0, 2, 7],
      [0, 2, 7],
    ]);
  });

  it('draws r distinct sorted blocks in range', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat({ max: 1000 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        (seed, qb, r, n) => {
          const blocks = randomBlocks(seed, qb, r, n);
          expect(blocks.length).toBe(Math.min(r, n));
          expect(new Set(blocks).size).toBe(blocks.length);
          expect(blocks.every((b) => Number.isInteger(b) && b >= 0 && b < n)).toBe(true);
          expect([...blocks].sort((a, b) => a - b)).toEqual(blocks);
        },
      ),
    );
  });

  it('returns every block when r >= the number of key blocks', () => {
    expect(randomBlocks(1, 0, 4, 4)).toEqual([0, 1, 2, 3]);
    expect(randomBlocks(1, 0, 9, 3)).toEqual([0, 1, 2]);
  });

  it('differs between query blocks and is stable across calls', () => {
    const draws = Array.from({ length: 16 }, (_, qb) => randomBlocks(99, qb, 2, 16).join(','));
    expect(new Set(draws).size).toBeGreaterThan(8);
    expect(randomBlocks(99, 3, 2, 16)).toEqual(randomBlocks(99, 3, 2, 16));
  });

  it('rejects nonsense counts', () => {
    expect(() => randomBlocks(1, 0, -1, 4)).toThrow(/count/);
    expect(() => randomBlocks(1, 0.5, 1, 4)).toThrow(/queryBlock/);
  });
});
