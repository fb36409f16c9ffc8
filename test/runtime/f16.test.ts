// The runtime's f16 conversion (src/runtime/f16.ts, on @petamoriken/float16) against first
// principles: every one of the 65536 bit patterns decodes to its IEEE value, every finite one
// survives a round trip, the f32 neighbours of each half round to nearest with ties to even,
// and nothing beyond the range passes silently.

import { describe, expect, it } from 'vitest';
import { fromHalfBits, toHalfBits } from '../../src/runtime/f16.js';

/** binary16 by its definition: sign, 5 exponent bits (bias 15), 10 fraction bits. */
function decode(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const finite = (h: number) => ((h >> 10) & 0x1f) !== 0x1f;

describe('f16 conversion', () => {
  it('decodes all 65536 bit patterns', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const same =
        Object.is(fromHalfBits(h), decode(h)) || (isNaN(decode(h)) && isNaN(fromHalfBits(h)));
      if (!same) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('round-trips every finite half, signed zeros included', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if (finite(h) && toHalfBits(fromHalfBits(h), 'q', 0) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('rounds halfway values to the even neighbour, and just-off-halfway to the nearer', () => {
    const wrong: number[] = [];
    let ties = 0;
    for (let h = 0; h < 0x7bff; h++) {
      const low = decode(h);
      const high = decode(h + 1);
      const middle = Math.fround((low + high) / 2);
      if (middle !== (low + high) / 2) continue; // not representable in f32: no exact tie
      ties++;
      const even = h % 2 === 0 ? h : h + 1;
      const below = Math.fround(middle - (high - low) / 8);
      const above = Math.fround(middle + (high - low) / 8);
      const got = [below, middle, above].map((x) => toHalfBits(x, 'q', 0));
      if (got.join() !== [h, even, h + 1].join()) wrong.push(h);
    }
    expect(wrong).toEqual([]);
    expect(ties).toBe(0x7bff);
  });

  it('refuses infinities, NaN and values that round past 65504, naming the input', () => {
    expect(toHalfBits(65504, 'v', 0)).toBe(0x7bff);
    expect(toHalfBits(65519, 'v', 0)).toBe(0x7bff);
    expect(() => toHalfBits(65520, 'v', 3)).toThrow(
      "input 'v': element 3 is 65520, beyond the f16 range (dtype: f16)",
    );
    expect(() => toHalfBits(-1e6, 'v', 0)).toThrow(/beyond the f16 range/);
    expect(() => toHalfBits(Infinity, 'k', 1)).toThrow(
      "input 'k': element 1 is Infinity, which f16 cannot hold",
    );
    expect(() => toHalfBits(NaN, 'k', 2)).toThrow(/element 2 is NaN, which f16 cannot hold/);
  });
});
