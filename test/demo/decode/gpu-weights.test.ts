// The GPU's rearranged weights mean the same model: a gain folded into a matrix scales its
// rows, and x (W R) is rotate_half(x W) per head, so (x W) cos + (x W R) sin is RoPE.

import { describe, expect, it } from 'vitest';
import { foldGain, rotateHalfColumns } from '../../../demo/decode/gpu-weights.js';

function matVec(x: number[], w: Float32Array, cols: number): number[] {
  return Array.from({ length: cols }, (_, j) =>
    x.reduce((sum, xi, i) => sum + xi * w[i * cols + j]!, 0),
  );
}

describe('weights for the GPU', () => {
  it('folds a gain into the rows of the next matrix', () => {
    const w = Float32Array.from([1, 2, 3, 4, 5, 6]);
    expect([...foldGain(Float32Array.from([2, -1]), w, 3)]).toEqual([2, 4, 6, -4, -5, -6]);
  });

  it('rotates each head by half its width: x W R = rotate_half(x W)', () => {
    const [rows, heads, headDim] = [3, 2, 4];
    const cols = heads * headDim;
    const w = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i + 1));
    const x = [0.5, -1.25, 2];
    const y = matVec(x, w, cols);
    const yRotated = matVec(x, rotateHalfColumns(w, cols, headDim), cols);
    const expected: number[] = [];
    for (let h = 0; h < heads; h++) {
      const head = y.slice(h * headDim, (h + 1) * headDim);
      expected.push(...head.slice(2).map((v) => -v), ...head.slice(0, 2));
    }
    yRotated.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 6));
  });
});
