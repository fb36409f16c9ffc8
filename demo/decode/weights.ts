// Deterministic random weights for the demo model, drawn from attnc's counter-based
// generator (src/random), so the CPU model, Node and a browser page all build the same
// model from (config, seed) without shipping a weights file. Each matrix has its own stream
// and is scaled by 1/sqrt(fan-in), which keeps activations near unit size through the layers.

import { randomGaussian } from '../../src/random/index.js';
import type { DecodeModelConfig } from './config.js';

/** One layer's weights; matrices are row-major `[in, out]` (x @ W). */
export interface LayerWeights {
  readonly attentionNorm: Float32Array; // [dModel]
  readonly wq: Float32Array; // [dModel, heads * headDim]
  readonly wk: Float32Array; // [dModel, kvHeads * headDim]
  readonly wv: Float32Array; // [dModel, kvHeads * headDim]
  readonly wo: Float32Array; // [heads * headDim, dModel]
  readonly mlpNorm: Float32Array; // [dModel]
  readonly wGate: Float32Array; // [dModel, mlpHidden]
  readonly wUp: Float32Array; // [dModel, mlpHidden]
  readonly wDown: Float32Array; // [mlpHidden, dModel]
}

export interface ModelWeights {
  /** [vocab, dModel]; also the output projection (tied: logits = x @ embedding^T). */
  readonly embedding: Float32Array;
  readonly layers: readonly LayerWeights[];
  readonly finalNorm: Float32Array; // [dModel]
}

const STREAMS_PER_LAYER = 16;

function gaussianMatrix(
  seed: number,
  stream: number,
  rows: number,
  cols: number,
  scale: number,
): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = randomGaussian(seed, stream, i) * scale;
  return out;
}

/** Norm gains near 1, so a wrong gain shows in the logits. */
function gains(seed: number, stream: number, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = 1 + 0.1 * randomGaussian(seed, stream, i);
  return out;
}

export function makeWeights(config: DecodeModelConfig, seed: number): ModelWeights {
  const { vocab, dModel, heads, kvHeads, headDim, mlpHidden } = config;
  const qWidth = heads * headDim;
  const kvWidth = kvHeads * headDim;
  const inScale = 1 / Math.sqrt(dModel);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.layers; l++) {
    const s = STREAMS_PER_LAYER * (l + 1);
    layers.push({
      attentionNorm: gains(seed, s, dModel),
      wq: gaussianMatrix(seed, s + 1, dModel, qWidth, inScale),
      wk: gaussianMatrix(seed, s + 2, dModel, kvWidth, inScale),
      wv: gaussianMatrix(seed, s + 3, dModel, kvWidth, inScale),
      wo: gaussianMatrix(seed, s + 4, qWidth, dModel, 1 / Math.sqrt(qWidth)),
      mlpNorm: gains(seed, s + 5, dModel),
      wGate: gaussianMatrix(seed, s + 6, dModel, mlpHidden, inScale),
      wUp: gaussianMatrix(seed, s + 7, dModel, mlpHidden, inScale),
      wDown: gaussianMatrix(seed, s + 8, mlpHidden, dModel, 1 / Math.sqrt(mlpHidden)),
    });
  }
  return {
    embedding: gaussianMatrix(seed, 1, vocab, dModel, 1),
    layers,
    finalNorm: gains(seed, 2, dModel),
  };
}
