// The demo's stand-in KV cache (demo/decode/attention-cache.ts) on llvmpipe: appending chunks
// of host arrays and of device buffers, then attending with the queries of the last positions,
// equals attnc's CPU reference over the whole prefix (bottom-right aligned, so the windowed
// mask sees absolute positions); after reset it starts over; bad calls are clear errors.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutput } from '../../../src/api/compare-output.js';
import { compile } from '../../../src/api/compile.js';
import { reference } from '../../../src/api/reference.js';
import { createRuntime, type Runtime } from '../../../src/api/runtime.js';
import { ContiguousKvCache, openKvCache } from '../../../demo/decode/attention-cache.js';
import { adapterAvailability } from '../../runtime/gpu-availability.js';

const availability = await adapterAvailability('llvmpipe');

const SHAPE = { heads: 4, kvHeads: 2, headDim: 8 };
const SPEC = `attention cached { heads: 4; kv_heads: 2; head_dim: 8; layout: bnhd; causal: true; mask: window(left: 3) | sink(2) }`;

function wave(length: number, phase: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin(i * 0.37 + phase) * 0.8);
}

describe.skipIf(!availability.run)("the demo's stand-in KV cache", () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'llvmpipe' });
  }, 120_000);
  afterAll(() => runtime?.destroy());

  it('append in chunks, attend the last rows: equal to the reference over the prefix', async () => {
    const module = compile(SPEC, { target: runtime.profile }).modules[0]!;
    const attention = await runtime.load(module);
    const cache = openKvCache(runtime.device, attention, SHAPE, { batch: 1, capacity: 16 });
    expect(cache).toBeInstanceOf(ContiguousKvCache);
    const row = SHAPE.kvHeads * SHAPE.headDim;
    const qRow = SHAPE.heads * SHAPE.headDim;
    const k = wave(12 * row, 1);
    const v = wave(12 * row, 2);
    const q = wave(12 * qRow, 3);
    const device = runtime.device;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    try {
      for (const round of [0, 1]) {
        // Positions 0-4 from host arrays, 5-10 from device buffers, 11 alone.
        await cache.append({ k: k.slice(0, 5 * row), v: v.slice(0, 5 * row) });
        const kb = device.createBuffer({ size: 6 * row * 4, usage });
        const vb = device.createBuffer({ size: 6 * row * 4, usage });
        device.queue.writeBuffer(kb, 0, k.slice(5 * row, 11 * row));
        device.queue.writeBuffer(vb, 0, v.slice(5 * row, 11 * row));
        const shape = [1, 6, SHAPE.kvHeads, SHAPE.headDim];
        await cache.append({
          k: { buffer: kb, dtype: 'f32', shape },
          v: { buffer: vb, dtype: 'f32', shape },
        });
        kb.destroy();
        vb.destroy();
        await cache.append({ k: k.slice(11 * row), v: v.slice(11 * row) });
        expect(cache.length).toBe(12);
        // The queries of positions 9, 10, 11 (window 3 and 2 sinks: keys 0, 1 and 6..11).
        const { o } = await cache.attend({ q: q.slice(9 * qRow) });
        const expected = reference(module, {
          q: q.slice(9 * qRow),
          k,
          v,
          batch: 1,
          seqQ: 3,
          seqK: 12,
        }).o;
        expect(compareOutput(o!, expected).relativeError, `round ${round}`).toBeLessThan(1e-5);
        cache.reset();
        expect(cache.length).toBe(0);
      }
    } finally {
      cache.destroy();
      attention.destroy();
    }
  });

  it('rejects what it cannot do, naming the tensor and the sizes', async () => {
    const module = compile(SPEC, { target: runtime.profile }).modules[0]!;
    const attention = await runtime.load(module);
    expect(() => openKvCache(runtime.device, attention, SHAPE, { batch: 2, capacity: 4 })).toThrow(
      "attention 'cached': the demo's stand-in KV cache takes batch 1, got 2",
    );
    const cache = openKvCache(runtime.device, attention, SHAPE, { batch: 1, capacity: 4 });
    try {
      const row = SHAPE.kvHeads * SHAPE.headDim;
      await expect(
        cache.append({ k: new Float32Array(row + 1), v: new Float32Array(row + 1) }),
      ).rejects.toThrow(
        "attention 'cached': append: tensor 'k' has 17 elements, not a multiple of 16 ([B, Nk, Hkv, D] = [1, T, 2, 8])",
      );
      await expect(
        cache.append({ k: new Float32Array(row), v: new Float32Array(2 * row) }),
      ).rejects.toThrow("append: tensor 'v' has 2 positions, 'k' has 1");
      await cache.append({ k: new Float32Array(3 * row), v: new Float32Array(3 * row) });
      await expect(
        cache.append({ k: new Float32Array(2 * row), v: new Float32Array(2 * row) }),
      ).rejects.toThrow("append: 2 positions after 3 exceed the cache's capacity of 4");
      expect(cache.length).toBe(3);
      await expect(cache.attend({ q: new Float32Array(4 * 32) })).rejects.toThrow(
        'attend: 4 query rows, but only 3 positions were appended',
      );
    } finally {
      cache.destroy();
      attention.destroy();
    }
  });
});
