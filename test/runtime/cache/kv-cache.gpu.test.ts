// Kernel tests of the KV cache (src/runtime/cache): decode loops on llvmpipe, token by token
// and in chunks, where every attend's output is compared with the CPU reference over the full
// K/V up to the cache's length (the same positions, no cache). A ring that wraps several
// times, dilated / blocks / global masks, a segment mask, GQA, f16, bnhd, chunks past the
// split-K path (the fused kernel), reset, no allocation once warm, the stores' rows read back
// at their slots, and each bad input; and the subgroup variant on SwiftShader (its K/V tiles
// staged by slot) on a wrapping ring.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutput } from '../../../src/api/compare-output.js';
import { compile, type CompiledModule } from '../../../src/api/compile.js';
import { randomInputs, type RandomInputs } from '../../../src/api/random-inputs.js';
import { reference } from '../../../src/api/reference.js';
import { createRuntime, type LoadedModule, type Runtime } from '../../../src/api/runtime.js';
import { acquireDevice } from '../../../src/runtime/device.js';
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

function moduleOf(text: string, runtime: Runtime): CompiledModule {
  const result = compile(text, { target: runtime.profile });
  const module = result.modules[0];
  if (!module) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  return module;
}

interface Loop {
  readonly chunks: readonly number[];
  readonly batch?: number;
  readonly capacity?: number;
  readonly maxChunk?: number;
}

/**
 * Appends the chunks' k and v (host arrays) and attends each chunk's queries, comparing every
 * output with the reference over positions [0, length). Returns the cache (still open).
 */
async function decodeLoop(
  module: CompiledModule,
  loaded: LoadedModule,
  loop: Loop,
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
    const segK = inputs.seg_k && columns(inputs.seg_k, batch, total, length, end);
    await cache.append({ k, v, ...(segK ? { seg_k: segK } : {}) });
    expect(cache.length).toBe(end);
    const q = positions(inputs.q, a.layout, dims(a.heads, a.headDim), length, end);
    const segQ = inputs.seg_k && columns(inputs.seg_k, batch, total, length, end);
    // Router logits [B, Nq, H]: the rows of this chunk's queries.
    const router =
      inputs.router &&
      positions(inputs.router, 'bnhd', { batch, heads: a.heads, n: total, width: 1 }, length, end);
    const { o } = await cache.attend({
      q,
      ...(segQ ? { seg_q: segQ } : {}),
      ...(router ? { router } : {}),
    });
    const expected = reference(module, {
      batch,
      seqQ: t,
      seqK: end,
      q,
      k: positions(inputs.k, a.layout, dims(a.kvHeads, a.headDim), 0, end),
      v: positions(inputs.v, a.layout, dims(a.kvHeads, a.valueDim), 0, end),
      ...(segQ ? { seg_q: segQ, seg_k: columns(inputs.seg_k!, batch, total, 0, end) } : {}),
      ...(router ? { router } : {}),
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

describe.skipIf(!availability.run)('KV cache on llvmpipe', () => {
  let runtime: Runtime;
  const load = async (text: string) => {
    const module = moduleOf(text, runtime);
    return { module, loaded: await runtime.load(module) };
  };
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
  });
  afterAll(() => runtime?.destroy());

  it('dense causal GQA: token by token, then a prefill chunk past the split-K path', async () => {
    const { module, loaded } = await load(
      'attention dense { heads: 4; kv_heads: 2; head_dim: 16; causal: true }',
    );
    const cache = await decodeLoop(module, loaded, { chunks: tokens(12), capacity: 64 });
    expect(cache.slots).toMatchObject({ kind: 'contiguous', rows: 64 });
    // (D + Dv) * 4 bytes * 64 rows * 2 kv heads: the plan's contiguous formula.
    expect(cache.bytes).toBe(32 * 4 * 64 * 2);
    cache.destroy();
    (await decodeLoop(module, loaded, { chunks: [20, 1, 3, 17], capacity: 48 })).destroy();
    loaded.destroy();
  });

  it('window(left: 5) | sink(2): a ring of 5 + 4 + 2 slots that wraps several times', async () => {
    const { module, loaded } = await load(
      'attention ring { heads: 2; kv_heads: 1; head_dim: 16; causal: true; mask: window(left: 5) | sink(2) }',
    );
    const chunks = [1, 3, 4, 2, 1, 1, 4, 3, 2, 4, 1, 1, 1, 4, 4, 2, 3];
    const cache = await decodeLoop(module, loaded, { chunks, capacity: 1000, maxChunk: 4 });
    expect(cache.slots).toMatchObject({ kind: 'ring', rows: 11, prefix: 2, ringSlots: 9 });
    expect(cache.bytes).toBe(32 * 4 * 11);
    cache.destroy();
    (await decodeLoop(module, loaded, { chunks: tokens(30), capacity: 1000 })).destroy();
    loaded.destroy();
  });

  it('a ring whose chunks take the fused kernel (more than 16 rows)', async () => {
    const { module, loaded } = await load(
      'attention ring { heads: 2; head_dim: 16; causal: true; mask: window(left: 9) | sink(1) }',
    );
    const cache = await decodeLoop(module, loaded, {
      chunks: [20, 18, 1, 20, 20],
      capacity: 10_000,
      maxChunk: 20,
    });
    expect(cache.slots.kind).toBe('ring');
    cache.destroy();
    loaded.destroy();
  });

  it('the tiled variant (GPU-shaped: K/V tiles staged by slot) on a wrapping ring', async () => {
    const text =
      'attention ring { heads: 4; kv_heads: 2; head_dim: 16; causal: true; mask: window(left: 7) | sink(2) }';
    const module = compile(text, {
      target: runtime.profile,
      schedules: { '*': { variant: 'tiled' } },
    }).modules[0]!;
    expect(module.plan.kernels.some((k) => k.wgsl.includes('var<workgroup> kTile'))).toBe(true);
    const loaded = await runtime.load(module);
    const cache = await decodeLoop(module, loaded, {
      chunks: [20, 1, 17, 20, 3, 18, 20],
      capacity: 10_000,
      maxChunk: 20,
    });
    expect(cache.slots.kind).toBe('ring');
    cache.destroy();
    loaded.destroy();
  });

  for (const [name, mask] of [
    ['dilated', 'dilated(3, 2)'],
    ['blocks', 'blocks(4)'],
    ['global', 'window(left: 3) | global(first: 2)'],
  ] as const) {
    it(`${name}: a ring, token by token and in chunks`, async () => {
      const { module, loaded } = await load(
        `attention m { heads: 2; head_dim: 16; causal: true; mask: ${mask} }`,
      );
      const cache = await decodeLoop(module, loaded, {
        chunks: [1, 2, 3, 1, 1, 3, 2, 1, 3, 3, 1, 2],
        capacity: 10_000,
        maxChunk: 3,
      });
      expect(cache.slots.kind).toBe('ring');
      cache.destroy();
      loaded.destroy();
    });
  }

  it('segment mask at batch 2: seg_k kept per position', async () => {
    const { module, loaded } = await load(
      'attention docs { heads: 2; head_dim: 16; causal: true; mask: segment }',
    );
    (await decodeLoop(module, loaded, { chunks: [5, 1, 1, 6, 1, 2], batch: 2 })).destroy();
    loaded.destroy();
  });

  for (const [mask, loop] of [
    [
      'window(left: 6) & segment',
      { chunks: [1, 3, 4, 2, 1, 1, 4, 3, 2, 4, 1, 1, 1, 4, 4, 2, 3, 4, 4], maxChunk: 4 },
    ],
    ['(window(left: 5) | sink(2)) & segment', { chunks: [20, 1, 17, 20, 3, 18, 20], maxChunk: 20 }],
  ] as const) {
    it(`${mask} at batch 2: a ring that keeps seg_k per slot and wraps several times`, async () => {
      const { module, loaded } = await load(
        `attention docs { heads: 2; head_dim: 16; causal: true; mask: ${mask} }`,
      );
      const cache = await decodeLoop(module, loaded, { ...loop, batch: 2, capacity: 10_000 });
      const { rows } = cache.slots;
      expect(cache.slots.kind).toBe('ring');
      expect(cache.length).toBeGreaterThan(3 * rows);
      // k and v rows of 2 kv heads, and one u32 segment id per slot and batch entry (stores
      // are whole 16-byte vectors).
      expect(cache.bytes).toBe(2 * 2 * 32 * 4 * rows + Math.ceil((2 * rows * 4) / 16) * 16);
      cache.destroy();
      loaded.destroy();
    });
  }

  it('head routing: heads chosen per step from its router logits', async () => {
    const { module, loaded } = await load(
      'attention moh { heads: 4; kv_heads: 2; head_dim: 16; causal: true; mask: window(left: 6) | sink(1); head_routing: top(2) }',
    );
    (
      await decodeLoop(module, loaded, {
        chunks: [3, 1, 1, 2, 1, 3, 1, 1, 2],
        capacity: 1000,
        maxChunk: 3,
      })
    ).destroy();
    loaded.destroy();
  });

  it('the log-sum-exp of each row, on a ring, into device tensors', async () => {
    const text =
      'attention ring { heads: 2; kv_heads: 1; head_dim: 16; causal: true; mask: window(left: 3) | sink(1) }';
    const module = compile(text, { target: runtime.profile, lse: true }).modules[0]!;
    const loaded = await runtime.load(module);
    const device = runtime.device;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const o = device.createBuffer({ size: 2 * 16 * 4, usage });
    const lse = device.createBuffer({ size: 16, usage });
    const total = 12;
    const inputs = randomInputs(module, { batch: 1, seqQ: total, seqK: total, seed: 3 });
    const cache = loaded.createCache({ batch: 1, capacity: 1000, maxChunk: 1 });
    const dims = (heads: number) => ({ batch: 1, heads, n: total, width: 16 });
    for (let p = 0; p < total; p++) {
      await cache.append({
        k: positions(inputs.k, 'bhnd', dims(1), p, p + 1),
        v: positions(inputs.v, 'bhnd', dims(1), p, p + 1),
      });
      const q = positions(inputs.q, 'bhnd', dims(2), p, p + 1);
      expect(
        await cache.attend({
          q,
          o: { buffer: o, dtype: 'f32' },
          lse: { buffer: lse, dtype: 'f32' },
        }),
      ).toEqual({});
      const expected = reference(module, {
        batch: 1,
        seqQ: 1,
        seqK: p + 1,
        q,
        k: positions(inputs.k, 'bhnd', dims(1), 0, p + 1),
        v: positions(inputs.v, 'bhnd', dims(1), 0, p + 1),
      } as unknown as RandomInputs);
      expect(
        compareOutput((await readBack(device, o)).subarray(0, 32), expected.o).relativeError,
      ).toBeLessThan(1e-4);
      const got = (await readBack(device, lse)).subarray(0, 2);
      expected.lse!.forEach((x, i) => expect(got[i]).toBeCloseTo(x, 4));
    }
    cache.destroy();
    loaded.destroy();
  });

  it('f16 and bnhd', async () => {
    for (const text of [
      'attention half { heads: 2; kv_heads: 1; head_dim: 16; dtype: f16; causal: true; mask: window(left: 4) | sink(1) }',
      'attention rows { heads: 4; kv_heads: 2; head_dim: 16; layout: bnhd; causal: true; mask: window(left: 4) | sink(2) }',
      'attention rowsDense { heads: 2; head_dim: 16; layout: bnhd; causal: true }',
    ]) {
      const { module, loaded } = await load(text);
      const cache = await decodeLoop(module, loaded, {
        chunks: [3, 1, 1, 2, 3, 1, 1, 3, 2, 1],
        batch: 2,
        capacity: 64,
        maxChunk: 3,
      });
      cache.destroy();
      loaded.destroy();
    }
  });

  it('reset starts over; the stores hold each position at its slot', async () => {
    const { module, loaded } = await load(
      'attention ring { heads: 2; kv_heads: 1; head_dim: 4; causal: true; mask: window(left: 3) | sink(1) }',
    );
    const cache = await decodeLoop(module, loaded, {
      chunks: tokens(9),
      capacity: 100,
      maxChunk: 2,
    });
    cache.reset();
    expect(cache.length).toBe(0);
    await decodeLoop(
      module,
      loaded,
      { chunks: [2, 2, 1, 2, 2, 2, 1], capacity: 100, maxChunk: 2 },
      cache,
      5,
    );
    // Position p's k row is [p, p, p, p]: read the store back and find each kept one at its slot.
    cache.reset();
    const D = 4;
    for (let p = 0; p < 13; p++) {
      const row = new Float32Array(D).fill(p);
      await cache.append({ k: row, v: row });
    }
    const words = await readBack(runtime.device, cache.buffers!.k);
    const rows = cache.slots.rows;
    expect(rows).toBe(3 + 2 + 1);
    for (let p = 13 - (rows - 1); p < 13; p++) {
      expect(words[slotOf(cache.slots, p) * D]).toBe(p);
    }
    expect(words[0]).toBe(0); // the sink stays
    cache.destroy();
    loaded.destroy();
  });

  it.each([
    [
      'a ring',
      'attention ring { heads: 8; kv_heads: 2; head_dim: 16; causal: true; mask: window(left: 6) | sink(2) }',
    ],
    ['a contiguous cache', 'attention dense { heads: 8; kv_heads: 2; head_dim: 16; causal: true }'],
  ])('creates no GPU buffer once warm: %s (device tensors, caller encoder)', async (_, text) => {
    const { module, loaded } = await load(text);
    const device = runtime.device;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = (floats: number) => device.createBuffer({ size: floats * 4, usage });
    const k = { buffer: buffer(2 * 16), dtype: 'f32', shape: [1, 2, 1, 16] } as const;
    const v = { buffer: buffer(2 * 16), dtype: 'f32', shape: [1, 2, 1, 16] } as const;
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
    let groups = 0;
    const createBuffer = device.createBuffer;
    const createBindGroup = device.createBindGroup;
    device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      created++;
      return createBuffer.call(device, descriptor);
    };
    device.createBindGroup = (descriptor: GPUBindGroupDescriptor) => {
      groups++;
      return createBindGroup.call(device, descriptor);
    };
    try {
      for (let n = 0; n < 20; n++) await step();
    } finally {
      device.createBuffer = createBuffer;
      device.createBindGroup = createBindGroup;
    }
    await device.queue.onSubmittedWorkDone();
    expect(created).toBe(0);
    // The bind groups of the first steps are reused: a warm step creates none either.
    expect(groups).toBe(0);
    expect(cache.length).toBe(23);
    void module;
    cache.destroy();
    loaded.destroy();
  });

  it('refuses what cannot be cached, naming the group and construct', async () => {
    const cases: [string, RegExp][] = [
      [
        'attention bi { heads: 2; head_dim: 16; mask: window(4) }',
        /group 'bi' cannot be decoded incrementally: window\(4\)/,
      ],
    ];
    for (const [text, message] of cases) {
      const { loaded } = await load(text);
      expect(() => loaded.createCache({ batch: 1, capacity: 64 })).toThrow(message);
      loaded.destroy();
    }
  });

  it('each bad input is a clear error, and nothing is written', async () => {
    const { loaded } = await load(
      'attention dense { heads: 2; kv_heads: 1; head_dim: 16; causal: true }',
    );
    const device = runtime.device;
    const cache = loaded.createCache({ batch: 1, capacity: 4 });
    const row = (n: number) => new Float32Array(16 * n);
    await cache.append({ k: row(3), v: row(3) });
    await expect(cache.append({ k: row(2), v: row(2) })).rejects.toThrow(
      'append: 2 new positions at length 3 would pass the capacity: the cache holds 4 positions (capacity 4); nothing was written',
    );
    expect(cache.length).toBe(3);
    await expect(cache.append({ k: row(1), v: row(2) })).rejects.toThrow(
      "append: tensor 'v' has 2 positions, expected 1 (as k)",
    );
    await expect(cache.append({ k: new Float32Array(17), v: row(1) })).rejects.toThrow(
      "append: tensor 'k' has 17 elements, not a whole number of positions of [B, Hkv, T, D] = [1, 1, T, 16] (16 elements each)",
    );
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const small = device.createBuffer({ size: 32, usage });
    await expect(
      cache.append({ k: { buffer: small, dtype: 'f32', shape: [1, 1, 1, 16] }, v: row(1) }),
    ).rejects.toThrow(
      "append: tensor 'k': its buffer holds 32 bytes, but f32 [B, Hkv, T, D] = [1, 1, 1, 16] needs 64 bytes from offset 0, 64 in all",
    );
    const good = device.createBuffer({ size: 64, usage });
    await expect(
      cache.append({ k: { buffer: good, dtype: 'f16', shape: [1, 1, 1, 16] }, v: row(1) }),
    ).rejects.toThrow("append: tensor 'k': dtype is f16, expected f32");
    await expect(
      cache.append({ k: { buffer: good, dtype: 'f32', shape: [2, 1, 1, 16] }, v: row(1) }),
    ).rejects.toThrow(
      "append: tensor 'k': shape [2, 1, 1, 16], expected [B, Hkv, T, D] = [1, 1, T, 16] (axis B is 2, expected batch=1)",
    );
    const storageOnly = device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE });
    await expect(
      cache.append({ k: { buffer: storageOnly, dtype: 'f32', shape: [1, 1, 1, 16] }, v: row(1) }),
    ).rejects.toThrow(
      "append: tensor 'k': its buffer's usage lacks COPY_SRC (it has STORAGE); the cache copies its rows into the store on the GPU",
    );
    const other = await acquireDevice({ adapter: 'llvmpipe' });
    try {
      const foreign = other.device.createBuffer({ size: 64, usage });
      await expect(
        cache.append({ k: { buffer: foreign, dtype: 'f32', shape: [1, 1, 1, 16] }, v: row(1) }),
      ).rejects.toThrow("tensor 'k': its buffer belongs to another GPUDevice");
    } finally {
      other.destroy();
    }
    expect(cache.length).toBe(3);
    await expect(cache.attend({ q: new Float32Array(2 * 16 * 4) })).rejects.toThrow(
      'attend: 4 query rows, but the cache holds 3 positions; the queries are those of the last T appended positions, so append first',
    );
    cache.destroy();

    const { loaded: ringLoaded } = await load(
      'attention ring { heads: 2; kv_heads: 1; head_dim: 16; causal: true; mask: window(left: 8) }',
    );
    const ring = ringLoaded.createCache({ batch: 1, capacity: 1 << 20, maxChunk: 2 });
    await expect(ring.append({ k: row(3), v: row(3) })).rejects.toThrow(
      'append: 3 new positions, but at most 2 fit one append: this ring keeps the look-back and 2 more positions (createCache({ maxChunk })); append a longer prefill in chunks, attending after each',
    );
    ring.destroy();
    ringLoaded.destroy();
    loaded.destroy();
  });
});

async function readBack(device: GPUDevice, buffer: GPUBuffer): Promise<Float32Array> {
  const staging = device.createBuffer({
    size: buffer.size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}

const swiftshader = await adapterAvailability('swiftshader');

// SwiftShader offers subgroups (4 lanes): the subgroup variant stages K/V tiles by slot
// through the same key row walk, so a wrapping ring holds there too.
describe.skipIf(!swiftshader.run)('KV cache on SwiftShader: the subgroup variant', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'swiftshader', selfCheck: false });
  });
  afterAll(() => runtime?.destroy());

  it('K/V tiles staged by slot on a wrapping ring', async () => {
    const text =
      'attention ring { heads: 4; kv_heads: 2; head_dim: 16; causal: true; mask: window(left: 7) | sink(2) }';
    const module = compile(text, {
      target: runtime.profile,
      schedules: { '*': { variant: 'subgroup' } },
    }).modules[0]!;
    expect(module.plan.kernels.some((k) => k.wgsl.startsWith('enable subgroups;'))).toBe(true);
    const loaded = await runtime.load(module);
    const cache = await decodeLoop(module, loaded, {
      chunks: [20, 17, 20, 18, 20],
      capacity: 10_000,
      maxChunk: 20,
    });
    expect(cache.slots.kind).toBe('ring');
    cache.destroy();
    loaded.destroy();
  });
});
