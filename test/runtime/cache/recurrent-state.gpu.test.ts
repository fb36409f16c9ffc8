// Kernel tests of the recurrent-state store (src/runtime/cache/recurrent-state.ts) on
// llvmpipe: decode loops of 1-token steps and of chunks (T = 1, 3, 8) for elu1, relu and
// favor(m), with GQA, both layouts, f16, batch 2 and a kernelized group that is not the first,
// each step compared with the CPU reference over the full K/V up to that position; then a
// reset, a warm loop that creates no GPU buffer, and bad input.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutput } from '../../../src/api/compare-output.js';
import { compile, type CompiledModule } from '../../../src/api/compile.js';
import { randomInputs } from '../../../src/api/random-inputs.js';
import { reference } from '../../../src/api/reference.js';
import { createRuntime, type Runtime } from '../../../src/api/runtime.js';
import type { DeviceTensor } from '../../../src/runtime/device-tensor-args.js';
import { packHalves, unpackHalves } from '../../../src/runtime/f16.js';
import { RecurrentState } from '../../../src/runtime/cache/recurrent-state.js';
import { adapterAvailability } from '../gpu-availability.js';

const availability = await adapterAvailability('llvmpipe');

const B = 2;
const N = 13;

interface Case {
  readonly name: string;
  readonly text: string;
  readonly group: string;
}

const CASES: readonly Case[] = [
  {
    name: 'elu1, GQA 4/2',
    text: 'attention a { heads: 4; kv_heads: 2; head_dim: 8; causal: true; kernel: elu1 }',
    group: 'a',
  },
  {
    name: 'relu, bnhd, value_dim 12',
    text: 'attention r { heads: 2; head_dim: 8; value_dim: 12; layout: bnhd; causal: true; kernel: relu }',
    group: 'r',
  },
  {
    name: 'favor(16), GQA 2/1',
    text: 'attention f { heads: 2; kv_heads: 1; head_dim: 8; causal: true; kernel: favor(16, seed: 5) }',
    group: 'f',
  },
  {
    name: 'elu1, f16',
    text: 'attention h { heads: 2; head_dim: 8; dtype: f16; causal: true; kernel: elu1 }',
    group: 'h',
  },
  {
    name: 'favor(8) as the second group of a hybrid',
    text:
      'attention mix { head_dim: 8; causal: true; ' +
      'group local { heads: 2; kv_heads: 1; mask: window(left: 3) } ' +
      'group lin { heads: 4; kv_heads: 2; kernel: favor(8, seed: 2) } }',
    group: 'lin',
  },
];

function moduleOf(text: string, runtime: Runtime): CompiledModule {
  const result = compile(text, { target: runtime.profile });
  const module = result.modules[0];
  if (!module) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  return module;
}

/** Rows [from, to) along the sequence axis of a [B, H, N, W] (bhnd) or [B, N, H, W] tensor. */
function seqSlice(
  data: Float32Array,
  layout: 'bhnd' | 'bnhd',
  heads: number,
  n: number,
  width: number,
  from: number,
  to: number,
): Float32Array {
  const t = to - from;
  const out = new Float32Array(B * heads * t * width);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < t; i++) {
        const src =
          layout === 'bhnd'
            ? ((b * heads + h) * n + from + i) * width
            : ((b * n + from + i) * heads + h) * width;
        const dst =
          layout === 'bhnd' ? ((b * heads + h) * t + i) * width : ((b * t + i) * heads + h) * width;
        out.set(data.subarray(src, src + width), dst);
      }
  return out;
}

/** The values of heads [h0, h0 + count) of a [B, H, T, W] / [B, T, H, W] tensor, in order. */
function headsOf(
  data: Float32Array,
  layout: 'bhnd' | 'bnhd',
  heads: number,
  t: number,
  width: number,
  h0: number,
  count: number,
): Float32Array {
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let h = h0; h < h0 + count; h++)
      for (let i = 0; i < t; i++) {
        const at =
          layout === 'bhnd' ? ((b * heads + h) * t + i) * width : ((b * t + i) * heads + h) * width;
        out.push(...data.subarray(at, at + width));
      }
  return Float32Array.from(out);
}

async function readBack(device: GPUDevice, buffer: GPUBuffer, bytes: number): Promise<Uint32Array> {
  const staging = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const words = new Uint32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return words;
}

function deviceTensor(device: GPUDevice, data: Float32Array, f16: boolean): DeviceTensor {
  const words = f16 ? packHalves(data, 'x') : new Uint32Array(data.buffer.slice(0));
  const buffer = device.createBuffer({
    size: Math.max(16, Math.ceil(words.byteLength / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, words);
  return { buffer, dtype: f16 ? 'f16' : 'f32' };
}

describe.skipIf(!availability.run)('recurrent-state store on llvmpipe', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
  });
  afterAll(() => runtime?.destroy());

  for (const c of CASES) {
    it(`${c.name}: every step of T = 1, 3, 8 equals the reference over K/V so far; reset starts over`, async () => {
      const device = runtime.device;
      const module = moduleOf(c.text, runtime);
      const a = module.attention;
      const group = a.groups.find((g) => g.name === c.group)!;
      const headOffset = a.groups
        .slice(0, a.groups.indexOf(group))
        .reduce((n, g) => n + g.heads, 0);
      const layout = a.layout;
      const f16 = a.dtype === 'f16';
      const valueDim = a.valueDim;
      const state = await RecurrentState.create(device, module.plan, c.group, { batch: B });
      const oBuffer = device.createBuffer({
        size: B * a.heads * 8 * valueDim * 4,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      });
      try {
        for (const [round, T] of [1, 3, 8].entries()) {
          state.reset();
          expect(state.length).toBe(0);
          const all = randomInputs(module, { batch: B, seqQ: N, seqK: N, seed: 10 + round });
          const [q, k, v] = [all.q, all.k, all.v] as Float32Array[];
          let worst = 0;
          for (let p0 = 0, step = 0; p0 < N; p0 += T, step++) {
            const p1 = Math.min(N, p0 + T);
            const t = p1 - p0;
            const kc = seqSlice(k!, layout, a.kvHeads, N, a.headDim, p0, p1);
            const vc = seqSlice(v!, layout, a.kvHeads, N, valueDim, p0, p1);
            const qc = seqSlice(q!, layout, a.heads, N, a.headDim, p0, p1);
            // Alternate host arrays and device tensors.
            const onDevice = step % 2 === 1;
            const encoder = device.createCommandEncoder();
            await state.append(
              encoder,
              onDevice ? deviceTensor(device, kc, f16) : kc,
              onDevice ? deviceTensor(device, vc, f16) : vc,
              t,
            );
            await state.attend(
              encoder,
              onDevice ? deviceTensor(device, qc, f16) : qc,
              { buffer: oBuffer, dtype: f16 ? 'f16' : 'f32' },
              t,
            );
            device.queue.submit([encoder.finish()]);
            expect(state.length).toBe(p1);
            const elements = B * a.heads * t * valueDim;
            const words = await readBack(device, oBuffer, (f16 ? elements / 2 : elements) * 4);
            const o = f16 ? unpackHalves(words, elements) : new Float32Array(words.buffer);
            const expected = reference(module, {
              q: qc,
              k: seqSlice(k!, layout, a.kvHeads, N, a.headDim, 0, p1),
              v: seqSlice(v!, layout, a.kvHeads, N, valueDim, 0, p1),
              batch: B,
              seqQ: t,
              seqK: p1,
            }).o;
            const pick = (x: Float32Array) =>
              headsOf(x, layout, a.heads, t, valueDim, headOffset, group.heads);
            const { relativeError } = compareOutput(pick(o), pick(expected));
            worst = Math.max(worst, relativeError);
          }
          expect(worst).toBeLessThan(f16 ? 4e-3 : 1e-4);
        }
      } finally {
        state.destroy();
        oBuffer.destroy();
      }
    });
  }

  it('a warm decode loop of 1-token steps with device tensors creates no GPU buffer', async () => {
    const device = runtime.device;
    const module = moduleOf(CASES[0]!.text, runtime);
    const a = module.attention;
    const state = await RecurrentState.create(device, module.plan, 'a', { batch: B });
    const all = randomInputs(module, { batch: B, seqQ: N, seqK: N, seed: 3 });
    const tensors = Array.from({ length: N }, (_, p) => ({
      k: deviceTensor(
        device,
        seqSlice(all.k as Float32Array, 'bhnd', a.kvHeads, N, 8, p, p + 1),
        false,
      ),
      v: deviceTensor(
        device,
        seqSlice(all.v as Float32Array, 'bhnd', a.kvHeads, N, 8, p, p + 1),
        false,
      ),
      q: deviceTensor(
        device,
        seqSlice(all.q as Float32Array, 'bhnd', a.heads, N, 8, p, p + 1),
        false,
      ),
    }));
    const o = device.createBuffer({
      size: B * a.heads * 8 * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const step = async (p: number) => {
      const encoder = device.createCommandEncoder();
      await state.append(encoder, tensors[p]!.k, tensors[p]!.v, 1);
      await state.attend(encoder, tensors[p]!.q, { buffer: o, dtype: 'f32' }, 1);
      device.queue.submit([encoder.finish()]);
    };
    try {
      for (let p = 0; p < 2; p++) await step(p); // warm-up: scratch, uniforms, bind groups
      const bytes = state.bytes;
      let created = 0;
      const createBuffer = device.createBuffer;
      device.createBuffer = (descriptor: GPUBufferDescriptor) => {
        created++;
        return createBuffer.call(device, descriptor);
      };
      try {
        for (let p = 2; p < N; p++) await step(p);
      } finally {
        device.createBuffer = createBuffer;
      }
      expect(created).toBe(0);
      expect(state.bytes).toBe(bytes);
      expect(state.length).toBe(N);
      // The last step is right too.
      const words = await readBack(device, o, B * a.heads * 8 * 4);
      const expected = reference(module, {
        q: seqSlice(all.q as Float32Array, 'bhnd', a.heads, N, 8, N - 1, N),
        k: all.k,
        v: all.v,
        batch: B,
        seqQ: 1,
        seqK: N,
      }).o;
      expect(compareOutput(new Float32Array(words.buffer), expected).relativeError).toBeLessThan(
        1e-4,
      );
    } finally {
      state.destroy();
      o.destroy();
    }
  });

  it('bad input: a clear error naming the tensor or the call, and nothing recorded', async () => {
    const device = runtime.device;
    const module = moduleOf(CASES[0]!.text, runtime);
    await expect(
      RecurrentState.create(
        device,
        moduleOf('attention s { heads: 2; head_dim: 8; causal: true }', runtime).plan,
        's',
        { batch: 1 },
      ),
    ).rejects.toThrow(/no recurrent-state kernels for it \(groups with them: none\)/);
    const state = await RecurrentState.create(device, module.plan, 'a', { batch: B });
    const o = device.createBuffer({ size: 1024, usage: GPUBufferUsage.STORAGE });
    try {
      const q = new Float32Array(B * 4 * 8);
      await expect(state.attend(null, q, { buffer: o, dtype: 'f32' }, 1)).rejects.toThrow(
        /attend before any append/,
      );
      await expect(
        state.append(null, new Float32Array(5), new Float32Array(B * 2 * 8), 1),
      ).rejects.toThrow(
        "tensor 'k' has 5 elements, expected [B, Hkv, Nk, D] = [2, 2, 1, 8] (32 elements)",
      );
      await expect(
        state.append(null, { buffer: o, dtype: 'f16' }, new Float32Array(B * 2 * 8), 1),
      ).rejects.toThrow("tensor 'k': dtype is f16, expected f32");
      const small = device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE });
      await expect(
        state.append(null, { buffer: small, dtype: 'f32' }, new Float32Array(B * 2 * 8), 1),
      ).rejects.toThrow(
        "tensor 'k': its buffer holds 64 bytes, but f32 [B, Hkv, Nk, D] = [2, 2, 1, 8] (32 elements) needs 128 bytes",
      );
      const noStorage = device.createBuffer({ size: 1024, usage: GPUBufferUsage.COPY_DST });
      await expect(
        state.append(null, { buffer: noStorage, dtype: 'f32' }, new Float32Array(B * 2 * 8), 1),
      ).rejects.toThrow("tensor 'k': its buffer's usage lacks STORAGE (it has COPY_DST)");
      expect(state.length).toBe(0);
      await state.append(null, new Float32Array(B * 2 * 3 * 8), new Float32Array(B * 2 * 3 * 8), 3);
      await expect(
        state.attend(null, new Float32Array(B * 4 * 4 * 8), { buffer: o, dtype: 'f32' }, 4),
      ).rejects.toThrow('attend of 4 query rows, but the chunk appended last has 3 tokens');
      await expect(
        state.attend(null, q, new Float32Array(8) as unknown as DeviceTensor, 1),
      ).rejects.toThrow("tensor 'o' must be a device tensor");
      const encoder = device.createCommandEncoder();
      await state.append(encoder, new Float32Array(B * 2 * 8), new Float32Array(B * 2 * 8), 1);
      await expect(
        state.append(encoder, new Float32Array(B * 2 * 8), new Float32Array(B * 2 * 8), 1),
      ).rejects.toThrow(
        "this encoder already holds a call of this store with 'k' from a host array",
      );
      device.queue.submit([encoder.finish()]);
      await expect(state.append(null, q, q, 0)).rejects.toThrow(
        'append count 0 is not a positive integer',
      );
      small.destroy();
      noStorage.destroy();
    } finally {
      state.destroy();
      o.destroy();
    }
    await expect(state.append(null, new Float32Array(1), new Float32Array(1), 1)).rejects.toThrow(
      /was destroyed/,
    );
  });
});
