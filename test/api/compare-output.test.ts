// The rule `attnc run --verify` and the variant self-check judge outputs by: relative to the
// reference's largest value, so zeros never pass against a nonzero reference, however small.

import { describe, expect, it } from 'vitest';
import { compareOutput } from '../../src/api/compare-output.js';

describe('compareOutput', () => {
  it('scales the max abs error by the reference max abs value', () => {
    const c = compareOutput(Float32Array.of(1, -2.5, 3), Float32Array.of(1, -2, 4));
    expect(c).toEqual({ maxAbsError: 1, referenceMaxAbs: 4, relativeError: 0.25, worstIndex: 2 });
  });

  it('an all-zero output against a tiny reference is an error of 1, not of the values', () => {
    const reference = Float32Array.of(3e-6, -1e-5, 2e-6);
    const c = compareOutput(new Float32Array(3), reference);
    expect(c.maxAbsError).toBeCloseTo(1e-5, 12); // what an absolute 1e-4 bound would pass
    expect(c.relativeError).toBeCloseTo(1, 6);
  });

  it('an all-zero reference falls back to the absolute error', () => {
    expect(compareOutput(new Float32Array(2), new Float32Array(2)).relativeError).toBe(0);
    expect(compareOutput(Float32Array.of(0, 0.5), new Float32Array(2)).relativeError).toBe(0.5);
  });

  it('NaN and infinite outputs are infinitely wrong', () => {
    expect(compareOutput(Float32Array.of(1, NaN), Float32Array.of(1, 1)).relativeError).toBe(
      Infinity,
    );
    expect(compareOutput(Float32Array.of(Infinity), Float32Array.of(1)).worstIndex).toBe(0);
  });

  it('refuses outputs of the wrong length', () => {
    expect(() => compareOutput(new Float32Array(2), new Float32Array(3))).toThrow(
      'output has 2 elements but the reference has 3',
    );
  });
});
