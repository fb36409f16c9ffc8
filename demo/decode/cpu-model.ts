// The demo model written out in plain loops (float64, from the same float32 weights): the
// oracle the GPU decode loop is tested against. It keeps every past key and value per layer
// and applies each layer's mask as the spec language defines it (docs/language.md: causal,
// `window(left: w)` is j >= p - w, `sink(n)` is j < n), independently of attnc's kernels and
// of its `reference()` (a test checks the two agree).

import type { DecodeModel } from './decode-loop.js';
import { isWindowedLayer, type DecodeModelConfig } from './config.js';
import { ropeTables } from './rope.js';
import type { ModelWeights } from './weights.js';

export class CpuDecoder implements DecodeModel {
  /** Per layer, per position: the rotated key and the value, `[kvHeads * headDim]` each. */
  private readonly keys: Float64Array[][];
  private readonly values: Float64Array[][];

  constructor(
    readonly config: DecodeModelConfig,
    private readonly weights: ModelWeights,
  ) {
    this.keys = weights.layers.map(() => []);
    this.values = weights.layers.map(() => []);
  }

  /** Positions seen so far. */
  get length(): number {
    return this.keys[0]?.length ?? 0;
  }

  reset(): void {
    for (const k of this.keys) k.length = 0;
    for (const v of this.values) v.length = 0;
  }

  /** Feeds `tokens` at the next positions; returns the logits after the last one. */
  step(tokens: readonly number[]): Float64Array {
    if (tokens.length === 0) throw new Error('CpuDecoder.step: no tokens');
    let logits: Float64Array = new Float64Array(0);
    for (const token of tokens) logits = this.stepOne(token);
    return logits;
  }

  /** The DecodeModel interface, so the decode loop can drive the CPU model too. */
  async prefill(tokens: readonly number[]): Promise<void> {
    this.step(tokens);
  }

  async stepGreedy(tokens: readonly number[]): Promise<number> {
    return argMax(this.step(tokens));
  }

  private stepOne(token: number): Float64Array {
    const { dModel, vocab } = this.config;
    if (!Number.isInteger(token) || token < 0 || token >= vocab) {
      throw new Error(`token ${token} is not in the vocabulary [0, ${vocab})`);
    }
    const position = this.length;
    const x: Float64Array = Float64Array.from(
      this.weights.embedding.subarray(token * dModel, (token + 1) * dModel),
    );
    this.weights.layers.forEach((w, layer) => {
      const h = rmsNorm(x, w.attentionNorm, this.config.normEpsilon);
      const o = this.attention(layer, position, h);
      addInPlace(x, matVec(o, w.wo, dModel));
      const h2 = rmsNorm(x, w.mlpNorm, this.config.normEpsilon);
      const gate = matVec(h2, w.wGate, this.config.mlpHidden);
      const up = matVec(h2, w.wUp, this.config.mlpHidden);
      for (let i = 0; i < gate.length; i++) gate[i] = silu(gate[i]!) * up[i]!;
      addInPlace(x, matVec(gate, w.wDown, dModel));
    });
    const final = rmsNorm(x, this.weights.finalNorm, this.config.normEpsilon);
    const logits = new Float64Array(vocab);
    for (let t = 0; t < vocab; t++) {
      let sum = 0;
      for (let i = 0; i < dModel; i++) sum += final[i]! * this.weights.embedding[t * dModel + i]!;
      logits[t] = sum;
    }
    return logits;
  }

  /** One layer's attention for the token at `position`; appends its key and value first. */
  private attention(layer: number, position: number, h: Float64Array): Float64Array {
    const { heads, kvHeads, headDim, window, sinks, ropeTheta } = this.config;
    const w = this.weights.layers[layer]!;
    const { cos, sin } = ropeTables(position, 1, headDim, ropeTheta);
    const q = rotate(matVec(h, w.wq, heads * headDim), heads, headDim, cos, sin);
    const keys = this.keys[layer]!;
    const values = this.values[layer]!;
    keys.push(rotate(matVec(h, w.wk, kvHeads * headDim), kvHeads, headDim, cos, sin));
    values.push(matVec(h, w.wv, kvHeads * headDim));
    const windowed = isWindowedLayer(this.config, layer);
    const allowed = (j: number) => !windowed || j >= position - window || j < sinks;
    const scale = 1 / Math.sqrt(headDim);
    const group = heads / kvHeads;
    const o = new Float64Array(heads * headDim);
    const scores = new Float64Array(position + 1);
    for (let head = 0; head < heads; head++) {
      const kvHead = Math.floor(head / group);
      let max = -Infinity;
      for (let j = 0; j <= position; j++) {
        if (!allowed(j)) continue;
        let s = 0;
        for (let d = 0; d < headDim; d++) {
          s += q[head * headDim + d]! * keys[j]![kvHead * headDim + d]!;
        }
        scores[j] = s * scale;
        max = Math.max(max, scores[j]!);
      }
      let total = 0;
      for (let j = 0; j <= position; j++) {
        if (!allowed(j)) continue;
        const e = Math.exp(scores[j]! - max);
        total += e;
        for (let d = 0; d < headDim; d++) {
          o[head * headDim + d] = o[head * headDim + d]! + e * values[j]![kvHead * headDim + d]!;
        }
      }
      for (let d = 0; d < headDim; d++) o[head * headDim + d] = o[head * headDim + d]! / total;
    }
    return o;
  }
}

export function rmsNorm(x: Float64Array, gain: Float32Array, epsilon: number): Float64Array {
  let sum = 0;
  for (const value of x) sum += value * value;
  const inv = 1 / Math.sqrt(sum / x.length + epsilon);
  return x.map((value, i) => value * inv * gain[i]!);
}

/** x [in] @ W [in, out]. */
export function matVec(x: Float64Array, w: Float32Array, out: number): Float64Array {
  const y = new Float64Array(out);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    for (let j = 0; j < out; j++) y[j] = y[j]! + xi * w[i * out + j]!;
  }
  return y;
}

function addInPlace(x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + y[i]!;
}

function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** RoPE on `[heads, headDim]` at one position (tables of one row). */
function rotate(
  x: Float64Array,
  heads: number,
  headDim: number,
  cos: Float64Array,
  sin: Float64Array,
): Float64Array {
  const half = headDim / 2;
  const out = new Float64Array(x.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const a = x[h * headDim + i]!;
      const b = x[h * headDim + i + half]!;
      out[h * headDim + i] = a * cos[i]! - b * sin[i]!;
      out[h * headDim + i + half] = a * sin[i]! + b * cos[i]!;
    }
  }
  return out;
}

/** The index of the largest value (the first of equal ones), as tf.argMax picks. */
export function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
