// The LSE output (compile option `lse`): every softmax kernel shape writes the log-sum-exp of
// each query row, compared with the CPU reference: rowwise (llvmpipe's profile), tiled, the
// packed portable layout, softcap and alibi (natural scores), routed masks, segments, f16,
// bnhd, rows with no allowed key (-Infinity) and, on SwiftShader, the subgroup variant. Then
// the cascade use on device tensors: a decode row over two halves of its keys, merged by LSE,
// equals the row over all of them. Then the errors.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutput } from '../../src/api/compare-output.js';
import { compile, type CompiledModule } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { createRuntime, type Runtime } from '../../src/api/runtime.js';
import { evalSize } from '../../src/codegen/plan.js';
import { mergeByLse, referenceAttentionWithLse } from '../../src/reference/index.js';
import type { DeviceTensors } from '../../src/runtime/device-tensors.js';
import type { DeviceProfile } from '../../src/target/profile.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const llvmpipe = await adapterAvailability('llvmpipe');
const swiftshader = await adapterAvailability('swiftshader');

function lseModule(text: string, target: string | DeviceProfile): CompiledModule {
  const result = compile(text, { target, lse: true });
  const module = result.modules[0];
  if (!module) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  return module;
}

/** -Infinity exactly where the reference has it; elsewhere within `tolerance` (relative past 1). */
function expectLse(actual: Float32Array, expected: Float32Array, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  for (let r = 0; r < expected.length; r++) {
    const e = expected[r]!;
    const a = actual[r]!;
    if (e === -Infinity) {
      expect(a, `row ${r}`).toBe(-Infinity);
      continue;
    }
    expect(Math.abs(a - e), `row ${r}: ${a} vs ${e}`).toBeLessThanOrEqual(
      tolerance * Math.max(1, Math.abs(e)),
    );
  }
}

async function expectMatchesReference(
  runtime: Runtime,
  module: CompiledModule,
  sizes: { batch: number; seqQ: number; seqK: number },
  tolerance = 1e-5,
): Promise<void> {
  const loaded = await runtime.load(module);
  try {
    const inputs = randomInputs(module, { ...sizes, seed: 2 });
    const { o, lse } = await loaded.run(inputs);
    const expected = referenceAttentionWithLse(module.attention, inputs);
    expect(lse).toBeDefined();
    expectLse(lse!, expected.lse, tolerance);
    const f16 = module.plan.outputs[0]!.storage === 'f16';
    expect(compareOutput(o, expected.o).relativeError).toBeLessThan(f16 ? 4e-3 : 1e-4);
  } finally {
    loaded.destroy();
  }
}

const SHAPE = 'heads: 4; kv_heads: 2; head_dim: 16';
const SIZES = { batch: 2, seqQ: 37, seqK: 53 };

describe.skipIf(!llvmpipe.run)('LSE output on llvmpipe', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
  });
  afterAll(() => runtime?.destroy());

  const cases: readonly [string, string, 'device' | 'tiled' | 'portable'][] = [
    ['dense causal, GQA (rowwise)', `${SHAPE}; causal: true`, 'device'],
    ['dense causal (tiled)', `${SHAPE}; causal: true`, 'tiled'],
    [
      'window | sink with softcap and alibi (portable: q, k, v packed)',
      `${SHAPE}; causal: true; softcap: 5; bias: alibi; mask: window(left: 9) | sink(2)`,
      'portable',
    ],
    ['random blocks (tiled)', `${SHAPE}; mask: window(4) | random(2, block: 8, seed: 1)`, 'tiled'],
    ['topk (routed)', `${SHAPE}; causal: true; mask: topk(2, block: 8)`, 'device'],
    [
      'cluster | window (routed)',
      `${SHAPE}; causal: true; mask: window(left: 4) | cluster(3)`,
      'device',
    ],
    ['segment', `${SHAPE}; causal: true; mask: segment`, 'device'],
    ['bnhd', `${SHAPE}; layout: bnhd; mask: window(6)`, 'device'],
    [
      'rows with no allowed key',
      `${SHAPE}; causal: true; mask: sink(2) & window(left: 1)`,
      'device',
    ],
  ];
  for (const [name, body, target] of cases) {
    it(`${name}: equals the reference`, async () => {
      const profile =
        target === 'portable'
          ? 'portable'
          : target === 'tiled'
            ? { ...runtime.profile, name: 'llvmpipe-tiled', cpuLike: false }
            : runtime.profile;
      const module = lseModule(`attention t { ${body} }`, profile);
      const variant = module.ir.groups[0]!.mechanism.plan?.variant;
      if (target === 'tiled') expect(variant).toBe('tiled');
      await expectMatchesReference(runtime, module, SIZES);
    });
  }

  it('f16: from the halves the kernel reads', async () => {
    const module = lseModule(`attention h { ${SHAPE}; dtype: f16; causal: true }`, runtime.profile);
    await expectMatchesReference(runtime, module, SIZES, 1e-3);
  });

  it('cascade on device tensors: a decode row over two halves of its keys, merged by LSE, is the row over all', async () => {
    const device = runtime.device;
    const module = lseModule(`attention d { ${SHAPE}; causal: true }`, runtime.profile);
    const loaded = await runtime.load(module);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffers: GPUBuffer[] = [];
    const upload = (data: Float32Array) => {
      const buffer = device.createBuffer({ size: Math.ceil(data.byteLength / 16) * 16, usage });
      device.queue.writeBuffer(buffer, 0, data);
      buffers.push(buffer);
      return { buffer, dtype: 'f32' as const };
    };
    const read = async (buffer: GPUBuffer, words: number) => {
      const staging = device.createBuffer({
        size: buffer.size,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange().slice(0, words * 4));
      staging.destroy();
      return out;
    };
    try {
      const seqK = 96;
      const whole = randomInputs(module, { batch: 2, seqQ: 1, seqK, seed: 6 });
      /** Keys [from, to) of each (batch, kv head), bhnd. */
      const keys = (data: Float32Array, from: number, to: number) => {
        const parts: number[] = [];
        for (let bh = 0; bh < 2 * 2; bh++) {
          parts.push(...data.subarray((bh * seqK + from) * 16, (bh * seqK + to) * 16));
        }
        return Float32Array.from(parts);
      };
      const part = async (from: number, to: number) => {
        const sizes = { batch: 2, seqQ: 1, seqK: to - from };
        const oWords = evalSize(module.plan.arrays.find((a) => a.name === 'o')!.length, sizes);
        const o = upload(new Float32Array(oWords));
        const lse = upload(new Float32Array(2 * 4));
        const tensors: DeviceTensors = {
          q: upload(whole.q),
          k: upload(keys(whole.k, from, to)),
          v: upload(keys(whole.v, from, to)),
          o,
          lse,
        };
        await loaded.runOnDevice({ ...tensors, ...sizes });
        return { o: await read(o.buffer, oWords), lse: await read(lse.buffer, 8) };
      };
      const merged = mergeByLse({ layout: 'bhnd', batch: 2, heads: 4, seqQ: 1, valueDim: 16 }, [
        await part(0, 40),
        await part(40, seqK),
      ]);
      const expected = referenceAttentionWithLse(module.attention, whole);
      expect(compareOutput(merged.o, expected.o).relativeError).toBeLessThan(1e-5);
      expectLse(merged.lse, expected.lse, 1e-5);
    } finally {
      for (const b of buffers) b.destroy();
      loaded.destroy();
    }
  });

  it('runOnDevice without an lse tensor writes o alone; a too small lse buffer is refused by name', async () => {
    const device = runtime.device;
    const module = lseModule(
      `attention w { ${SHAPE}; causal: true; mask: window(left: 5) }`,
      runtime.profile,
    );
    const loaded = await runtime.load(module);
    const sizes = { batch: 1, seqQ: 9, seqK: 12 };
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const inputs = randomInputs(module, sizes);
    const buffers: GPUBuffer[] = [];
    const tensor = (data: Float32Array) => {
      const buffer = device.createBuffer({ size: Math.ceil(data.byteLength / 16) * 16, usage });
      device.queue.writeBuffer(buffer, 0, data);
      buffers.push(buffer);
      return { buffer, dtype: 'f32' as const };
    };
    try {
      const o = tensor(new Float32Array(4 * 9 * 16));
      const tensors = { q: tensor(inputs.q), k: tensor(inputs.k), v: tensor(inputs.v), o };
      await loaded.runOnDevice({ ...tensors, ...sizes });
      const staging = device.createBuffer({
        size: o.buffer.size,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      buffers.push(staging);
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(o.buffer, 0, staging, 0, o.buffer.size);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      const expected = referenceAttentionWithLse(module.attention, inputs);
      expect(compareOutput(out, expected.o).relativeError).toBeLessThan(1e-5);
      await expect(
        loaded.runOnDevice({ ...tensors, lse: tensor(new Float32Array(4)), ...sizes }),
      ).rejects.toThrow(
        "tensor 'lse': its buffer holds 16 bytes, but f32 [B, H, Nq] = [1, 4, 9] (36 elements) needs 144 bytes from offset 0, 144 in all",
      );
    } finally {
      for (const b of buffers) b.destroy();
      loaded.destroy();
    }
  });

  it('an LSE tensor for a module compiled without it is a clear error', async () => {
    const module = compile(`attention p { ${SHAPE} }`, { target: runtime.profile }).modules[0]!;
    const loaded = await runtime.load(module);
    try {
      const b = runtime.device.createBuffer({ size: 1 << 16, usage: GPUBufferUsage.STORAGE });
      const t = { buffer: b, dtype: 'f32' as const };
      await expect(
        loaded.runOnDevice({ q: t, k: t, v: t, o: t, lse: t, seqQ: 4, seqK: 4 }),
      ).rejects.toThrow(
        "tensor 'lse': this attention was compiled without the LSE output; compile it with { lse: true } to get the log-sum-exp of each row",
      );
      b.destroy();
    } finally {
      loaded.destroy();
    }
  });
});

describe.skipIf(!swiftshader.run)('LSE output of the subgroup variant on SwiftShader', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'swiftshader', selfCheck: false });
  });
  afterAll(() => runtime?.destroy());

  it('window, GQA: equals the reference', async () => {
    const profile = { ...runtime.profile, name: 'swiftshader-gpu-shaped', cpuLike: false };
    const module = lseModule(
      `attention s { ${SHAPE}; causal: true; mask: window(left: 20) }`,
      profile,
    );
    expect(module.ir.groups[0]!.mechanism.plan?.variant).toBe('subgroup');
    await expectMatchesReference(runtime, module, { batch: 1, seqQ: 33, seqK: 40 });
  });
});
