// Kernel tests of a KV cache's store per softmax head group (src/runtime/cache/group-stores.ts)
// on llvmpipe: hybrids of a `window | sink` group on a ring that wraps several times, a global
// group on a contiguous store (and an elu1 group on its recurrent state), bhnd and bnhd, batch
// 2, f32 and f16, token by token and in chunks, every attend compared with the CPU reference
// over the full K/V up to the cache's length; each store's rows read back at their slots; the
// memory each store holds; no GPU buffer created by a warm decode step.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutput } from '../../../src/api/compare-output.js';
import { compile, type CompiledModule } from '../../../src/api/compile.js';
import { randomInputs, type RandomInputs } from '../../../src/api/random-inputs.js';
import { reference } from '../../../src/api/reference.js';
import { createRuntime, type LoadedModule, type Runtime } from '../../../src/api/runtime.js';
import type { KvCache } from '../../../src/runtime/cache/kv-cache.js';
import { slotOf } from '../../../src/runtime/cache/slots.js';
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

/** Columns [from, to) of a [B, N] u32 array. */
function columns(data: Uint32Array, batch: number, n: number, from: number, to: number) {
  const out = new Uint32Array(batch * (to - from));
  for (let b = 0; b < batch; b++) out.set(data.subarray(b * n + from, b * n + to), b * (to - from));
  return out;
}

/** A windowed group (4 heads on 2 kv heads, ring), a global one (2 on 1), maybe an elu1 one. */
function hybrid(options: { layout: string; dtype: string; linear: boolean }): string {
  return `attention hy {
  head_dim: 16
  layout: ${options.layout}
  dtype: ${options.dtype}
  causal: true
  group local { heads: 4; kv_heads: 2; mask: window(left: 5) | sink(2) }
  group global { heads: 2; kv_heads: 1 }
${options.linear ? '  group linear { heads: 2; kv_heads: 1; kernel: elu1 }\n' : ''}}`;
}

const tokens = (n: number) => new Array<number>(n).fill(1);
/** 38 positions: the windowed group's ring of 5 + 3 + 2 = 10 rows wraps several times. */
const CHUNKS = [...tokens(6), 3, 1, 2, 3, ...tokens(8), 3, 2, 1, 3, ...tokens(6)];
const MAX_CHUNK = 3;

describe.skipIf(!availability.run)('KV cache stores per head group on llvmpipe', () => {
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

  /**
   * Appends each chunk's k and v (host arrays) and attends its queries, comparing every output
   * with the reference over positions [0, length); then reads each store back and checks every
   * kept position's k rows of the store's kv heads at its slot.
   */
  async function decodeLoop(
    module: CompiledModule,
    loaded: LoadedModule,
    batch: number,
    capacity: number,
  ): Promise<KvCache> {
    const a = module.ir;
    const total = CHUNKS.reduce((x, y) => x + y, 0);
    const inputs = randomInputs(module, { batch, seqQ: total, seqK: total, seed: 5 });
    const cache = loaded.createCache({ batch, capacity, maxChunk: MAX_CHUNK });
    const dims = (heads: number, width: number) => ({ batch, heads, n: total, width });
    let length = 0;
    for (const t of CHUNKS) {
      const end = length + t;
      const k = positions(inputs.k, a.layout, dims(a.kvHeads, a.headDim), length, end);
      const v = positions(inputs.v, a.layout, dims(a.kvHeads, a.valueDim), length, end);
      const segK = inputs.seg_k && columns(inputs.seg_k, batch, total, length, end);
      await cache.append({ k, v, ...(segK ? { seg_k: segK } : {}) });
      const q = positions(inputs.q, a.layout, dims(a.heads, a.headDim), length, end);
      const { o } = await cache.attend({ q, ...(segK ? { seg_q: segK } : {}) });
      const expected = reference(module, {
        batch,
        seqQ: t,
        seqK: end,
        q,
        k: positions(inputs.k, a.layout, dims(a.kvHeads, a.headDim), 0, end),
        v: positions(inputs.v, a.layout, dims(a.kvHeads, a.valueDim), 0, end),
        ...(segK ? { seg_q: segK, seg_k: columns(inputs.seg_k!, batch, total, 0, end) } : {}),
      } as unknown as RandomInputs).o;
      const { relativeError } = compareOutput(o!, expected);
      expect(relativeError, `${a.layout} ${a.dtype}: chunk of ${t} at length ${end}`).toBeLessThan(
        a.dtype === 'f16' ? 4e-3 : 1e-4,
      );
      length = end;
    }
    if (a.dtype === 'f32') await checkStoredRows(cache, inputs.k, a.layout, a.kvHeads, total);
    return cache;
  }

  /** Each store's k holds its kv heads' rows of every position it still keeps, at its slot. */
  async function checkStoredRows(
    cache: KvCache,
    k: Float32Array,
    layout: 'bhnd' | 'bnhd',
    kvHeads: number,
    total: number,
  ) {
    const D = 16;
    const device = runtime.device;
    for (const s of cache.stores) {
      const read = device.createBuffer({
        size: s.store.k.size,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(s.store.k, 0, read, 0, s.store.k.size);
      device.queue.submit([encoder.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const stored = new Float32Array(read.getMappedRange().slice(0));
      read.destroy();
      const { rows } = s.slots;
      const kept = s.heads.count;
      const oldest = s.slots.kind === 'ring' ? total - s.slots.ringSlots : 0;
      for (let b = 0; b < cache.batch; b++) {
        for (let h = 0; h < kept; h++) {
          const hk = s.heads.first + h;
          for (let p = 0; p < total; p++) {
            if (p >= s.slots.prefix && p < oldest) continue;
            const slot = slotOf(s.slots, p);
            const at =
              layout === 'bhnd'
                ? ((b * kept + h) * rows + slot) * D
                : ((b * rows + slot) * kept + h) * D;
            const from =
              layout === 'bhnd'
                ? ((b * kvHeads + hk) * total + p) * D
                : ((b * total + p) * kvHeads + hk) * D;
            expect(
              stored.subarray(at, at + D),
              `store ${s.groups} b${b} kv head ${hk} p${p}`,
            ).toEqual(k.subarray(from, from + D));
          }
        }
      }
    }
  }

  it('window | sink on a wrapping ring next to a global group: bhnd and bnhd, batch 2, f32 and f16', async () => {
    for (const layout of ['bhnd', 'bnhd']) {
      for (const dtype of ['f32', 'f16']) {
        const { module, loaded } = await load(hybrid({ layout, dtype, linear: false }));
        const cache = await decodeLoop(module, loaded, 2, 64);
        expect(cache.stores.map((s) => [s.groups, s.heads, s.slots.kind, s.slots.rows])).toEqual([
          [['local'], { first: 0, count: 2 }, 'ring', 5 + MAX_CHUNK + 2],
          [['global'], { first: 2, count: 1 }, 'contiguous', 64],
        ]);
        // `slots` and `buffers` are the widest store's: the global group's.
        expect(cache.slots).toBe(cache.stores[1]!.slots);
        expect(cache.buffers!.k).toBe(cache.stores[1]!.store.k);
        cache.destroy();
        loaded.destroy();
      }
    }
  });

  it('with an elu1 group as well: its kv heads are kept by no store', async () => {
    for (const [layout, dtype] of [
      ['bhnd', 'f32'],
      ['bnhd', 'f32'],
      ['bnhd', 'f16'],
    ] as const) {
      const { module, loaded } = await load(hybrid({ layout, dtype, linear: true }));
      const cache = await decodeLoop(module, loaded, 2, 64);
      expect(cache.stores.map((s) => s.heads)).toEqual([
        { first: 0, count: 2 },
        { first: 2, count: 1 },
      ]);
      cache.reset();
      expect(cache.length).toBe(0);
      cache.destroy();
      loaded.destroy();
    }
  });

  it('a segment mask next to a windowed group: every store contiguous, seg_k kept once', async () => {
    const { module, loaded } = await load(`attention seg {
  head_dim: 16
  causal: true
  group local { heads: 2; kv_heads: 1; mask: segment & window(left: 4) }
  group docs { heads: 2; kv_heads: 1; mask: segment }
}`);
    const cache = await decodeLoop(module, loaded, 2, 48);
    expect(cache.stores.map((s) => [s.slots.kind, s.slots.rows, s.store.segK !== null])).toEqual([
      ['contiguous', 48, true],
      ['contiguous', 48, false],
    ]);
    cache.destroy();
    loaded.destroy();
  });

  it('a routed topk group next to a windowed one: its contiguous store and block means, a ring', async () => {
    const { module, loaded } = await load(`attention rh {
  head_dim: 16
  causal: true
  group moba { heads: 2; kv_heads: 1; mask: topk(2, block: 8) }
  group local { heads: 2; kv_heads: 1; mask: window(left: 4) | sink(1) }
}`);
    const cache = await decodeLoop(module, loaded, 2, 48);
    expect(cache.stores.map((s) => [s.heads.first, s.slots.kind, s.slots.rows])).toEqual([
      [0, 'contiguous', 48],
      [1, 'ring', 4 + MAX_CHUNK + 1],
    ]);
    cache.destroy();
    loaded.destroy();
  });

  it('without a cache the same kernels read every kv head (kvGroupStores = 0): split-K and fused', async () => {
    for (const layout of ['bhnd', 'bnhd']) {
      const { module, loaded } = await load(hybrid({ layout, dtype: 'f32', linear: true }));
      for (const [seqQ, seqK] of [
        [1, 40],
        [20, 40],
      ] as const) {
        const inputs = randomInputs(module, { batch: 2, seqQ, seqK, seed: seqQ });
        const { o } = await loaded.run(inputs);
        const { relativeError } = compareOutput(o, reference(module, inputs).o);
        expect(relativeError, `${layout} seqQ ${seqQ}`).toBeLessThan(1e-4);
      }
      loaded.destroy();
    }
  });

  it("the windowed group's store holds its ring whatever the capacity; bytes per the formula", async () => {
    const { loaded } = await load(hybrid({ layout: 'bhnd', dtype: 'f32', linear: false }));
    const B = 2;
    const perPosition = (16 + 16) * 4; // (D + Dv) * e
    for (const capacity of [64, 100_000]) {
      const cache = loaded.createCache({ batch: B, capacity, maxChunk: MAX_CHUNK });
      const ring = B * 2 * perPosition * (5 + MAX_CHUNK + 2); // local: 2 kv heads
      const contiguous = B * 1 * perPosition * capacity; // global: 1 kv head
      expect(cache.stores[0]!.store.bytes).toBe(ring);
      expect(cache.stores[1]!.store.bytes).toBe(contiguous);
      expect(cache.bytes).toBe(ring + contiguous);
      cache.destroy();
    }
    loaded.destroy();
  });

  it('a warm decode step creates no GPU buffer (device tensors, bnhd, batch 2); its output matches the reference', async () => {
    const { module, loaded } = await load(hybrid({ layout: 'bnhd', dtype: 'f32', linear: true }));
    const a = module.ir;
    const B = 2;
    const steps = 23;
    const inputs = randomInputs(module, { batch: B, seqQ: steps, seqK: steps, seed: 9 });
    const device = runtime.device;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = (floats: number) => device.createBuffer({ size: floats * 4, usage });
    const k = { buffer: buffer(B * 4 * 16), dtype: 'f32', shape: [B, 1, 4, 16] } as const;
    const v = { buffer: buffer(B * 4 * 16), dtype: 'f32', shape: [B, 1, 4, 16] } as const;
    const q = { buffer: buffer(B * 8 * 16), dtype: 'f32', shape: [B, 1, 8, 16] } as const;
    const o = { buffer: buffer(B * 8 * 16), dtype: 'f32' } as const;
    const cache = loaded.createCache({ batch: B, capacity: 4096, maxChunk: MAX_CHUNK });
    const dims = (heads: number) => ({ batch: B, heads, n: steps, width: 16 });
    const step = async (n: number) => {
      device.queue.writeBuffer(k.buffer, 0, positions(inputs.k, a.layout, dims(4), n, n + 1));
      device.queue.writeBuffer(v.buffer, 0, positions(inputs.v, a.layout, dims(4), n, n + 1));
      device.queue.writeBuffer(q.buffer, 0, positions(inputs.q, a.layout, dims(8), n, n + 1));
      const encoder = device.createCommandEncoder();
      await cache.append({ k, v }, { encoder });
      await cache.attend({ q, o, encoder });
      device.queue.submit([encoder.finish()]);
    };
    for (let n = 0; n < 3; n++) await step(n);
    let created = 0;
    const createBuffer = device.createBuffer;
    device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      created++;
      return createBuffer.call(device, descriptor);
    };
    try {
      for (let n = 3; n < steps; n++) await step(n);
    } finally {
      device.createBuffer = createBuffer;
    }
    expect(created).toBe(0);
    expect(cache.length).toBe(steps);
    const read = device.createBuffer({
      size: o.buffer.size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(o.buffer, 0, read, 0, o.buffer.size);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const last = new Float32Array(read.getMappedRange().slice(0));
    read.destroy();
    const expected = reference(module, {
      batch: B,
      seqQ: 1,
      seqK: steps,
      q: positions(inputs.q, a.layout, dims(8), steps - 1, steps),
      k: inputs.k,
      v: inputs.v,
    } as unknown as RandomInputs).o;
    expect(compareOutput(last, expected).relativeError).toBeLessThan(1e-4);
    cache.destroy();
    for (const t of [k, v, q, o]) t.buffer.destroy();
    loaded.destroy();
  });
});
