// Kernel tests of the KV cache with recurrent-state groups (src/runtime/cache/kv-cache.ts
// wiring recurrent-state.ts): causal kernelized groups alone and in hybrids with windowed and
// global softmax groups, token by token and in chunks, every attend compared with the CPU
// reference over the full K/V so far; GQA, f16, bnhd, FAVOR+, reset, bytes, no allocation
// once warm, and the errors that are particular to a recurrent state.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutput } from '../../../src/api/compare-output.js';
import { compile, type CompiledModule } from '../../../src/api/compile.js';
import { randomInputs, type RandomInputs } from '../../../src/api/random-inputs.js';
import { reference } from '../../../src/api/reference.js';
import { createRuntime, type LoadedModule, type Runtime } from '../../../src/api/runtime.js';
import type { KvCache } from '../../../src/runtime/cache/kv-cache.js';
import { packHalves } from '../../../src/runtime/f16.js';
import { adapterAvailability } from '../gpu-availability.js';

const availability = await adapterAvailability('llvmpipe');

/** Positions [from, to) of a [B, H, N, W] (bhnd) or [B, N, H, W] (bnhd) array. */
function positions(
  data: Float32Array,
  layout: 'bhnd' | 'bnhd',
  dims: { batch: number; heads: number; n: number; width: number },
  from: number,
  to: number,
): Float32Array {
  const { batch, heads, n, width } = dims;
  const t = to - from;
  const out = new Float32Array(batch * heads * t * width);
  for (let b = 0; b < batch; b++) {
    if (layout === 'bhnd') {
      for (let h = 0; h < heads; h++) {
        const src = ((b * heads + h) * n + from) * width;
        out.set(data.subarray(src, src + t * width), (b * heads + h) * t * width);
      }
    } else {
      const src = (b * n + from) * heads * width;
      out.set(data.subarray(src, src + t * heads * width), b * t * heads * width);
    }
  }
  return out;
}

/**
 * Appends each chunk's k and v (host arrays) and attends its queries, comparing every output
 * with the reference over positions [0, length). Returns the cache (still open).
 */
async function decodeLoop(
  module: CompiledModule,
  loaded: LoadedModule,
  loop: { chunks: readonly number[]; batch?: number; capacity?: number; maxChunk?: number },
  existing?: KvCache,
  seed = 0,
): Promise<KvCache> {
  const a = module.ir;
  const batch = loop.batch ?? 1;
  const total = loop.chunks.reduce((x, y) => x + y, 0);
  const inputs = randomInputs(module, { batch, seqQ: total, seqK: total, seed });
  const cache =
    existing ??
    loaded.createCache({
      batch,
      capacity: loop.capacity ?? total,
      ...(loop.maxChunk ? { maxChunk: loop.maxChunk } : {}),
    });
  const dims = (heads: number, width: number) => ({ batch, heads, n: total, width });
  let length = 0;
  for (const t of loop.chunks) {
    const end = length + t;
    const k = positions(inputs.k, a.layout, dims(a.kvHeads, a.headDim), length, end);
    const v = positions(inputs.v, a.layout, dims(a.kvHeads, a.valueDim), length, end);
    await cache.append({ k, v });
    expect(cache.length).toBe(end);
    const q = positions(inputs.q, a.layout, dims(a.heads, a.headDim), length, end);
    const { o } = await cache.attend({ q });
    const expected = reference(module, {
      batch,
      seqQ: t,
      seqK: end,
      q,
      k: positions(inputs.k, a.layout, dims(a.kvHeads, a.headDim), 0, end),
      v: positions(inputs.v, a.layout, dims(a.kvHeads, a.valueDim), 0, end),
    } as unknown as RandomInputs).o;
    const { relativeError } = compareOutput(o!, expected);
    expect(relativeError, `chunk of ${t} at length ${end}`).toBeLessThan(
      a.dtype === 'f16' ? 4e-3 : 1e-4,
    );
    length = end;
  }
  return cache;
}

const tokens = (n: number) => new Array<number>(n).fill(1);

/** Windowed, global and elu1 heads in one spec (Gemma-, GPT-OSS-, Qwen3-Next-style). */
const HYBRID = `attention hybrid {
  head_dim: 16
  causal: true
  group local { heads: 2; kv_heads: 1; mask: window(left: 4) | sink(1) }
  group global { heads: 2; kv_heads: 1 }
  group linear { heads: 4; kv_heads: 2; kernel: elu1 }
}`;

describe.skipIf(!availability.run)('KV cache with recurrent states on llvmpipe', () => {
  let runtime: Runtime;
  const load = async (text: string) => {
    const result = compile(text, { target: runtime.profile });
    const module = result.modules[0];
    if (!module) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
    return { module, loaded: await runtime.load(module) };
  };
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
  });
  afterAll(() => runtime?.destroy());

  it('elu1 alone, GQA: no keys kept, token by token and in chunks; reset starts over', async () => {
    const { module, loaded } = await load(
      'attention lin { heads: 4; kv_heads: 2; head_dim: 16; causal: true; kernel: elu1 }',
    );
    const cache = await decodeLoop(module, loaded, { chunks: [...tokens(6), 5, 1, 8, 2] });
    expect(cache.slots.kind).toBe('none');
    expect(cache.buffers).toBeNull();
    // S and z per (batch, kv head): 16 x (16 + 1) f32, before any scratch.
    expect(cache.bytes).toBeGreaterThanOrEqual(2 * 16 * 17 * 4);
    cache.reset();
    expect(cache.length).toBe(0);
    await decodeLoop(module, loaded, { chunks: [3, 1, 1, 4] }, cache, 7);
    cache.destroy();
    loaded.destroy();
  });

  it('relu in bnhd at batch 2, favor(16) and f16 elu1', async () => {
    for (const text of [
      'attention r { heads: 2; head_dim: 8; value_dim: 12; layout: bnhd; causal: true; kernel: relu }',
      'attention f { heads: 2; kv_heads: 1; head_dim: 8; causal: true; kernel: favor(16, seed: 5) }',
      'attention h { heads: 4; kv_heads: 2; head_dim: 16; dtype: f16; causal: true; kernel: elu1 }',
    ]) {
      const { module, loaded } = await load(text);
      const cache = await decodeLoop(module, loaded, { chunks: [1, 1, 3, 1, 4, 1], batch: 2 });
      cache.destroy();
      loaded.destroy();
    }
  });

  it('f16 halves (Uint16Array) and a Float32Array the cache rounds give the same output', async () => {
    const { module, loaded } = await load(
      'attention h { heads: 4; kv_heads: 2; head_dim: 16; dtype: f16; causal: true; kernel: elu1 }',
    );
    const inputs = randomInputs(module, { batch: 1, seqQ: 3, seqK: 3, seed: 2 });
    const halves = (x: Float32Array) => new Uint16Array(packHalves(x, 'x').buffer, 0, x.length);
    const outputs: Float32Array[] = [];
    for (const asHalves of [false, true]) {
      const cache = loaded.createCache({ batch: 1, capacity: 8 });
      const k = inputs.k as Float32Array;
      const v = inputs.v as Float32Array;
      await cache.append(asHalves ? { k: halves(k), v: halves(v) } : { k, v });
      const q = inputs.q as Float32Array;
      outputs.push((await cache.attend({ q: asHalves ? halves(q) : q })).o!);
      cache.destroy();
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(compareOutput(outputs[0]!, reference(module, inputs).o).relativeError).toBeLessThan(
      4e-3,
    );
    loaded.destroy();
  });

  it('a hybrid of windowed, global and elu1 groups: a k/v store per softmax group, elu1 its state', async () => {
    const { module, loaded } = await load(HYBRID);
    const chunks = [...tokens(7), 3, 1, 2, 3, ...tokens(5), 3];
    const cache = await decodeLoop(module, loaded, { chunks, capacity: 64, maxChunk: 3 });
    // The global group reads every key: its store is contiguous (the widest, `slots`); the
    // windowed group's is its ring.
    expect(cache.slots).toMatchObject({ kind: 'contiguous', rows: 64 });
    expect(cache.stores.map((s) => s.slots.kind)).toEqual(['ring', 'contiguous']);
    cache.reset();
    await decodeLoop(module, loaded, { chunks: [2, 1, 1, 3], capacity: 64 }, cache, 3);
    cache.destroy();
    loaded.destroy();
  });

  it('a hybrid of windowed and elu1 groups keeps a ring; f16; batch 2', async () => {
    for (const dtype of ['f32', 'f16']) {
      const { module, loaded } = await load(`attention hy {
        head_dim: 16
        dtype: ${dtype}
        causal: true
        group local { heads: 4; kv_heads: 2; mask: window(left: 5) | sink(2) }
        group linear { heads: 4; kv_heads: 2; kernel: elu1 }
      }`);
      const chunks = [1, 2, 3, 1, 1, 3, 2, 1, 3, 3, 1, 2, 1, 1];
      const cache = await decodeLoop(module, loaded, {
        chunks,
        batch: 2,
        capacity: 10_000,
        maxChunk: 3,
      });
      expect(cache.slots).toMatchObject({ kind: 'ring', rows: 5 + 3 + 2 });
      cache.destroy();
      loaded.destroy();
    }
  });

  it('examples/hybrid_groups.attn (window(left: 128) and elu1 groups, D = 64): a ring and a state', async () => {
    const { module, loaded } = await load(
      readFileSync(new URL('../../../examples/hybrid_groups.attn', import.meta.url), 'utf8'),
    );
    const cache = await decodeLoop(module, loaded, {
      chunks: [4, 1, 1, 4, 1, 2, 1],
      capacity: 4096,
      maxChunk: 4,
    });
    expect(cache.slots).toMatchObject({ kind: 'ring', rows: 128 + 4 });
    cache.destroy();
    loaded.destroy();
  });

  it('a warm hybrid decode step creates no GPU buffer (device tensors, caller encoder)', async () => {
    const { loaded } = await load(HYBRID);
    const device = runtime.device;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = (floats: number) => device.createBuffer({ size: floats * 4, usage });
    const k = { buffer: buffer(4 * 16), dtype: 'f32', shape: [1, 4, 1, 16] } as const;
    const v = { buffer: buffer(4 * 16), dtype: 'f32', shape: [1, 4, 1, 16] } as const;
    const q = { buffer: buffer(8 * 16), dtype: 'f32', shape: [1, 8, 1, 16] } as const;
    const o = { buffer: buffer(8 * 16), dtype: 'f32' } as const;
    const cache = loaded.createCache({ batch: 1, capacity: 4096 });
    const step = async () => {
      const encoder = device.createCommandEncoder();
      await cache.append({ k, v }, { encoder });
      await cache.attend({ q, o, encoder });
      device.queue.submit([encoder.finish()]);
    };
    for (let n = 0; n < 3; n++) await step();
    let created = 0;
    const createBuffer = device.createBuffer;
    device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      created++;
      return createBuffer.call(device, descriptor);
    };
    try {
      for (let n = 0; n < 20; n++) await step();
    } finally {
      device.createBuffer = createBuffer;
    }
    await device.queue.onSubmittedWorkDone();
    expect(created).toBe(0);
    expect(cache.length).toBe(23);
    cache.destroy();
    for (const t of [k, v, q, o]) t.buffer.destroy();
    loaded.destroy();
  });

  it('errors particular to a recurrent state, and linformer still refused', async () => {
    const { loaded } = await load(HYBRID);
    const cache = loaded.createCache({ batch: 1, capacity: 64 });
    const row = (heads: number) => new Float32Array(heads * 16).fill(0.5);
    await cache.append({ k: row(4), v: row(4) });
    await cache.append({ k: row(4), v: row(4) });
    await expect(cache.attend({ q: new Float32Array(2 * 8 * 16) })).rejects.toThrow(
      "attend: 2 query rows, but the last append had 1 position; group 'linear' keeps a recurrent state, which answers only the queries of the last append",
    );
    const lse = {
      buffer: runtime.device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE }),
      dtype: 'f32',
    } as const;
    await expect(cache.attend({ q: row(8), lse })).rejects.toThrow(
      "attend: tensor 'lse' is not available: group 'linear' keeps a recurrent state",
    );
    lse.buffer.destroy();
    cache.destroy();
    await expect(cache.append({ k: row(4), v: row(4) })).rejects.toThrow(/destroyed/);
    loaded.destroy();
    const lin = await load(
      'attention lf { heads: 2; head_dim: 16; max_seq: 64; lowrank: linformer(8) }',
    );
    expect(() => lin.loaded.createCache({ batch: 1, capacity: 64 })).toThrow(
      /has a linformer group \('lf'\): pass its projections E and F/,
    );
    lin.loaded.destroy();
  });
});
