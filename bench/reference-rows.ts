// The check every softmax bench case runs after timing (attnc's kernels and the peers alike):
// a few rows of the output against float64 softmax attention over the same inputs. Inputs
// are one head, [N, D] row-major; each row attends to the keys `keys(row)` gives.

import type { CaseCheck } from './harness.js';

/** One row of softmax attention over keys [lo, hi], in float64. */
export function referenceRow(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  d: number,
  row: number,
  lo: number,
  hi: number,
): Float64Array {
  const scale = 1 / Math.sqrt(d);
  const scores: number[] = [];
  for (let j = lo; j <= hi; j++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += q[row * d + c]! * k[j * d + c]!;
    scores.push(s * scale);
  }
  const max = Math.max(...scores);
  const out = new Float64Array(d);
  let sum = 0;
  scores.forEach((s, t) => {
    const p = Math.exp(s - max);
    sum += p;
    for (let c = 0; c < d; c++) out[c]! += p * v[(lo + t) * d + c]!;
  });
  return out.map((x) => x / sum);
}

export interface AttentionInputs {
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly v: Float32Array;
  readonly n: number;
  readonly d: number;
}

/** The first, middle and last rows of `o` against the reference; keys(row) is [lo, hi]. */
export function checkRows(
  o: Float32Array,
  inputs: AttentionInputs,
  keys: (row: number) => readonly [number, number],
): CaseCheck {
  const { q, k, v, n, d } = inputs;
  const rows = [...new Set([0, n >> 1, n - 1])];
  let maxAbsError = 0;
  for (const row of rows) {
    const [lo, hi] = keys(row);
    const want = referenceRow(q, k, v, d, row, lo, hi);
    for (let c = 0; c < d; c++) {
      // NaN must fail the check, so it is not folded in with Math.max.
      const error = Math.abs(o[row * d + c]! - want[c]!);
      maxAbsError = Number.isNaN(error) ? NaN : Math.max(maxAbsError, error);
      if (Number.isNaN(maxAbsError)) return { maxAbsError, checked: `row ${row}: NaN` };
    }
  }
  return { maxAbsError, checked: `rows ${rows.join(', ')}` };
}

/** Keys a row attends to: all of them, the causal prefix, or a symmetric window. */
export function keyRange(
  n: number,
  shape: { readonly causal?: boolean; readonly window?: number | null },
): (row: number) => readonly [number, number] {
  return (row) => {
    const w = shape.window ?? null;
    const lo = w === null ? 0 : Math.max(0, row - w);
    const hi = shape.causal ? row : w === null ? n - 1 : Math.min(n - 1, row + w);
    return [lo, hi];
  };
}
