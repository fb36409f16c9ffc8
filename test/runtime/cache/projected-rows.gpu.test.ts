// Kernel tests of the KV cache for linformer groups (src/runtime/cache/projected-rows.ts, wired
// by kv-cache.ts) on llvmpipe: the cache keeps K' = E K, V' = F V and every attend's output is
// compared with the CPU reference of a plain run with Nq = the chunk's queries and Nk = the
// cache's length (linformer is non-causal: each query sees every key appended so far, its own
// chunk's included). Token by token and chunks (one past the projection's chunk of keys),
// batch 2, GQA, bhnd and bnhd, f16 (f32 and Uint16Array halves), reset, bytes, and the errors.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutput } from '../../../src/api/compare-output.js';
import { compile, type CompiledModule } from '../../../src/api/compile.js';
import { randomInputs, type RandomInputs } from '../../../src/api/random-inputs.js';
import { reference } from '../../../src/api/reference.js';
import { createRuntime, type LoadedModule, type Runtime } from '../../../src/api/runtime.js';
import { acquireDevice } from '../../../src/runtime/device.js';
import type { KvCache } from '../../../src/runtime/cache/kv-cache.js';
import type { DeviceTensor } from '../../../src/runtime/device-tensor-args.js';
import { packHalves } from '../../../src/runtime/f16.js';
import { adapterAvailability } from '../gpu-availability.js';
import { readWords } from './side-table-helpers.js';

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

interface Loop {
  readonly chunks: readonly number[];
  readonly batch?: number;
  /** Append k and v as Uint16Array f16 halves (a dtype: f16 spec). */
  readonly halves?: boolean;
  readonly seed?: number;
  /** E and F of an existing cache (given to its createCache). */
  readonly projections?: { readonly E: Float32Array; readonly F: Float32Array };
  /** Give createCache E and F as device tensors of this device (then overwritten). */
  readonly device?: GPUDevice;
}

/**
 * E and F as device tensors of one buffer, E at byte 256 and F after it: what createCache
 * copies. `clobber` overwrites both, to show the cache kept its own copy.
 */
function projectionsOnDevice(device: GPUDevice, E: Float32Array, F: Float32Array) {
  const fAt = 256 + Math.ceil((E.byteLength + 1) / 256) * 256;
  const buffer = device.createBuffer({
    size: fAt + F.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 256, E);
  device.queue.writeBuffer(buffer, fAt, F);
  return {
    E: { buffer, offset: 256, dtype: 'f32' as const },
    F: { buffer, offset: fAt, dtype: 'f32' as const },
    clobber: () => device.queue.writeBuffer(buffer, 0, new Float32Array(buffer.size / 4).fill(7)),
  };
}

/** Appends each chunk, attends its queries, and compares with the reference at that length. */
async function decodeLoop(
  module: CompiledModule,
  loaded: LoadedModule,
  loop: Loop,
  existing?: KvCache,
): Promise<KvCache> {
  const a = module.ir;
  const batch = loop.batch ?? 1;
  const total = loop.chunks.reduce((x, y) => x + y, 0);
  const inputs = randomInputs(module, { batch, seqQ: total, seqK: total, seed: loop.seed ?? 3 });
  const { E, F } = loop.projections ?? (inputs as unknown as { E: Float32Array; F: Float32Array });
  const onDevice = loop.device ? projectionsOnDevice(loop.device, E, F) : null;
  const cache =
    existing ?? loaded.createCache({ batch, capacity: total + 2, ...(onDevice ?? { E, F }) });
  // The cache copied E and F at createCache: what the caller writes after does not reach it.
  onDevice?.clobber();
  const dims = (heads: number, width: number) => ({ batch, heads, n: total, width });
  const slice = (x: Float32Array, heads: number, width: number, from: number, to: number) =>
    positions(x, a.layout, dims(heads, width), from, to);
  const host = (x: Float32Array, name: string) =>
    loop.halves ? new Uint16Array(packHalves(x, name).buffer, 0, x.length) : x;
  let length = 0;
  for (const t of loop.chunks) {
    const end = length + t;
    await cache.append({
      k: host(slice(inputs.k, a.kvHeads, a.headDim, length, end), 'k'),
      v: host(slice(inputs.v, a.kvHeads, a.valueDim, length, end), 'v'),
    });
    const q = slice(inputs.q, a.heads, a.headDim, length, end);
    const { o } = await cache.attend({ q });
    const expected = reference(module, {
      batch,
      seqQ: t,
      seqK: end,
      q,
      k: slice(inputs.k, a.kvHeads, a.headDim, 0, end),
      v: slice(inputs.v, a.kvHeads, a.valueDim, 0, end),
      E,
      F,
    } as unknown as RandomInputs).o;
    const { relativeError } = compareOutput(o!, expected);
    expect(relativeError, `chunk of ${t} at length ${end}`).toBeLessThan(
      a.dtype === 'f16' ? 4e-3 : 1e-4,
    );
    length = end;
  }
  expect(cache.length).toBe(length);
  return cache;
}

const tokens = (n: number) => new Array<number>(n).fill(1);

describe.skipIf(!availability.run)('KV cache for linformer on llvmpipe', () => {
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

  it('GQA batch 2 (bhnd): token by token, then chunks; bytes; reset', async () => {
    const { module, loaded } = await load(
      'attention lf { heads: 4; kv_heads: 2; head_dim: 16; value_dim: 8; max_seq: 300; lowrank: linformer(8) }',
    );
    // 257 + the rest: one chunk past the projection's 256 keys per chunk (two partials).
    const cache = await decodeLoop(module, loaded, { chunks: [...tokens(3), 5, 257, 1], batch: 2 });
    // K', V' [B, Hkv, r, D + Dv] f32, E and F [Hkv, r, max_seq] f32 after a 256-byte header.
    const rows = 2 * 2 * 8 * (16 + 8) * 4;
    const ef = 256 + 2 * 2 * 8 * 300 * 4;
    expect(cache.bytes).toBeGreaterThanOrEqual(rows + ef);
    // No keys are kept: after reset, other keys (the same E and F) and no growth with length.
    const before = cache.bytes;
    cache.reset();
    expect(cache.length).toBe(0);
    const first = randomInputs(module, { batch: 2, seqQ: 266, seqK: 266, seed: 3 });
    const projections = first as unknown as { E: Float32Array; F: Float32Array };
    await decodeLoop(
      module,
      loaded,
      { chunks: [2, 1, ...tokens(20)], batch: 2, seed: 9, projections },
      cache,
    );
    expect(cache.bytes).toBe(before);
    cache.destroy();
    loaded.destroy();
  });

  it('bnhd batch 2, head_dim not a multiple of 4 (scalar rows)', async () => {
    const { module, loaded } = await load(
      'attention lb { heads: 2; head_dim: 6; layout: bnhd; max_seq: 40; lowrank: linformer(5) }',
    );
    (await decodeLoop(module, loaded, { chunks: [1, 1, 7, 2, 1], batch: 2 })).destroy();
    loaded.destroy();
  });

  it('f16: k and v as f32 (rounded) and as Uint16Array halves, bnhd GQA', async () => {
    const { module, loaded } = await load(
      'attention lh { heads: 4; kv_heads: 2; head_dim: 8; dtype: f16; layout: bnhd; max_seq: 32; lowrank: linformer(4) }',
    );
    (await decodeLoop(module, loaded, { chunks: [1, 1, 6, 1], batch: 2 })).destroy();
    (await decodeLoop(module, loaded, { chunks: [2, 1, 5], batch: 2, halves: true })).destroy();
    loaded.destroy();
  });

  const hybrid = (maxSeq: number, rank: number) =>
    `attention hy { head_dim: 8; max_seq: ${maxSeq}; group w { heads: 2; causal: true; mask: window(left: 3) } group l { heads: 2; lowrank: linformer(${rank}) } }`;

  it('a linformer group next to a causal window group: E, F as host arrays and device tensors', async () => {
    const { module, loaded } = await load(hybrid(40, 4));
    const chunks = [...tokens(6), 5, 1, 3, ...tokens(4)];
    (await decodeLoop(module, loaded, { chunks, batch: 2 })).destroy();
    const device = runtime.device;
    (await decodeLoop(module, loaded, { chunks, batch: 2, seed: 4, device })).destroy();
    loaded.destroy();
  });

  it('a hybrid decode step copies neither E nor F (the window group runs without them)', async () => {
    const { module, loaded } = await load(hybrid(512, 8));
    const device = runtime.device;
    const steps = 12;
    const inputs = randomInputs(module, { batch: 1, seqQ: steps, seqK: steps, seed: 6 });
    const { E, F } = inputs as unknown as { E: Float32Array; F: Float32Array };
    const cache = loaded.createCache({ batch: 1, capacity: steps, E, F });
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const rowBytes = 4 * 8 * 4; // one position of k, v, q or o: [1, 4 heads, 1, 8] f32
    const tensor = (): DeviceTensor => ({
      buffer: device.createBuffer({ size: rowBytes, usage }),
      dtype: 'f32',
      shape: [1, 4, 1, 8],
    });
    const [k, v, q, o] = [tensor(), tensor(), tensor(), tensor()];
    // Every copy the cache and its run record into the step's encoder, by size in bytes.
    const copied: number[] = [];
    const counting = (encoder: GPUCommandEncoder): GPUCommandEncoder =>
      new Proxy(encoder, {
        get(target, key) {
          if (key === 'copyBufferToBuffer') {
            return (...args: Parameters<GPUCommandEncoder['copyBufferToBuffer']>) => {
              copied.push(Number(args[4] ?? (args[0] as GPUBuffer).size));
              return target.copyBufferToBuffer(...args);
            };
          }
          const value: unknown = Reflect.get(target, key);
          return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
        },
      });
    const at = (x: Float32Array, heads: number, i: number) =>
      positions(x, 'bhnd', { batch: 1, heads, n: steps, width: 8 }, i, i + 1);
    for (let i = 0; i < steps; i++) {
      device.queue.writeBuffer(k.buffer, 0, at(inputs.k, 4, i));
      device.queue.writeBuffer(v.buffer, 0, at(inputs.v, 4, i));
      device.queue.writeBuffer(q.buffer, 0, at(inputs.q, 4, i));
      const encoder = device.createCommandEncoder();
      copied.length = 0;
      await cache.append({ k, v }, { encoder: counting(encoder) });
      await cache.attend({ q, o, encoder: counting(encoder) });
      device.queue.submit([encoder.finish()]);
      // E and F are 4·4·8·512 bytes each; a step copies at most its own k and v rows.
      expect(Math.max(0, ...copied), `step ${i}: copies ${copied.join(', ')}`).toBeLessThanOrEqual(
        rowBytes,
      );
      const got = new Float32Array((await readWords(device, { buffer: o.buffer })).buffer);
      const expected = reference(module, {
        batch: 1,
        seqQ: 1,
        seqK: i + 1,
        q: at(inputs.q, 4, i),
        k: positions(inputs.k, 'bhnd', { batch: 1, heads: 4, n: steps, width: 8 }, 0, i + 1),
        v: positions(inputs.v, 'bhnd', { batch: 1, heads: 4, n: steps, width: 8 }, 0, i + 1),
        E,
        F,
      } as unknown as RandomInputs).o;
      expect(compareOutput(got, expected).relativeError, `step ${i}`).toBeLessThan(1e-4);
    }
    [k, v, q, o].forEach((t) => t.buffer.destroy());
    cache.destroy();
    loaded.destroy();
  });

  it('errors: E and F missing or mis-shaped (host and device), past max_seq, lse, E at attend', async () => {
    const { module, loaded } = await load(
      'attention le { heads: 2; head_dim: 8; max_seq: 6; lowrank: linformer(3) }',
    );
    const inputs = randomInputs(module, { batch: 1, seqQ: 6, seqK: 6, seed: 1 });
    const { E, F } = inputs as unknown as { E: Float32Array; F: Float32Array };
    expect(() => loaded.createCache({ batch: 1, capacity: 6 })).toThrow(
      /has a linformer group \('le'\): pass its projections E and F \(\[Hkv, r, max_seq\] = \[2, 3, 6\] f32\) to createCache\(\{ E, F \}\)/,
    );
    expect(() => loaded.createCache({ batch: 1, capacity: 6, E, F: E.subarray(1) })).toThrow(
      /tensor 'F' has 35 elements, expected f32 \[Hkv, r, max_seq\] = \[2, 3, 6\] \(36 elements\)/,
    );
    expect(() =>
      loaded.createCache({ batch: 1, capacity: 6, E: new Float64Array(36) as never, F }),
    ).toThrow(
      /createCache: linformer group 'le': tensor 'E': expected a Float32Array or a device tensor .* \(f32 \[Hkv, r, max_seq\] = \[2, 3, 6\]\), got Float64Array/,
    );
    // Device E and F: runOnDevice's region checks, COPY_SRC, and the device (at the first append).
    const device = runtime.device;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
    const buffer = device.createBuffer({ size: 512, usage });
    const onDevice = (x: object) => () =>
      loaded.createCache({ batch: 1, capacity: 6, E, F: x as never });
    const group = "createCache: linformer group 'le': tensor 'F'";
    expect(onDevice({ buffer, dtype: 'f16' })).toThrow(`${group}: dtype is f16, expected f32`);
    expect(onDevice({ buffer, dtype: 'f32', shape: [2, 3, 5] })).toThrow(
      `${group}: axis max_seq is 5, expected 6; its shape is [2, 3, 5], expected [Hkv, r, max_seq] = [2, 3, 6]`,
    );
    expect(onDevice({ buffer, offset: 4, dtype: 'f32' })).toThrow(
      `${group}: offset 4 is not a multiple of the device's minStorageBufferOffsetAlignment`,
    );
    expect(onDevice({ buffer, offset: 512, dtype: 'f32' })).toThrow(
      `${group}: its buffer holds 512 bytes, but f32 [Hkv, r, max_seq] = [2, 3, 6] (36 elements) needs 144 bytes from offset 512, 656 in all`,
    );
    const storageOnly = device.createBuffer({ size: 512, usage: GPUBufferUsage.STORAGE });
    expect(onDevice({ buffer: storageOnly, dtype: 'f32' })).toThrow(
      `${group}: its buffer's usage lacks COPY_SRC (it has STORAGE); the cache copies it into its own buffer on the GPU, once`,
    );
    expect(onDevice({ dtype: 'f32' })).toThrow(
      `${group}: expected a Float32Array or a device tensor { buffer, offset?, dtype: 'f32', shape? } (f32 [Hkv, r, max_seq] = [2, 3, 6]), got Object`,
    );
    const other = await acquireDevice({ adapter: 'llvmpipe' });
    try {
      const foreign = other.device.createBuffer({ size: 512, usage });
      const bad = loaded.createCache({
        batch: 1,
        capacity: 6,
        E,
        F: { buffer: foreign, dtype: 'f32' },
      });
      await expect(
        bad.append({ k: new Float32Array(16), v: new Float32Array(16) }),
      ).rejects.toThrow(
        /^createCache: linformer group 'le': tensor 'F': its buffer belongs to another GPUDevice; .*associated with/,
      );
      bad.destroy();
    } finally {
      other.destroy();
    }
    [buffer, storageOnly].forEach((b) => b.destroy());
    const cache = loaded.createCache({ batch: 1, capacity: 6, E, F });
    const k = (t: number) => new Float32Array(2 * t * 8).fill(0.5);
    await cache.append({ k: k(4), v: k(4) });
    await expect(cache.append({ k: k(3), v: k(3) })).rejects.toThrow(
      /append: 3 new positions at length 4 would pass max_seq 6: linformer group 'le' projects position j with column j of E and F, which have max_seq columns; nothing was written/,
    );
    expect(cache.length).toBe(4);
    const q = new Float32Array(2 * 8);
    await expect(cache.attend({ q, E } as never)).rejects.toThrow(
      /attend: tensor 'E' was given to createCache/,
    );
    const lse = {
      buffer: runtime.device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE }),
      dtype: 'f32' as const,
    };
    await expect(cache.attend({ q, lse } as never)).rejects.toThrow(
      /tensor 'lse' is not available/,
    );
    // The refused append wrote nothing: two more positions still fit, and match the reference.
    await cache.append({ k: k(2), v: k(2) });
    expect(cache.length).toBe(6);
    const { o } = await cache.attend({ q: q.fill(0.3) });
    const expected = reference(module, {
      batch: 1,
      seqQ: 1,
      seqK: 6,
      q,
      k: k(6),
      v: k(6),
      E,
      F,
    } as unknown as RandomInputs).o;
    expect(compareOutput(o!, expected).relativeError).toBeLessThan(1e-4);
    cache.destroy();
    loaded.destroy();
  });
});
