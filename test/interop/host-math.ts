// Host-side values and matmuls the interop tests check the libraries' GPU results against.

/** Deterministic values in [-scale, scale]. */
export function wave(length: number, phase: number, scale = 1): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin(i * 0.37 + phase) * scale);
}

/** Row-major `[rows, inner] x [inner, cols]` in float64, rounded to f32. */
export function matMul(
  a: Float32Array,
  b: Float32Array,
  rows: number,
  inner: number,
  cols: number,
): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let i = 0; i < inner; i++) s += a[r * inner + i]! * b[i * cols + c]!;
      out[r * cols + c] = s;
    }
  }
  return out;
}
