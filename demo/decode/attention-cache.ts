// A stand-in for the runtime's KV cache (issue 10, part 2, being built on branch i10-cache),
// with exactly its interface: `createCache({ batch, capacity })` on a loaded attention, then
// `append({ k, v })`, `attend({ q, o })`, `length`, `reset()`, `destroy()`. Here it is built
// on today's `runOnDevice`: one contiguous K and one V store of `capacity` positions that
// `append` copies new rows into on the GPU, and `attend`, which runs the attention over the
// whole prefix with the queries of the last appended positions (bottom-right alignment puts
// query row i at position length - T + i, so the mask sees absolute positions). Correct for
// every mask, but it keeps every key and walks the whole prefix, where the real cache keeps a
// ring for a windowed layer. `openKvCache` uses the real one once the loaded attention has it,
// so the decode loop switches over without a change.
//
// Only what the demo needs: batch 1, `layout: bnhd`, f32 (a bnhd store grows by whole rows,
// so appending T positions is one copy per tensor).

import type { LoadedAttention } from '../../src/runtime/loaded-kernel.js';
import type { DeviceTensor } from '../../src/runtime/device-tensor-args.js';

export type CacheTensor = DeviceTensor | Float32Array;

export interface KvCache {
  /** Absolute positions appended so far. */
  readonly length: number;
  /** k, v: `[B, Hkv, T, D]` in the spec's layout (here bnhd: `[B, T, Hkv, D]` in memory). */
  append(
    tensors: { readonly k: CacheTensor; readonly v: CacheTensor },
    options?: { readonly encoder?: GPUCommandEncoder },
  ): Promise<void>;
  /** q: the queries of the last T appended positions; o written in place, or read back. */
  attend(args: {
    readonly q: CacheTensor;
    readonly o?: DeviceTensor;
    readonly encoder?: GPUCommandEncoder;
  }): Promise<{ readonly o?: Float32Array }>;
  reset(): void;
  destroy(): void;
}

export interface CacheOptions {
  readonly batch: number;
  readonly capacity: number;
  /**
   * Most positions one append or attend covers (a prefill chunk): the runtime's ring cache
   * keeps that many slots beyond the look-back. The contiguous stand-in has no use for it.
   */
  readonly maxChunk?: number;
}

/** The head counts and widths the store is laid out by (the spec's). */
export interface CacheShape {
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
}

type WithCache = LoadedAttention & { createCache?: (options: CacheOptions) => KvCache };

/** The runtime's cache when the loaded attention has one, else the contiguous stand-in. */
export function openKvCache(
  device: GPUDevice,
  attention: LoadedAttention,
  shape: CacheShape,
  options: CacheOptions,
): KvCache {
  const withCache = attention as WithCache;
  if (typeof withCache.createCache === 'function') return withCache.createCache(options);
  return new ContiguousKvCache(device, attention, shape, options);
}

// Read when called: in Node the WebGPU globals exist only once an adapter module has loaded.
const storageUsage = () =>
  GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class ContiguousKvCache implements KvCache {
  private positions = 0;
  private readonly keys: GPUBuffer;
  private readonly values: GPUBuffer;
  /** Bytes of one position's k (or v): every kv head's row. */
  private readonly rowBytes: number;
  private readonly name: string;

  constructor(
    private readonly device: GPUDevice,
    private readonly attention: LoadedAttention,
    private readonly shape: CacheShape,
    private readonly options: CacheOptions,
  ) {
    this.name = attention.compiled.name;
    if (options.batch !== 1) {
      throw new Error(
        `attention '${this.name}': the demo's stand-in KV cache takes batch 1, got ${options.batch}`,
      );
    }
    if (!Number.isInteger(options.capacity) || options.capacity <= 0) {
      throw new Error(
        `attention '${this.name}': cache capacity must be a positive integer, got ${options.capacity}`,
      );
    }
    const k = attention.compiled.plan.inputs.find((input) => input.name === 'k');
    if (k?.dims.join(',') !== 'B,Nk,Hkv,D') {
      throw new Error(
        `attention '${this.name}': the demo's stand-in KV cache takes layout: bnhd specs`,
      );
    }
    this.rowBytes = shape.kvHeads * shape.headDim * 4;
    const size = options.capacity * this.rowBytes;
    this.keys = device.createBuffer({ label: `${this.name}.cache.k`, size, usage: storageUsage() });
    this.values = device.createBuffer({
      label: `${this.name}.cache.v`,
      size,
      usage: storageUsage(),
    });
  }

  get length(): number {
    return this.positions;
  }

  async append(
    tensors: { readonly k: CacheTensor; readonly v: CacheTensor },
    options: { readonly encoder?: GPUCommandEncoder } = {},
  ): Promise<void> {
    const count = this.positionsOf('k', tensors.k);
    const valueCount = this.positionsOf('v', tensors.v);
    if (valueCount !== count) {
      throw new Error(
        `attention '${this.name}': append: tensor 'v' has ${valueCount} positions, 'k' has ${count}`,
      );
    }
    if (this.positions + count > this.options.capacity) {
      throw new Error(
        `attention '${this.name}': append: ${count} positions after ${this.positions} exceed the cache's capacity of ${this.options.capacity}`,
      );
    }
    const at = this.positions * this.rowBytes;
    const bytes = count * this.rowBytes;
    const record = (encoder: GPUCommandEncoder) => {
      for (const [tensor, store] of [
        [tensors.k, this.keys],
        [tensors.v, this.values],
      ] as const) {
        if (tensor instanceof Float32Array) this.device.queue.writeBuffer(store, at, tensor);
        else encoder.copyBufferToBuffer(tensor.buffer, tensor.offset ?? 0, store, at, bytes);
      }
    };
    if (options.encoder) {
      record(options.encoder);
    } else {
      this.device.pushErrorScope('validation');
      const encoder = this.device.createCommandEncoder({ label: `${this.name}.cache.append` });
      record(encoder);
      this.device.queue.submit([encoder.finish()]);
      const error = await this.device.popErrorScope();
      if (error) {
        throw new Error(
          `attention '${this.name}': append rejected by the device: ${error.message}`,
        );
      }
    }
    this.positions += count;
  }

  async attend(args: {
    readonly q: CacheTensor;
    readonly o?: DeviceTensor;
    readonly encoder?: GPUCommandEncoder;
  }): Promise<{ readonly o?: Float32Array }> {
    const { heads, kvHeads, headDim } = this.shape;
    const rows = this.queryRowsOf(args.q);
    if (rows > this.positions) {
      throw new Error(
        `attention '${this.name}': attend: ${rows} query rows, but only ${this.positions} positions were appended`,
      );
    }
    const kv = (buffer: GPUBuffer): DeviceTensor => ({
      buffer,
      dtype: 'f32',
      shape: [1, this.positions, kvHeads, headDim],
    });
    const qShape = [1, rows, heads, headDim];
    const sizes = { batch: 1, seqQ: rows, seqK: this.positions };
    if (!(args.q instanceof Float32Array)) {
      if (!args.o) throw new Error(`attention '${this.name}': attend: a device q needs an o`);
      await this.attention.runOnDevice({
        q: { ...args.q, shape: args.q.shape ?? qShape },
        k: kv(this.keys),
        v: kv(this.values),
        o: args.o,
        ...sizes,
        ...(args.encoder ? { encoder: args.encoder } : {}),
      });
      return {};
    }
    // Host queries: through device buffers of our own, then o back to the host (tests, tools).
    const q = this.device.createBuffer({ size: args.q.byteLength, usage: storageUsage() });
    const o = this.device.createBuffer({ size: args.q.byteLength, usage: storageUsage() });
    const staging = this.device.createBuffer({
      size: args.q.byteLength,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      this.device.queue.writeBuffer(q, 0, args.q);
      await this.attention.runOnDevice({
        q: { buffer: q, dtype: 'f32', shape: qShape },
        k: kv(this.keys),
        v: kv(this.values),
        o: args.o ?? { buffer: o, dtype: 'f32' },
        ...sizes,
      });
      if (args.o) return {};
      const encoder = this.device.createCommandEncoder();
      encoder.copyBufferToBuffer(o, 0, staging, 0, args.q.byteLength);
      this.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      return { o: out };
    } finally {
      q.destroy();
      o.destroy();
      staging.destroy();
    }
  }

  reset(): void {
    this.positions = 0;
  }

  destroy(): void {
    this.keys.destroy();
    this.values.destroy();
  }

  /** T of a k or v: from the shape `[1, T, Hkv, D]` (bnhd) or the array's length. */
  private positionsOf(name: 'k' | 'v', tensor: CacheTensor): number {
    const { kvHeads, headDim } = this.shape;
    const expected = `[B, Nk, Hkv, D] = [1, T, ${kvHeads}, ${headDim}]`;
    if (tensor instanceof Float32Array) {
      const row = kvHeads * headDim;
      if (tensor.length === 0 || tensor.length % row !== 0) {
        throw new Error(
          `attention '${this.name}': append: tensor '${name}' has ${tensor.length} elements, not a multiple of ${row} (${expected})`,
        );
      }
      return tensor.length / row;
    }
    return this.checkedRows(name, tensor, kvHeads, expected);
  }

  private queryRowsOf(q: CacheTensor): number {
    const { heads, headDim } = this.shape;
    const expected = `[B, Nq, H, D] = [1, T, ${heads}, ${headDim}]`;
    if (q instanceof Float32Array) {
      const row = heads * headDim;
      if (q.length === 0 || q.length % row !== 0) {
        throw new Error(
          `attention '${this.name}': attend: tensor 'q' has ${q.length} elements, not a multiple of ${row} (${expected})`,
        );
      }
      return q.length / row;
    }
    return this.checkedRows('q', q, heads, expected);
  }

  private checkedRows(name: string, tensor: DeviceTensor, heads: number, expected: string): number {
    const shape = tensor.shape;
    if (!shape) {
      throw new Error(
        `attention '${this.name}': tensor '${name}' needs a shape (${expected}) to give its positions`,
      );
    }
    const [b, t, h, d] = shape;
    if (shape.length !== 4 || b !== 1 || h !== heads || d !== this.shape.headDim || !t || t < 1) {
      throw new Error(
        `attention '${this.name}': tensor '${name}' has shape [${shape.join(', ')}], expected ${expected}`,
      );
    }
    if (tensor.dtype !== 'f32') {
      throw new Error(
        `attention '${this.name}': tensor '${name}': dtype is ${tensor.dtype}, expected f32`,
      );
    }
    return t;
  }
}
