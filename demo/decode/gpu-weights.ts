// The demo model's weights rearranged for the GPU, where each tfjs op is a dispatch and a
// decode step is made of them: RMSNorm gains are folded into the matrix that follows
// (norm(x) * g @ W = norm(x) @ diag(g) W), and RoPE becomes two matmuls and a multiply-add,
// rope(x W) = (x W) * cos + (x W R) * sin, with W R (W's columns rotated by half a head and
// negated) computed here once. Same model, fewer dispatches; the CPU model keeps the plain form.

import type { DecodeModelConfig } from './config.js';
import type { LayerWeights, ModelWeights } from './weights.js';

export interface GpuLayerWeights {
  readonly wq: Float32Array; // [dModel, heads * headDim], attention norm folded in
  readonly wqRotated: Float32Array; // wq R
  readonly wk: Float32Array; // [dModel, kvHeads * headDim], attention norm folded in
  readonly wkRotated: Float32Array; // wk R
  readonly wv: Float32Array; // [dModel, kvHeads * headDim], attention norm folded in
  readonly wo: Float32Array; // [heads * headDim, dModel]
  readonly wGate: Float32Array; // [dModel, mlpHidden], MLP norm folded in
  readonly wUp: Float32Array; // [dModel, mlpHidden], MLP norm folded in
  readonly wDown: Float32Array; // [mlpHidden, dModel]
}

export interface GpuModelWeights {
  readonly embedding: Float32Array; // [vocab, dModel]
  /** The output projection: the embedding transposed, final norm folded in, `[dModel, vocab]`. */
  readonly unembedding: Float32Array;
  readonly layers: readonly GpuLayerWeights[];
}

/** diag(gain) W for W `[gain.length, cols]`. */
export function foldGain(gain: Float32Array, w: Float32Array, cols: number): Float32Array {
  return w.map((value, i) => value * gain[Math.floor(i / cols)]!);
}

/**
 * W R: per head of `headDim` columns, column i < D/2 becomes -column (i + D/2) and column
 * i + D/2 becomes column i, so that (x W R) is rotate_half(x W) per head.
 */
export function rotateHalfColumns(w: Float32Array, cols: number, headDim: number): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(w.length);
  for (let row = 0; row < w.length / cols; row++) {
    for (let head = 0; head < cols / headDim; head++) {
      const base = row * cols + head * headDim;
      for (let i = 0; i < half; i++) {
        out[base + i] = -w[base + i + half]!;
        out[base + i + half] = w[base + i]!;
      }
    }
  }
  return out;
}

function layerForGpu(config: DecodeModelConfig, w: LayerWeights): GpuLayerWeights {
  const { heads, kvHeads, headDim, mlpHidden } = config;
  const wq = foldGain(w.attentionNorm, w.wq, heads * headDim);
  const wk = foldGain(w.attentionNorm, w.wk, kvHeads * headDim);
  return {
    wq,
    wqRotated: rotateHalfColumns(wq, heads * headDim, headDim),
    wk,
    wkRotated: rotateHalfColumns(wk, kvHeads * headDim, headDim),
    wv: foldGain(w.attentionNorm, w.wv, kvHeads * headDim),
    wo: w.wo,
    wGate: foldGain(w.mlpNorm, w.wGate, mlpHidden),
    wUp: foldGain(w.mlpNorm, w.wUp, mlpHidden),
    wDown: w.wDown,
  };
}

export function weightsForGpu(config: DecodeModelConfig, weights: ModelWeights): GpuModelWeights {
  const { vocab, dModel } = config;
  const unembedding = new Float32Array(dModel * vocab);
  for (let t = 0; t < vocab; t++) {
    for (let i = 0; i < dModel; i++) {
      unembedding[i * vocab + t] = weights.embedding[t * dModel + i]! * weights.finalNorm[i]!;
    }
  }
  return {
    embedding: weights.embedding,
    unembedding,
    layers: weights.layers.map((w) => layerForGpu(config, w)),
  };
}
