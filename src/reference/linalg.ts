// The few float64 vector and matrix operations the reference needs, written out plainly.
// Matrices are arrays of rows; nothing here is tuned, because the reference is read, not raced.

export type Matrix = readonly Float64Array[];

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let d = 0; d < a.length; d++) sum += (a[d] as number) * (b[d] as number);
  return sum;
}

/** `sum_t weights[t] * rows[t]`, a vector of `width` entries. */
export function weightedSum(weights: ArrayLike<number>, rows: Matrix, width: number): Float64Array {
  const out = new Float64Array(width);
  for (let t = 0; t < rows.length; t++) {
    const w = weights[t] as number;
    if (w === 0) continue;
    const row = rows[t] as Float64Array;
    for (let d = 0; d < width; d++) out[d] = (out[d] as number) + w * (row[d] as number);
  }
  return out;
}

/** Mean of `rows[start..end)`; the range must be non-empty. */
export function meanOfRows(rows: Matrix, start: number, end: number, width: number): Float64Array {
  const out = new Float64Array(width);
  for (let n = start; n < end; n++) {
    const row = rows[n] as Float64Array;
    for (let d = 0; d < width; d++) out[d] = (out[d] as number) + (row[d] as number);
  }
  for (let d = 0; d < width; d++) out[d] = (out[d] as number) / (end - start);
  return out;
}

/** `a b` for `a` [n, m] and `b` [m, width]. */
export function matmul(a: Matrix, b: Matrix, width: number): Float64Array[] {
  return a.map((row) => weightedSum(row, b, width));
}

export function transpose(a: Matrix, cols: number): Float64Array[] {
  return Array.from({ length: cols }, (_, c) => Float64Array.from(a, (row) => row[c] as number));
}

export function identity(n: number): Float64Array[] {
  return Array.from({ length: n }, (_, r) => {
    const row = new Float64Array(n);
    row[r] = 1;
    return row;
  });
}

/** `alpha a + beta b`, elementwise. */
export function combine(alpha: number, a: Matrix, beta: number, b: Matrix): Float64Array[] {
  return a.map((row, r) => {
    const other = b[r] as Float64Array;
    return Float64Array.from(row, (x, c) => alpha * x + beta * (other[c] as number));
  });
}

/** Index of the largest entry, ties to the lower index. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let t = 1; t < values.length; t++) {
    if ((values[t] as number) > (values[best] as number)) best = t;
  }
  return best;
}

/**
 * Softmax of `scores` restricted to `allowed` (all when omitted), max-subtracted so large
 * logits cannot overflow. An empty allowed set gives all zeros, never NaN.
 */
export function maskedSoftmax(
  scores: ArrayLike<number>,
  allowed?: ArrayLike<boolean>,
): Float64Array {
  const n = scores.length;
  const isAllowed = (j: number): boolean => allowed === undefined || allowed[j] === true;
  let max = -Infinity;
  for (let j = 0; j < n; j++) if (isAllowed(j)) max = Math.max(max, scores[j] as number);
  const out = new Float64Array(n);
  if (max === -Infinity) return out;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    if (!isAllowed(j)) continue;
    const e = Math.exp((scores[j] as number) - max);
    out[j] = e;
    sum += e;
  }
  for (let j = 0; j < n; j++) out[j] = (out[j] as number) / sum;
  return out;
}
