// The demo model on the GPU: embeddings, norms, projections, RoPE and the SwiGLU MLP in
// tfjs-webgpu, and each layer's attention in attnc with a KV cache, on tfjs's own GPUDevice.
// Per layer and step, tfjs computes q, k and v for the new tokens and hands them over as GPU
// buffers (`dataToGPU()`, which also flushes tfjs's queued work, so the queue orders attnc's
// submits after it); attnc appends k and v to the cache and writes the attention output into
// a buffer of the layer's own, which tfjs reads back in as a tensor (`zeroCopy`) for the
// output projection. Nothing crosses to the host but the token ids in and the logits (or the
// chosen id) out. Runs the same in Node and in a browser page: tfjs is passed in.

import { compile } from '../../src/api/compile.js';
import type { Runtime } from '../../src/api/runtime.js';
import type { KvCache } from '../../src/runtime/cache/kv-cache.js';
import type { LoadedAttention } from '../../src/runtime/loaded-kernel.js';
import type { DecodeModel } from './decode-loop.js';
import { checkModelConfig, layerSpec, type DecodeModelConfig } from './config.js';
import { weightsForGpu } from './gpu-weights.js';
import { ropeTables } from './rope.js';
import { tfjsDevice, type Tensor, type Tf } from './tfjs-types.js';
import type { ModelWeights } from './weights.js';

interface GpuLayer {
  readonly attention: LoadedAttention;
  readonly cache: KvCache;
  /** attnc's output for up to `maxChunk` tokens, `[1, T, heads, headDim]`. */
  readonly output: GPUBuffer;
  readonly wq: Tensor;
  readonly wqRotated: Tensor;
  readonly wk: Tensor;
  readonly wkRotated: Tensor;
  readonly wv: Tensor;
  readonly wo: Tensor;
  readonly wGate: Tensor;
  readonly wUp: Tensor;
  readonly wDown: Tensor;
}

export interface CacheSummary {
  readonly kind: 'ring' | 'contiguous' | 'none';
  /** Positions kept per kv head. */
  readonly rows: number;
  readonly bytes: number;
}

export interface GpuDecoderOptions {
  /** Positions the caches hold (prompt and generated tokens together). */
  readonly capacity: number;
  /** Most tokens one `step` takes (a prefill chunk). */
  readonly maxChunk: number;
}

export class GpuDecoder implements DecodeModel {
  private constructor(
    private readonly tf: Tf,
    readonly config: DecodeModelConfig,
    private readonly options: GpuDecoderOptions,
    private readonly layers: readonly GpuLayer[],
    private readonly embedding: Tensor,
    private readonly unembedding: Tensor,
    private readonly ropeCos: Tensor,
    private readonly ropeSin: Tensor,
  ) {}

  /**
   * Compiles each layer's spec for the runtime's device (which must be tfjs's: `createRuntime({
   * device: backend.device })`), uploads the weights into tfjs, and opens one cache per layer.
   */
  static async create(
    tf: Tf,
    runtime: Runtime,
    config: DecodeModelConfig,
    weights: ModelWeights,
    options: GpuDecoderOptions,
  ): Promise<GpuDecoder> {
    checkModelConfig(config);
    const { dModel, heads, kvHeads, headDim, mlpHidden, vocab } = config;
    if (tfjsDevice(tf) !== runtime.device) {
      throw new Error(
        "the attnc runtime must use tfjs's GPUDevice: createRuntime({ device: tf.backend().device })",
      );
    }
    for (const name of ['capacity', 'maxChunk'] as const) {
      if (!Number.isInteger(options[name]) || options[name] < 1) {
        throw new Error(`GpuDecoder: ${name} must be a positive integer, got ${options[name]}`);
      }
    }
    const gpuWeights = weightsForGpu(config, weights);
    const layers: GpuLayer[] = [];
    try {
      for (let l = 0; l < config.layers; l++) {
        const compiled = compile(layerSpec(config, l), { target: runtime.profile });
        const module = compiled.modules[0];
        if (!module) {
          throw new Error(
            `layer ${l}: ${compiled.diagnostics.map((d) => `${d.code}: ${d.message}`).join('; ')}`,
          );
        }
        const attention = await runtime.load(module);
        let cache: KvCache;
        try {
          // A ring for the windowed layers, a contiguous store for the global one; a ring
          // keeps `maxChunk` slots beyond the look-back, so a prefill chunk fits one append.
          cache = attention.createCache({
            batch: 1,
            capacity: options.capacity,
            maxChunk: options.maxChunk,
          });
        } catch (error) {
          attention.destroy();
          throw error;
        }
        const w = gpuWeights.layers[l]!;
        layers.push({
          attention,
          cache,
          output: runtime.device.createBuffer({
            label: `layer${l}.o`,
            size: options.maxChunk * heads * headDim * 4,
            usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
          }),
          wq: tf.tensor2d(w.wq, [dModel, heads * headDim]),
          wqRotated: tf.tensor2d(w.wqRotated, [dModel, heads * headDim]),
          wk: tf.tensor2d(w.wk, [dModel, kvHeads * headDim]),
          wkRotated: tf.tensor2d(w.wkRotated, [dModel, kvHeads * headDim]),
          wv: tf.tensor2d(w.wv, [dModel, kvHeads * headDim]),
          wo: tf.tensor2d(w.wo, [heads * headDim, dModel]),
          wGate: tf.tensor2d(w.wGate, [dModel, mlpHidden]),
          wUp: tf.tensor2d(w.wUp, [dModel, mlpHidden]),
          wDown: tf.tensor2d(w.wDown, [mlpHidden, dModel]),
        });
      }
    } catch (error) {
      // A layer that fails to compile or load: release what the others took.
      for (const layer of layers) destroyLayer(tf, layer);
      throw error;
    }
    // cos and sin per position for every element of a head: [capacity, headDim], each half
    // repeating the angles of the pairs (i, i + D/2).
    const rope = ropeTables(0, options.capacity, headDim, config.ropeTheta);
    const half = headDim / 2;
    const fullRow = (table: Float64Array) =>
      Float32Array.from({ length: options.capacity * headDim }, (_, i) => {
        const position = Math.floor(i / headDim);
        return table[position * half + ((i % headDim) % half)]!;
      });
    return new GpuDecoder(
      tf,
      config,
      options,
      layers,
      tf.tensor2d(gpuWeights.embedding, [vocab, dModel]),
      tf.tensor2d(gpuWeights.unembedding, [dModel, vocab]),
      tf.tensor2d(fullRow(rope.cos), [options.capacity, headDim]),
      tf.tensor2d(fullRow(rope.sin), [options.capacity, headDim]),
    );
  }

  /** Each layer's cache: what it keeps and its GPU bytes, for the report. */
  get caches(): readonly CacheSummary[] {
    return this.layers.map((layer) => ({
      kind: layer.cache.slots.kind,
      rows: layer.cache.slots.rows,
      bytes: layer.cache.bytes,
    }));
  }

  /** Positions in the caches. */
  get length(): number {
    return this.layers[0]?.cache.length ?? 0;
  }

  /**
   * Feeds `tokens` at the next positions and returns the logits after the last one, `[1, vocab]`
   * (the caller disposes it).
   */
  async step(tokens: readonly number[]): Promise<Tensor> {
    const { tf, config } = this;
    const { heads, kvHeads, headDim, vocab } = config;
    const count = tokens.length;
    if (count === 0 || count > this.options.maxChunk) {
      throw new Error(`step takes 1 to ${this.options.maxChunk} tokens, got ${count}`);
    }
    const bad = tokens.find((t) => !Number.isInteger(t) || t < 0 || t >= vocab);
    if (bad !== undefined) throw new Error(`token ${bad} is not in the vocabulary [0, ${vocab})`);
    const first = this.length;
    if (first + count > this.options.capacity) {
      throw new Error(
        `step: ${count} tokens after ${first} exceed the capacity of ${this.options.capacity}`,
      );
    }
    let x: Tensor = tf.tidy(() => tf.gather(this.embedding, tf.tensor1d([...tokens], 'int32')));
    const [cos, sin] = tf.tidy(() => [
      tf.reshape(tf.slice(this.ropeCos, [first, 0], [count, headDim]), [count, 1, headDim]),
      tf.reshape(tf.slice(this.ropeSin, [first, 0], [count, headDim]), [count, 1, headDim]),
    ]);
    try {
      for (const layer of this.layers) {
        const [q, k, v] = tf.tidy(() => {
          const h = this.rmsNorm(x);
          return [
            this.rope(h, layer.wq, layer.wqRotated, heads, cos!, sin!),
            this.rope(h, layer.wk, layer.wkRotated, kvHeads, cos!, sin!),
            tf.matMul(h, layer.wv),
          ];
        });
        // Each in a buffer of its own at offset 0, which any cache can bind or copy from.
        const gpu = [q!.dataToGPU(), k!.dataToGPU(), v!.dataToGPU()];
        tf.dispose([q!, k!, v!]);
        try {
          const [gq, gk, gv] = gpu.map((g) => {
            if (!g.buffer) throw new Error('tfjs dataToGPU() gave no GPU buffer (not webgpu?)');
            return g.buffer;
          });
          const kvShape = [1, count, kvHeads, headDim];
          await layer.cache.append({
            k: { buffer: gk!, dtype: 'f32', shape: kvShape },
            v: { buffer: gv!, dtype: 'f32', shape: kvShape },
          });
          await layer.cache.attend({
            q: { buffer: gq!, dtype: 'f32', shape: [1, count, heads, headDim] },
            o: { buffer: layer.output, dtype: 'f32', shape: [1, count, heads, headDim] },
          });
        } finally {
          for (const g of gpu) g.tensorRef.dispose();
        }
        const next: Tensor = tf.tidy(() => {
          const o = tf.tensor(
            { buffer: layer.output, zeroCopy: true },
            [count, heads * headDim],
            'float32',
          );
          const attended = tf.add(x, tf.matMul(o, layer.wo));
          const h = this.rmsNorm(attended);
          const gate = tf.matMul(h, layer.wGate);
          const hidden = tf.mul(tf.mul(gate, tf.sigmoid(gate)), tf.matMul(h, layer.wUp));
          const mlp = tf.matMul(hidden as Tensor, layer.wDown);
          return tf.add(attended, mlp);
        });
        x.dispose();
        x = next;
      }
      return tf.tidy(() => {
        const last = tf.slice(x, [count - 1, 0], [1, config.dModel]);
        return tf.matMul(this.rmsNorm(last), this.unembedding);
      });
    } finally {
      tf.dispose([x, cos!, sin!]);
    }
  }

  /** `step` without reading anything back (a prefill chunk). */
  async prefill(tokens: readonly number[]): Promise<void> {
    (await this.step(tokens)).dispose();
  }

  /** `step`, then the greedy choice read back (one number crosses to the host). */
  async stepGreedy(tokens: readonly number[]): Promise<number> {
    const logits = await this.step(tokens);
    const id = this.tf.argMax(logits, 1);
    try {
      return (await id.data())[0]!;
    } finally {
      this.tf.dispose([logits, id]);
    }
  }

  reset(): void {
    for (const layer of this.layers) layer.cache.reset();
  }

  destroy(): void {
    for (const layer of this.layers) destroyLayer(this.tf, layer);
    this.tf.dispose([this.embedding, this.unembedding, this.ropeCos, this.ropeSin]);
  }

  /** RMSNorm without its gain (folded into the next matrix, see gpu-weights.ts). */
  private rmsNorm(x: Tensor): Tensor {
    const { tf } = this;
    const meanSquare = tf.mean(tf.square(x), -1, true);
    return tf.mul(x, tf.rsqrt(tf.add(meanSquare, this.config.normEpsilon)));
  }

  /**
   * h W with RoPE, `[T, heads * D]`: (h W) * cos + (h W R) * sin per head, the rotate-half
   * form with R folded into the weights (gpu-weights.ts); cos, sin `[T, 1, D]`.
   */
  private rope(
    h: Tensor,
    w: Tensor,
    wRotated: Tensor,
    heads: number,
    cos: Tensor,
    sin: Tensor,
  ): Tensor {
    const { tf } = this;
    const count = h.shape[0]!;
    const shape = [count, heads, this.config.headDim];
    const rotated = tf.add(
      tf.mul(tf.reshape(tf.matMul(h, w), shape), cos),
      tf.mul(tf.reshape(tf.matMul(h, wRotated), shape), sin),
    );
    return tf.reshape(rotated, [count, heads * this.config.headDim]);
  }
}

function destroyLayer(tf: Tf, layer: GpuLayer): void {
  layer.cache.destroy();
  layer.attention.destroy();
  layer.output.destroy();
  tf.dispose([
    layer.wq,
    layer.wqRotated,
    layer.wk,
    layer.wkRotated,
    layer.wv,
    layer.wo,
    layer.wGate,
    layer.wUp,
    layer.wDown,
  ]);
}
