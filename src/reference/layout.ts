// Index arithmetic for the two layouts of language.md section 2. The reference works on
// one (batch, head) at a time as plain arrays of float64 rows, so the layout is handled
// here and nowhere else.

import type { Layout } from '../check/checked.js';

/** A 4-D tensor `[B, heads, N, width]` (bhnd) or `[B, N, heads, width]` (bnhd). */
export interface TensorShape {
  readonly layout: Layout;
  readonly batch: number;
  readonly heads: number;
  readonly seq: number;
  readonly width: number;
}

/** Flat offset of element (b, h, n, 0). */
export function rowOffset(shape: TensorShape, b: number, h: number, n: number): number {
  switch (shape.layout) {
    case 'bhnd':
      return ((b * shape.heads + h) * shape.seq + n) * shape.width;
    case 'bnhd':
      return ((b * shape.seq + n) * shape.heads + h) * shape.width;
    default:
      return unreachable(shape.layout);
  }
}

/** The `seq` rows of head `h` in batch `b`, widened to float64. */
export function readHeadRows(
  data: Float32Array,
  shape: TensorShape,
  b: number,
  h: number,
): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let n = 0; n < shape.seq; n++) {
    const start = rowOffset(shape, b, h, n);
    rows.push(Float64Array.from(data.subarray(start, start + shape.width)));
  }
  return rows;
}

/** Writes `rows` as head `h` of batch `b` (rounded to float32 by the typed array). */
export function writeHeadRows(
  out: Float32Array,
  shape: TensorShape,
  b: number,
  h: number,
  rows: readonly Float64Array[],
): void {
  rows.forEach((row, n) => out.set(row, rowOffset(shape, b, h, n)));
}

function unreachable(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}
