// Gaussian matrices of the language: FAVOR+'s W [m, D] and LSH's R [D, n/2]. One stream
// (GAUSSIAN_STREAM) walked in row-major order, so a matrix is a prefix-free function of
// (seed, rows, cols) and the host code can upload exactly what the reference uses.

import { randomGaussian } from './generator.js';

/** The stream every Gaussian matrix draws from: ASCII "GAUS". */
export const GAUSSIAN_STREAM = 0x47415553;

/**
 * A row-major `rows x cols` float32 matrix whose element (r, c) is
 * `randomGaussian(seed, GAUSSIAN_STREAM, r * cols + c)`.
 */
export function gaussianMatrix(
  seed: number,
  rows: number,
  cols: number,
): Float32Array<ArrayBuffer> {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new Error(
      `gaussianMatrix: rows and cols must be non-negative integers, got ${rows} x ${cols}`,
    );
  }
  const out = new Float32Array(rows * cols);
  for (let index = 0; index < out.length; index++) {
    out[index] = randomGaussian(seed, GAUSSIAN_STREAM, index);
  }
  return out;
}
