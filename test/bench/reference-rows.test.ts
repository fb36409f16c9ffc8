import { describe, expect, it } from 'vitest';
import { checkRows, keyRange, referenceRow } from '../../bench/reference-rows.js';

const n = 5;
const d = 2;
const q = Float32Array.from({ length: n * d }, (_, i) => Math.sin(i));
const k = Float32Array.from({ length: n * d }, (_, i) => Math.cos(i * 0.7));
const v = Float32Array.from({ length: n * d }, (_, i) => i * 0.1);
const inputs = { q, k, v, n, d };

/** Every row of softmax attention over keyRange, computed the obvious way. */
function fullOutput(keys: (row: number) => readonly [number, number]): Float32Array {
  const o = new Float32Array(n * d);
  for (let row = 0; row < n; row++) {
    const [lo, hi] = keys(row);
    o.set(referenceRow(q, k, v, d, row, lo, hi), row * d);
  }
  return o;
}

describe('reference rows of the bench check', () => {
  it('a row over one key is that key’s value', () => {
    expect([...referenceRow(q, k, v, d, 3, 2, 2)]).toEqual([v[4], v[5]].map((x) => x!));
  });

  it('key ranges: all keys, the causal prefix, a window', () => {
    expect(keyRange(n, {})(2)).toEqual([0, 4]);
    expect(keyRange(n, { causal: true })(2)).toEqual([0, 2]);
    expect(keyRange(n, { window: 1 })(0)).toEqual([0, 1]);
    expect(keyRange(n, { window: 1 })(4)).toEqual([3, 4]);
  });

  it('passes the reference output and catches a wrong value or a NaN in a checked row', () => {
    const causal = keyRange(n, { causal: true });
    const o = fullOutput(causal);
    const exact = checkRows(o, inputs, causal); // o holds the reference rounded to f32
    expect(exact.checked).toBe('rows 0, 2, 4');
    expect(exact.maxAbsError).toBeLessThan(1e-7);
    // Dense output checked as causal differs in rows 0 and 2.
    expect(checkRows(fullOutput(keyRange(n, {})), inputs, causal).maxAbsError).toBeGreaterThan(
      1e-3,
    );
    const wrong = o.slice();
    wrong[4 * d + 1] = wrong[4 * d + 1]! + 0.5;
    expect(checkRows(wrong, inputs, causal).maxAbsError).toBeCloseTo(0.5, 6);
    const nan = o.slice();
    nan[2 * d] = NaN;
    expect(checkRows(nan, inputs, causal).maxAbsError).toBeNaN();
  });
});
