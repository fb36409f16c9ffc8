// Helpers of the side-table tests: keys sliced along the sequence, buffers read back, and the
// prefill's own route kernel (`<table>.means` / `<table>.key_buckets` of the compiled plan)
// run on the same keys, so a store is compared with what the prefill computes on the GPU.

import type { CompiledModule } from '../../../src/api/compile.js';
import { evalSize, type SizeEnv } from '../../../src/codegen/plan.js';
import { StoreKernels } from '../../../src/runtime/cache/store-kernels.js';

/** Positions [from, to) of a [B, H, N, W] (bhnd) or [B, N, H, W] (bnhd) tensor. */
export function seqSlice(
  data: Float32Array,
  layout: 'bhnd' | 'bnhd',
  batch: number,
  heads: number,
  n: number,
  width: number,
  from: number,
  to: number,
): Float32Array {
  const t = to - from;
  const out = new Float32Array(batch * heads * t * width);
  for (let b = 0; b < batch; b++)
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

export async function readWords(
  device: GPUDevice,
  binding: GPUBufferBinding,
): Promise<Uint32Array> {
  const bytes = binding.size ?? binding.buffer.size - (binding.offset ?? 0);
  const staging = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(binding.buffer, binding.offset ?? 0, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const words = new Uint32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return words;
}

/**
 * Runs the prefill's route kernel `kernelName` of `module` (compiled for the device, so k has
 * a buffer of its own) on `kWords` at `sizes`, with `aux` arrays filled from `fill` (name ->
 * f32 data), and returns the words of the plan array `array` of aux.
 */
export async function prefillRouteTable(
  device: GPUDevice,
  module: CompiledModule,
  kernelName: string,
  sizes: SizeEnv,
  kWords: Uint32Array,
  fill: Readonly<Record<string, Float32Array>>,
  array: string,
): Promise<Uint32Array> {
  const plan = module.plan;
  const kernel = plan.kernels.find((k) => k.name === kernelName);
  if (!kernel) throw new Error(`no kernel ${kernelName}`);
  const auxSpec = plan.buffers.find((b) => b.name === 'aux')!;
  const aux = device.createBuffer({
    size: Math.ceil(evalSize(auxSpec.size, sizes) / 16) * 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const k = device.createBuffer({
    size: Math.max(16, Math.ceil(kWords.byteLength / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(k, 0, kWords);
  const arrayOf = (name: string) => plan.arrays.find((a) => a.name === name)!;
  for (const [name, data] of Object.entries(fill))
    device.queue.writeBuffer(aux, evalSize(arrayOf(name).offset, sizes) * 4, data);
  const kernels = await StoreKernels.create(device, 'prefill route kernel', [kernel]);
  try {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    kernels.dispatch(pass, kernel.name, sizes, { k: { buffer: k }, aux: { buffer: aux } });
    pass.end();
    device.queue.submit([encoder.finish()]);
    const out = arrayOf(array);
    return await readWords(device, {
      buffer: aux,
      offset: evalSize(out.offset, sizes) * 4,
      size: evalSize(out.length, sizes) * 4,
    });
  } finally {
    kernels.destroy();
    aux.destroy();
    k.destroy();
  }
}
