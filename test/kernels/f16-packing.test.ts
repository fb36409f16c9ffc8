// Host-side f16 packing (no GPU): the runtime must round exactly like the CPU reference.
import { describe, expect, it } from 'vitest';
import { roundToF16 } from '../../src/reference/index.js';
import { packHalves, unpackHalves } from '../../src/runtime/f16.js';
import { randomFloats } from './build.js';

describe('f16 packing', () => {
  it('rounds like the reference (ties to even, subnormals) and packs low half first', () => {
    const special = [
      0,
      -0,
      1,
      -1,
      65504,
      -65504,
      2 ** -14,
      2 ** -24,
      3 * 2 ** -26,
      2 ** -25,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      0.1,
      1e-7,
    ];
    const values = Float32Array.from([
      ...special,
      ...randomFloats(2000, 3, 4),
      ...randomFloats(200, 4, 1e-5),
    ]);
    const back = unpackHalves(packHalves(values, 'q'), values.length);
    values.forEach((x, n) => expect(back[n]).toBe(roundToF16(x)));
    expect(packHalves(Float32Array.from([1, 2]), 'q')[0]).toBe(0x3c00 | (0x4000 << 16));
  });

  it('names the input holding a value beyond the f16 range', () => {
    expect(() => packHalves(Float32Array.from([1, 70000]), 'k')).toThrow(
      "input 'k': element 1 is 70000, beyond the f16 range (dtype: f16)",
    );
  });
});
