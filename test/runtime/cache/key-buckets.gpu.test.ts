// Kernel tests of the cluster / lsh bucket-id side table (src/runtime/cache/key-buckets.ts)
// on llvmpipe: chunks of 1 to 8 keys, f32 and f16 keys, both layouts, GQA and a routed group
// that is not the first. After every append each cached key's bucket equals the prefill's
// own key-buckets kernel on the same keys (the same bucket function), and the CPU reference's
// clusterOf / lshBucket. Then reset, a warm loop that creates no buffer, and bad input.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type CompiledModule } from '../../../src/api/compile.js';
import { randomInputs } from '../../../src/api/random-inputs.js';
import { createRuntime, type Runtime } from '../../../src/api/runtime.js';
import type { PlanCacheKernels } from '../../../src/codegen/plan.js';
import { KeyBuckets } from '../../../src/runtime/cache/key-buckets.js';
import { packHalves, unpackHalves } from '../../../src/runtime/f16.js';
import { clusterOf, lshBucket, lshProjection } from '../../../src/reference/data-masks.js';
import { adapterAvailability } from '../gpu-availability.js';
import { prefillRouteTable, readWords, seqSlice } from './side-table-helpers.js';

const availability = await adapterAvailability('llvmpipe');

const B = 2;
const CAPACITY = 40;
const CHUNKS = [1, 3, 2, 8, 1, 5, 7];

const CASES: readonly { name: string; text: string }[] = [
  {
    name: 'cluster(4), GQA 4/2',
    text: 'attention c { heads: 4; kv_heads: 2; head_dim: 8; causal: true; mask: cluster(4) }',
  },
  {
    name: 'lsh(8), f16, bnhd',
    text: 'attention l { heads: 2; head_dim: 8; dtype: f16; layout: bnhd; causal: true; mask: lsh(buckets: 8, seed: 7) }',
  },
  {
    name: 'cluster(3) in the second group of a hybrid',
    text:
      'attention mix { head_dim: 8; causal: true; group w { heads: 2; mask: window(left: 3) } ' +
      'group r { heads: 2; kv_heads: 1; mask: window(left: 2) | cluster(3) } }',
  },
];

function moduleOf(text: string, runtime: Runtime): CompiledModule {
  const result = compile(text, { target: runtime.profile });
  const module = result.modules[0];
  if (!module) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  return module;
}

function storeOf(module: CompiledModule) {
  const store = module.plan.cacheKernels?.find((s) => s.kind === 'bucket-ids');
  if (!store) throw new Error('no bucket-ids store');
  return store as PlanCacheKernels & { kind: 'bucket-ids' };
}

describe.skipIf(!availability.run)('cluster / lsh key buckets on llvmpipe', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
  });
  afterAll(() => runtime?.destroy());

  for (const c of CASES) {
    it(`${c.name}: after every chunk, every cached key's bucket is the prefill's`, async () => {
      const device = runtime.device;
      const module = moduleOf(c.text, runtime);
      const a = module.attention;
      const store = storeOf(module);
      const f16 = a.dtype === 'f16';
      const D = a.headDim;
      const n = CHUNKS.reduce((x, y) => x + y, 0);
      const inputs = randomInputs(module, { batch: B, seqQ: 1, seqK: n, seed: 4 });
      const centroids = inputs.centroids as Float32Array | undefined;
      const buckets = await KeyBuckets.create(device, module.plan, store.table, {
        batch: B,
        capacity: CAPACITY,
        ...(centroids ? { centroids } : {}),
      });
      try {
        for (const round of [0, 1]) {
          buckets.reset();
          const raw = randomInputs(module, { batch: B, seqQ: 1, seqK: n, seed: round })
            .k as Float32Array;
          const k = f16 ? unpackHalves(packHalves(raw, 'k'), raw.length) : raw;
          let p = 0;
          let agreeWithCpu = 0;
          for (const [step, t] of CHUNKS.entries()) {
            const chunk = seqSlice(k, a.layout, B, a.kvHeads, n, D, p, p + t);
            await buckets.append(
              null,
              step % 2 === 0 ? chunk : deviceTensor(device, chunk, f16),
              t,
            );
            p += t;
            expect(buckets.length).toBe(p);
            const got = await readWords(device, buckets.buckets());
            const prefix = seqSlice(k, a.layout, B, a.kvHeads, n, D, 0, p);
            const prefill = await prefillRouteTable(
              device,
              module,
              `${store.table}.key_buckets`,
              { batch: B, seqQ: p, seqK: p },
              f16 ? packHalves(prefix, 'k') : new Uint32Array(prefix.buffer),
              store.routing === 'cluster'
                ? { centroids: centroids! }
                : { [`${store.table}.R`]: lshProjection(7, D, store.buckets) },
              store.table,
            );
            for (let b = 0; b < B; b++)
              for (let g = 0; g < store.kvHeads; g++) {
                const hk = store.kvHeadOffset + g;
                const bh = b * store.kvHeads + g;
                for (let j = 0; j < p; j++) {
                  const bucket = got[bh * CAPACITY + j];
                  expect(bucket).toBe(prefill[bh * p + j]);
                  const at = keyAt(a.layout, a.kvHeads, n, D, b, hk, j);
                  const key = k.subarray(at, at + D);
                  const cpu =
                    store.routing === 'cluster'
                      ? clusterOf(
                          key,
                          Array.from({ length: store.centroidsPerHead }, (_, t) =>
                            Float64Array.from(
                              centroids!.subarray(
                                (hk * store.centroidsPerHead + t) * D,
                                (hk * store.centroidsPerHead + t + 1) * D,
                              ),
                            ),
                          ),
                        )
                      : lshBucket(key, lshProjection(7, D, store.buckets), store.buckets);
                  if (bucket === cpu) agreeWithCpu++;
                }
              }
          }
          // f32 on the device and float64 on the CPU may part at a near tie, very rarely.
          const total = CHUNKS.reduce(
            (s, _, i) => s + CHUNKS.slice(0, i + 1).reduce((x, y) => x + y, 0),
            0,
          );
          expect(agreeWithCpu).toBeGreaterThanOrEqual(total * B * store.kvHeads - 2);
        }
      } finally {
        buckets.destroy();
      }
    });
  }

  it('kept by slot for a ring: every held key at its slot, with the prefill bucket', async () => {
    const device = runtime.device;
    const module = moduleOf(CASES[0]!.text, runtime);
    const a = module.attention;
    const store = storeOf(module);
    const D = a.headDim;
    const ring = { prefix: 2, slots: 9 };
    const rows = ring.prefix + ring.slots;
    const slotOf = (j: number) =>
      j < ring.prefix ? j : ring.prefix + ((j - ring.prefix) % ring.slots);
    const n = CHUNKS.reduce((x, y) => x + y, 0);
    const inputs = randomInputs(module, { batch: B, seqQ: 1, seqK: n, seed: 4 });
    const centroids = inputs.centroids as Float32Array;
    const buckets = await KeyBuckets.create(device, module.plan, store.table, {
      batch: B,
      capacity: rows,
      ring,
      centroids,
    });
    try {
      const k = inputs.k as Float32Array;
      let p = 0;
      for (const t of CHUNKS) {
        await buckets.append(null, seqSlice(k, a.layout, B, a.kvHeads, n, D, p, p + t), t);
        p += t;
        const got = await readWords(device, buckets.buckets());
        const prefix = seqSlice(k, a.layout, B, a.kvHeads, n, D, 0, p);
        const prefill = await prefillRouteTable(
          device,
          module,
          `${store.table}.key_buckets`,
          { batch: B, seqQ: p, seqK: p },
          new Uint32Array(prefix.buffer),
          { centroids },
          store.table,
        );
        for (let bh = 0; bh < B * store.kvHeads; bh++)
          for (let j = 0; j < p; j++) {
            if (j >= ring.prefix && p - j > ring.slots) continue; // dropped by the ring
            expect(got[bh * rows + slotOf(j)], `key ${j} at length ${p}`).toBe(prefill[bh * p + j]);
          }
      }
      expect(p).toBeGreaterThan(2 * rows);
      await expect(
        buckets.append(null, seqSlice(k, a.layout, B, a.kvHeads, n, D, 0, 10), 10),
      ).rejects.toThrow(/appending 10 keys at once, but its ring keeps 9 recent slots/);
    } finally {
      buckets.destroy();
    }
  });

  it('a warm loop of 1-key appends creates no buffer; bad input is an error naming it', async () => {
    const device = runtime.device;
    const module = moduleOf(CASES[0]!.text, runtime);
    const store = storeOf(module);
    const centroids = randomInputs(module, { batch: 1, seqQ: 1, seqK: 1 })
      .centroids as Float32Array;
    await expect(
      KeyBuckets.create(device, module.plan, store.table, { batch: 1, capacity: 4 }),
    ).rejects.toThrow(
      "key buckets 'c.cluster0': cluster buckets need the centroids, a Float32Array [Hkv, c, D] = [2, 4, 8] (64 elements); got undefined",
    );
    const buckets = await KeyBuckets.create(device, module.plan, store.table, {
      batch: B,
      capacity: 8,
      centroids,
    });
    const key = deviceTensor(device, new Float32Array(B * 2 * 8).fill(0.25), false);
    try {
      await expect(buckets.append(null, new Float32Array(3), 1)).rejects.toThrow(
        "tensor 'k' has 3 elements, expected [B, Hkv, Nk, D] = [2, 2, 1, 8] (32 elements)",
      );
      await buckets.append(null, key, 1);
      let created = 0;
      const createBuffer = device.createBuffer;
      device.createBuffer = (descriptor: GPUBufferDescriptor) => {
        created++;
        return createBuffer.call(device, descriptor);
      };
      try {
        for (let i = 1; i < 8; i++) {
          const encoder = device.createCommandEncoder();
          await buckets.append(encoder, key, 1);
          device.queue.submit([encoder.finish()]);
        }
      } finally {
        device.createBuffer = createBuffer;
      }
      expect(created).toBe(0);
      await expect(buckets.append(null, key, 1)).rejects.toThrow(
        'would pass its capacity of 8 keys',
      );
    } finally {
      buckets.destroy();
      key.buffer.destroy();
    }
  });
});

function keyAt(
  layout: 'bhnd' | 'bnhd',
  heads: number,
  n: number,
  width: number,
  b: number,
  h: number,
  j: number,
): number {
  return layout === 'bhnd' ? ((b * heads + h) * n + j) * width : ((b * n + j) * heads + h) * width;
}

function deviceTensor(device: GPUDevice, data: Float32Array, f16: boolean) {
  const words = f16 ? packHalves(data, 'k') : new Uint32Array(data.buffer.slice(0));
  const buffer = device.createBuffer({
    size: Math.max(16, Math.ceil(words.byteLength / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, words);
  return { buffer, dtype: f16 ? ('f16' as const) : ('f32' as const) };
}
