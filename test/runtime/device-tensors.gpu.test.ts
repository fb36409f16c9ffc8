// Kernel tests of runOnDevice: attentions run on caller-owned GPU buffers (at byte offsets,
// recorded into the caller's encoder or submitted by the runtime), for softmax masks, a
// kernelized group, a low-rank one, two routed ones and f16, each compiled for llvmpipe's own
// profile (tensors bound in place) and for `portable` (q, k, v packed into one binding, so
// copied on the GPU); every output is compared with the CPU reference, the bytes around it
// must be untouched, and a repeated call must create no GPU buffer. Then each bad input.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutput } from '../../src/api/compare-output.js';
import { compile, type CompiledModule } from '../../src/api/compile.js';

type CompileTarget = NonNullable<NonNullable<Parameters<typeof compile>[1]>['target']>;
import { randomInputs, type RandomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import { createRuntime, type LoadedModule, type Runtime } from '../../src/api/runtime.js';
import { evalSize, type SizeEnv } from '../../src/codegen/plan.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import type { DeviceTensor, DeviceTensors } from '../../src/runtime/device-tensors.js';
import { packHalves, unpackHalves } from '../../src/runtime/f16.js';
import { adapterAvailability } from './gpu-availability.js';

const availability = await adapterAvailability('llvmpipe');

const FAMILIES: readonly [string, string][] = [
  [
    'softmax masks (window | random blocks, GQA)',
    'attention masks { heads: 2; kv_heads: 1; head_dim: 16; causal: true; mask: window(8) | random(2, block: 16, seed: 3) }',
  ],
  [
    'document mask (seg_q, seg_k)',
    'attention docs { heads: 2; head_dim: 16; causal: true; mask: segment }',
  ],
  ['kernelized (favor)', 'attention favor { heads: 2; head_dim: 16; kernel: favor(32, seed: 0) }'],
  [
    'low-rank (linformer: E, F)',
    'attention lin { heads: 2; head_dim: 16; max_seq: 128; lowrank: linformer(16) }',
  ],
  [
    'routed mask (cluster: centroids)',
    'attention routed { heads: 2; head_dim: 16; causal: true; mask: window(left: 8, right: 0) | cluster(4) }',
  ],
  [
    'head routing (router)',
    'attention moh { heads: 4; head_dim: 16; causal: true; head_routing: top(2) }',
  ],
  [
    'f16 (packed halves)',
    'attention half { heads: 2; kv_heads: 1; head_dim: 16; dtype: f16; causal: true; mask: window(8) }',
  ],
];

const SIZES: SizeEnv = { batch: 2, seqQ: 40, seqK: 48 };
const BIG: SizeEnv = { batch: 2, seqQ: 100, seqK: 130 };
/** Tensors sit at this offset inside larger buffers, with sentinels before and after. */
const OFFSET = 256;
const SENTINEL = 0x7f7f7f7f;
/** Read at call time: the WebGPU globals exist once a device was acquired. */
const all = (): number =>
  GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

function moduleOf(text: string, target: CompileTarget): CompiledModule {
  const result = compile(text, { target });
  const module = result.modules[0];
  if (!module) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  return module;
}

/** The device bytes of an input: f32/u32 as given, f16 packed two per word. */
function storedBytes(module: CompiledModule, name: string, data: Float32Array | Uint32Array) {
  const spec = module.plan.inputs.find((i) => i.name === name)!;
  return spec.storage === 'f16' && data instanceof Float32Array ? packHalves(data, name) : data;
}

function outputWords(module: CompiledModule, sizes: SizeEnv): number {
  const array = module.plan.arrays.find((a) => a.name === module.plan.outputs[0]!.array)!;
  return evalSize(array.length, sizes);
}

/** A buffer of `OFFSET + bytes + 256` bytes, all sentinel but `data` at OFFSET. */
function bufferWith(
  device: GPUDevice,
  data: Uint32Array | Float32Array | null,
  bytes: number,
  usage = all(),
): GPUBuffer {
  const size = OFFSET + Math.ceil(bytes / 4) * 4 + 256;
  const buffer = device.createBuffer({ size, usage: usage | GPUBufferUsage.COPY_DST });
  const fill = new Uint32Array(size / 4).fill(SENTINEL);
  if (data) fill.set(new Uint32Array(data.buffer, data.byteOffset, data.length), OFFSET / 4);
  device.queue.writeBuffer(buffer, 0, fill);
  return buffer;
}

async function readWords(device: GPUDevice, buffer: GPUBuffer): Promise<Uint32Array> {
  const staging = device.createBuffer({
    size: buffer.size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const words = new Uint32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return words;
}

interface Placed {
  readonly tensors: DeviceTensors;
  readonly o: GPUBuffer;
  readonly buffers: GPUBuffer[];
}

function place(device: GPUDevice, module: CompiledModule, inputs: RandomInputs): Placed {
  const buffers: GPUBuffer[] = [];
  const tensors: Record<string, DeviceTensor> = {};
  const sizes = { batch: inputs.batch, seqQ: inputs.seqQ, seqK: inputs.seqK };
  for (const spec of module.plan.inputs) {
    const data = storedBytes(module, spec.name, inputs[spec.name]!);
    const buffer = bufferWith(device, data, data.byteLength);
    buffers.push(buffer);
    tensors[spec.name] = {
      buffer,
      offset: OFFSET,
      dtype: spec.storage ?? spec.dtype,
      shape: spec.shape.map((e) => evalSize(e, sizes)),
    };
  }
  const o = bufferWith(device, null, outputWords(module, sizes) * 4);
  buffers.push(o);
  const output = module.plan.outputs[0]!;
  tensors['o'] = { buffer: o, offset: OFFSET, dtype: output.storage ?? output.dtype };
  return { tensors: tensors as unknown as DeviceTensors, o, buffers };
}

/** o from its buffer, after checking every word outside [OFFSET, OFFSET + o) is untouched. */
async function readOutput(
  device: GPUDevice,
  module: CompiledModule,
  o: GPUBuffer,
  sizes: SizeEnv,
): Promise<Float32Array> {
  const words = await readWords(device, o);
  const n = outputWords(module, sizes);
  const outside = [...words.subarray(0, OFFSET / 4), ...words.subarray(OFFSET / 4 + n)];
  expect(outside.every((w) => w === SENTINEL)).toBe(true);
  const body = words.slice(OFFSET / 4, OFFSET / 4 + n);
  const output = module.plan.outputs[0]!;
  const elements = output.shape.reduce<number>((a, e) => a * evalSize(e, sizes), 1);
  return output.storage === 'f16' ? unpackHalves(body, elements) : new Float32Array(body.buffer);
}

function expectReference(module: CompiledModule, o: Float32Array, inputs: RandomInputs): void {
  const f16 = module.plan.outputs[0]!.storage === 'f16';
  const { relativeError } = compareOutput(o, reference(module, inputs).o);
  expect(relativeError).toBeLessThan(f16 ? 4e-3 : 1e-4);
}

describe.skipIf(!availability.run)('runOnDevice on llvmpipe', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
  });
  afterAll(() => runtime?.destroy());

  for (const [family, text] of FAMILIES) {
    for (const target of ['device', 'portable'] as const) {
      it(`${family}, compiled for ${target}: equals the reference, writes only o, allocates nothing when warm`, async () => {
        const device = runtime.device;
        const module = moduleOf(text, target === 'device' ? runtime.profile : 'portable');
        const loaded = await runtime.load(module);
        try {
          // First call: recorded into the caller's encoder, submitted by the caller.
          const first = randomInputs(module, { ...SIZES, seed: 0 });
          const a = place(device, module, first);
          const encoder = device.createCommandEncoder();
          await loaded.runOnDevice({ ...a.tensors, encoder });
          device.queue.submit([encoder.finish()]);
          expectReference(module, await readOutput(device, module, a.o, SIZES), first);

          // Second call, other data in other buffers, submitted by the runtime.
          const second = randomInputs(module, { ...SIZES, seed: 1 });
          const b = place(device, module, second);
          await loaded.runOnDevice(b.tensors);
          expectReference(module, await readOutput(device, module, b.o, SIZES), second);

          // Warm: the same call again creates no buffer.
          let created = 0;
          const createBuffer = device.createBuffer;
          device.createBuffer = (descriptor: GPUBufferDescriptor) => {
            created++;
            return createBuffer.call(device, descriptor);
          };
          try {
            await loaded.runOnDevice(a.tensors);
            await loaded.runOnDevice({ ...b.tensors, encoder: device.createCommandEncoder() });
          } finally {
            device.createBuffer = createBuffer;
          }
          expect(created).toBe(0);
          expectReference(module, await readOutput(device, module, a.o, SIZES), first);
          for (const buffer of [...a.buffers, ...b.buffers]) buffer.destroy();
        } finally {
          loaded.destroy();
        }
      });
    }
  }

  const regrown: readonly [string, string][] = [
    ['random blocks', FAMILIES[0]![1]],
    // Its scratch packs the LSH buckets before the rotation table, whose place moves with seqK.
    ['lsh', 'attention lsh { heads: 2; head_dim: 16; mask: lsh(buckets: 4, seed: 7) }'],
  ];
  it.each(regrown)(
    '%s: grows its scratch for a larger size, then alternates sizes (tables rewritten where they moved)',
    async (_, text) => {
      const device = runtime.device;
      const module = moduleOf(text, 'portable');
      const loaded = await runtime.load(module);
      try {
        for (const sizes of [SIZES, BIG, SIZES, BIG, { ...BIG, seqQ: 7 }]) {
          const inputs = randomInputs(module, sizes);
          const placed = place(device, module, inputs);
          await loaded.runOnDevice(placed.tensors);
          expectReference(module, await readOutput(device, module, placed.o, sizes), inputs);
          for (const buffer of placed.buffers) buffer.destroy();
        }
      } finally {
        loaded.destroy();
      }
    },
  );

  it('copies tensors that do not fill whole vectors (v and o here) and needs COPY_SRC / COPY_DST for them', async () => {
    const device = runtime.device;
    const module = moduleOf(
      'attention odd { heads: 1; head_dim: 8; value_dim: 6 }',
      runtime.profile,
    );
    const loaded = await runtime.load(module);
    const sizes = { batch: 1, seqQ: 3, seqK: 5 };
    try {
      const inputs = randomInputs(module, sizes);
      const placed = place(device, module, inputs);
      await loaded.runOnDevice(placed.tensors);
      expectReference(module, await readOutput(device, module, placed.o, sizes), inputs);
      const storageOnly = device.createBuffer({ size: 512, usage: GPUBufferUsage.STORAGE });
      await expect(
        loaded.runOnDevice({ ...placed.tensors, o: { buffer: storageOnly, dtype: 'f32' } }),
      ).rejects.toThrow(
        /^tensor 'o': its buffer's usage lacks COPY_DST \(it has STORAGE\); its 18 words do not fill whole 16-byte vectors, which the kernels read and write, so it is copied into the buffer on the GPU$/,
      );
      await expect(
        loaded.runOnDevice({ ...placed.tensors, v: { ...placed.tensors.v, buffer: storageOnly } }),
      ).rejects.toThrow(/^tensor 'v': its buffer's usage lacks COPY_SRC \(it has STORAGE\)/);
      for (const buffer of [...placed.buffers, storageOnly]) buffer.destroy();
    } finally {
      loaded.destroy();
    }
  });

  it('concurrent calls at different sizes (self-submitted, and host arrays) each get their own uniforms', async () => {
    const device = runtime.device;
    const module = moduleOf(FAMILIES[0]![1], runtime.profile);
    const loaded = await runtime.load(module);
    try {
      const all = [SIZES, { batch: 1, seqQ: 17, seqK: 33 }, { batch: 3, seqQ: 64, seqK: 64 }];
      const inputs = all.map((sizes, seed) => randomInputs(module, { ...sizes, seed }));
      const placed = inputs.map((i) => place(device, module, i));
      await Promise.all(placed.map((p) => loaded.runOnDevice(p.tensors)));
      for (const [n, p] of placed.entries()) {
        expectReference(module, await readOutput(device, module, p.o, all[n]!), inputs[n]!);
        for (const buffer of p.buffers) buffer.destroy();
      }
      const outputs = await Promise.all(inputs.map((i) => loaded.run(i)));
      outputs.forEach(({ o }, n) => expectReference(module, o, inputs[n]!));
    } finally {
      loaded.destroy();
    }
  });

  it('host-array run is built on the device path and still equals the reference', async () => {
    const module = moduleOf(FAMILIES[1]![1], 'portable');
    const loaded = await runtime.load(module);
    try {
      const inputs = randomInputs(module, SIZES);
      const { o } = await loaded.run(inputs);
      expectReference(module, o, inputs);
    } finally {
      loaded.destroy();
    }
  });

  describe('bad input: a clear error naming the tensor, and nothing written', () => {
    let loaded: LoadedModule;
    let packed: LoadedModule;
    let half: LoadedModule;
    let module: CompiledModule;
    let other: AcquiredDevice;
    let good: Placed;
    beforeAll(async () => {
      module = moduleOf(FAMILIES[0]![1], runtime.profile);
      loaded = await runtime.load(module);
      packed = await runtime.load(moduleOf(FAMILIES[0]![1], 'portable'));
      half = await runtime.load(moduleOf(FAMILIES[6]![1], runtime.profile));
      other = await acquireDevice({ adapter: 'llvmpipe' });
      good = place(runtime.device, module, randomInputs(module, SIZES));
    });
    afterAll(() => {
      for (const l of [loaded, packed, half]) l?.destroy();
      other?.destroy();
    });

    const bytesOf = (name: 'q' | 'k' | 'v') =>
      SIZES.batch * (name === 'q' ? 2 * SIZES.seqQ : SIZES.seqK) * 16 * 4;

    async function expectRejected(
      attention: LoadedModule,
      change: Partial<Record<string, unknown>>,
      message: RegExp,
    ): Promise<void> {
      await expect(
        attention.runOnDevice({ ...good.tensors, ...change } as DeviceTensors),
      ).rejects.toThrow(message);
      // Rejected before anything was recorded: o holds only sentinels.
      const words = await readWords(runtime.device, good.o);
      expect(words.every((w) => w === SENTINEL)).toBe(true);
    }

    it('a buffer from another device', async () => {
      const foreign = other.device.createBuffer({ size: OFFSET + bytesOf('k'), usage: all() });
      await expectRejected(
        loaded,
        { k: { ...good.tensors.k, buffer: foreign } },
        /^tensor 'k': its buffer belongs to another GPUDevice; .*associated with/,
      );
    });

    it('a buffer too small for the declared sizes, counting its offset', async () => {
      const small = runtime.device.createBuffer({ size: OFFSET + bytesOf('v') - 4, usage: all() });
      await expectRejected(
        loaded,
        { v: { ...good.tensors.v, buffer: small } },
        new RegExp(
          `^tensor 'v': its buffer holds ${OFFSET + bytesOf('v') - 4} bytes, but f32 \\[B, Hkv, Nk, Dv\\] = \\[2, 1, 48, 16\\] ` +
            `\\(1536 elements\\) needs ${bytesOf('v')} bytes from offset 256, ${OFFSET + bytesOf('v')} in all$`,
        ),
      );
    });

    it('a buffer without STORAGE when bound in place, or without COPY_SRC when copied', async () => {
      const copyOnly = runtime.device.createBuffer({
        size: OFFSET + bytesOf('q'),
        usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      await expectRejected(
        loaded,
        { q: { ...good.tensors.q, buffer: copyOnly } },
        /^tensor 'q': its buffer's usage lacks STORAGE \(it has COPY_SRC \| COPY_DST\); it is bound as a storage buffer$/,
      );
      const storageOnly = runtime.device.createBuffer({
        size: OFFSET + bytesOf('q'),
        usage: GPUBufferUsage.STORAGE,
      });
      await expectRejected(
        packed,
        { q: { ...good.tensors.q, buffer: storageOnly } },
        /^tensor 'q': its buffer's usage lacks COPY_SRC \(it has STORAGE\); this plan packs 'q' with other arrays in one binding \(the device has few storage bindings\), so it is copied out of the buffer on the GPU$/,
      );
    });

    it('an offset that is not a multiple of minStorageBufferOffsetAlignment', async () => {
      const align = runtime.device.limits.minStorageBufferOffsetAlignment;
      await expectRejected(
        loaded,
        { o: { ...good.tensors.o, offset: align + 4 } },
        new RegExp(
          `^tensor 'o': offset ${align + 4} is not a multiple of the device's minStorageBufferOffsetAlignment \\(${align}\\)$`,
        ),
      );
    });

    it('a wrong dtype', async () => {
      await expectRejected(
        half,
        {},
        /^tensor 'q': dtype is f32, expected f16 \(this attention has dtype: f16: pass packed halves/,
      );
      await expectRejected(
        loaded,
        { v: { ...good.tensors.v, dtype: 'f16' } },
        /^tensor 'v': dtype is f16, expected f32$/,
      );
    });

    it('a mismatched batch, or a tensor shaped for other sizes', async () => {
      await expectRejected(
        loaded,
        { k: { ...good.tensors.k, shape: [1, 1, 48, 16] } },
        /^tensor 'k': axis B is 1, expected 2 \(batch=2\); its shape is \[1, 1, 48, 16\], expected \[B, Hkv, Nk, D\] = \[2, 1, 48, 16\]$/,
      );
      await expectRejected(
        loaded,
        { batch: 3 },
        /^tensor 'q': axis B is 2, expected 3 \(batch=3\)/,
      );
      await expectRejected(
        loaded,
        { q: { ...good.tensors.q, shape: undefined } },
        /^seqQ is not given and tensor 'q' has no shape to read it from \(axis Nq\); pass seqQ, or each tensor's shape$/,
      );
    });

    it('a missing tensor, an unknown one, and an output overlapping an input', async () => {
      await expectRejected(
        loaded,
        { v: undefined },
        /^tensor 'v' is missing; expected f32 \[B, Hkv, Nk, Dv\] = \[2, 1, 48, 16\]$/,
      );
      await expectRejected(
        loaded,
        { E: good.tensors.q },
        /^tensor 'E' is not an input of this attention \(it takes q, k, v, o\)$/,
      );
      await expectRejected(
        loaded,
        { o: { ...good.tensors.q, dtype: 'f32', shape: undefined } },
        /^tensor 'o' \(bytes 256\.\.10496\) overlaps tensor 'q' \(bytes 256\.\.10496\) in the same buffer/,
      );
    });

    it('one encoder holding runs at two sizes', async () => {
      const encoder = runtime.device.createCommandEncoder();
      await loaded.runOnDevice({ ...good.tensors, encoder });
      await expect(
        loaded.runOnDevice({
          ...good.tensors,
          encoder,
          batch: 2,
          seqQ: 20,
          q: { ...good.tensors.q, shape: undefined },
        }),
      ).rejects.toThrow(
        /^attention 'masks': this encoder already holds a run of it at batch=2, seqQ=40, seqK=48; .* submit that encoder before recording a run at batch=2, seqQ=20, seqK=48/,
      );
      runtime.device.queue.submit([encoder.finish()]);
    });
  });
});
