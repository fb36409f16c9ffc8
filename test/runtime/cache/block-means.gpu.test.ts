// Kernel tests of the topk block-means side table (src/runtime/cache/block-means.ts) on
// llvmpipe: chunks of 1 to 8 keys (blocks of 4, so chunks start and end inside blocks), f32
// and f16 keys, both layouts, GQA and a routed group that is not the first. After every
// append the sums equal the f32 sums of the keys in position order on the CPU, bit for bit,
// and the means equal the prefill's own block-means kernel on the same keys, bit for bit
// (and the float64 means within 1e-6). Then reset, a warm loop that creates no buffer, and
// appending past the capacity.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type CompiledModule } from '../../../src/api/compile.js';
import { randomInputs } from '../../../src/api/random-inputs.js';
import { createRuntime, type Runtime } from '../../../src/api/runtime.js';
import type { PlanCacheKernels } from '../../../src/codegen/plan.js';
import { BlockMeans } from '../../../src/runtime/cache/block-means.js';
import { packHalves, unpackHalves } from '../../../src/runtime/f16.js';
import { adapterAvailability } from '../gpu-availability.js';
import { prefillRouteTable, readWords, seqSlice } from './side-table-helpers.js';

const availability = await adapterAvailability('llvmpipe');

const B = 2;
const CAPACITY = 30;
const CHUNKS = [1, 3, 2, 8, 1, 5, 7];

const CASES: readonly { name: string; text: string }[] = [
  {
    name: 'f32, GQA 4/2',
    text: 'attention t { heads: 4; kv_heads: 2; head_dim: 8; causal: true; mask: topk(2, block: 4) }',
  },
  {
    name: 'f16, bnhd',
    text: 'attention h { heads: 2; head_dim: 8; dtype: f16; layout: bnhd; causal: true; mask: topk(1, block: 4) }',
  },
  {
    name: 'the second group of a hybrid',
    text:
      'attention mix { head_dim: 8; causal: true; group w { heads: 2; mask: window(left: 3) } ' +
      'group r { heads: 2; kv_heads: 1; mask: window(left: 2) | topk(1, block: 4) } }',
  },
];

function moduleOf(text: string, runtime: Runtime): CompiledModule {
  const result = compile(text, { target: runtime.profile });
  const module = result.modules[0];
  if (!module) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  return module;
}

function storeOf(module: CompiledModule) {
  const store = module.plan.cacheKernels?.find((s) => s.kind === 'block-means');
  if (!store) throw new Error('no block-means store');
  return store as PlanCacheKernels & { kind: 'block-means' };
}

describe.skipIf(!availability.run)('topk block means on llvmpipe', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
  });
  afterAll(() => runtime?.destroy());

  for (const c of CASES) {
    it(`${c.name}: after every chunk, sums as the CPU adds them and means as the prefill kernel computes them`, async () => {
      const device = runtime.device;
      const module = moduleOf(c.text, runtime);
      const a = module.attention;
      const store = storeOf(module);
      const f16 = a.dtype === 'f16';
      const D = a.headDim;
      const n = CHUNKS.reduce((x, y) => x + y, 0);
      const means = await BlockMeans.create(device, module.plan, store.table, {
        batch: B,
        capacity: CAPACITY,
      });
      try {
        for (const round of [0, 1]) {
          means.reset();
          const raw = randomInputs(module, { batch: B, seqQ: 1, seqK: n, seed: round })
            .k as Float32Array;
          // What the device holds: f16 keys are rounded once, on the host and on the device alike.
          const k = f16 ? unpackHalves(packHalves(raw, 'k'), raw.length) : raw;
          let p = 0;
          for (const [step, t] of CHUNKS.entries()) {
            const chunk = seqSlice(k, a.layout, B, a.kvHeads, n, D, p, p + t);
            await means.append(null, step % 2 === 0 ? chunk : deviceTensor(device, chunk, f16), t);
            p += t;
            expect(means.length).toBe(p);
            const blocks = Math.ceil(p / store.block);
            const sums = new Float32Array((await readWords(device, means.sums())).buffer);
            const got = new Float32Array((await readWords(device, means.means())).buffer);
            const prefix = seqSlice(k, a.layout, B, a.kvHeads, n, D, 0, p);
            const words = f16 ? packHalves(prefix, 'k') : new Uint32Array(prefix.buffer);
            const prefill = new Float32Array(
              (
                await prefillRouteTable(
                  device,
                  module,
                  `${store.table}.means`,
                  { batch: B, seqQ: p, seqK: p },
                  words,
                  {},
                  store.table,
                )
              ).buffer,
            );
            for (let b = 0; b < B; b++)
              for (let g = 0; g < store.kvHeads; g++) {
                const hk = store.kvHeadOffset + g;
                const bh = b * store.kvHeads + g;
                for (let blk = 0; blk < blocks; blk++) {
                  const j0 = blk * store.block;
                  const j1 = Math.min(p, j0 + store.block);
                  for (let d = 0; d < D; d++) {
                    let s = 0;
                    let exact = 0;
                    for (let j = j0; j < j1; j++) {
                      const x = k[keyAt(a.layout, a.kvHeads, n, D, b, hk, j) + d]!;
                      s = Math.fround(s + x);
                      exact += x;
                    }
                    const at = (bh * means.blocks + blk) * D + d;
                    expect(sums[at]).toBe(s);
                    expect(got[at]).toBe(prefill[(bh * blocks + blk) * D + d]);
                    expect(Math.abs(got[at]! - exact / (j1 - j0))).toBeLessThan(1e-6);
                  }
                }
              }
          }
        }
      } finally {
        means.destroy();
      }
    });
  }

  it('a warm loop of 1-key appends creates no buffer; past the capacity is an error', async () => {
    const device = runtime.device;
    const module = moduleOf(CASES[0]!.text, runtime);
    const store = storeOf(module);
    const means = await BlockMeans.create(device, module.plan, store.table, {
      batch: B,
      capacity: 8,
    });
    const key = deviceTensor(device, new Float32Array(B * 2 * 8).fill(0.5), false);
    try {
      await means.append(null, key, 1);
      let created = 0;
      const createBuffer = device.createBuffer;
      device.createBuffer = (descriptor: GPUBufferDescriptor) => {
        created++;
        return createBuffer.call(device, descriptor);
      };
      try {
        for (let i = 1; i < 8; i++) {
          const encoder = device.createCommandEncoder();
          await means.append(encoder, key, 1);
          device.queue.submit([encoder.finish()]);
        }
      } finally {
        device.createBuffer = createBuffer;
      }
      expect(created).toBe(0);
      const got = new Float32Array((await readWords(device, means.means())).buffer);
      expect([...got].every((x) => x === 0.5)).toBe(true);
      await expect(means.append(null, key, 1)).rejects.toThrow(
        "block means 't.topk0': appending 1 keys to 8 would pass its capacity of 8 keys",
      );
      await expect(
        BlockMeans.create(device, module.plan, 'nope', { batch: 1, capacity: 8 }),
      ).rejects.toThrow(
        "no block-means kernels for routing table 'nope' (tables with them: 't.topk0')",
      );
    } finally {
      means.destroy();
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
