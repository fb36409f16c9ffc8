// `run` with host arrays, built on the device-tensor path so both share one executor: the
// inputs are validated as before (shapes, types, finite values), uploaded into fresh buffers
// of the runtime's device, run on as device tensors, and o is read back. The runner submits
// its own work: it writes uniforms and submits in one synchronous step, so concurrent runs of
// one attention at different sizes cannot see each other's uniforms.

import { evalSize } from '../codegen/plan.js';
import { DeviceError, withErrorScopes } from './device-errors.js';
import {
  trustBuffer,
  type DeviceTensor,
  type DeviceTensors,
  type TensorRunner,
} from './device-tensors.js';
import { packHalves, unpackHalves } from './f16.js';
import { submitAndReadBack } from './read-back.js';
import type { LoadContext } from './load-context.js';
import {
  checkRunSizes,
  resolveSizes,
  validateInputs,
  type RunInputs,
  type RunOutputs,
} from './run-checks.js';

/**
 * The host-array convenience on top of the device path: uploads the inputs into fresh
 * buffers, runs on them as device tensors, and reads `o` back.
 */
export async function runOnHostArrays(
  context: LoadContext,
  runner: TensorRunner,
  inputs: RunInputs,
): Promise<RunOutputs> {
  const { device, plan, name } = context;
  await context.ready();
  const sizes = resolveSizes(plan, inputs);
  checkRunSizes(plan, sizes, context.runLimits);
  validateInputs(plan, inputs, sizes);
  const at = `batch=${sizes.batch}, seqQ=${sizes.seqQ}, seqK=${sizes.seqK}`;
  const output = plan.outputs.find((o) => o.name === 'o');
  const lseOutput = plan.outputs.find((o) => o.name === 'lse');
  const lseArray = plan.arrays.find((a) => a.name === lseOutput?.array);
  const lseWords = lseArray ? evalSize(lseArray.length, sizes) : 0;
  const outArray = plan.arrays.find((a) => a.name === output?.array);
  if (!output || !outArray) throw new Error('plan: no output array');
  const outWords = evalSize(outArray.length, sizes);
  const outElements = output.shape.reduce<number>((a, e) => a * evalSize(e, sizes), 1);
  const created: GPUBuffer[] = [];
  const make = (label: string, bytes: number, usage: number) => {
    const buffer = device.createBuffer({
      label: `${name}.${label}`,
      size: Math.max(16, Math.ceil(bytes / 16) * 16),
      usage,
    });
    created.push(buffer);
    trustBuffer(device, buffer);
    return buffer;
  };
  try {
    const upload = withErrorScopes(device, () => {
      const tensors: Record<string, DeviceTensor> = {};
      for (const spec of plan.inputs) {
        const raw = inputs[spec.name]!;
        const storage = spec.storage ?? spec.dtype;
        const data =
          storage === 'f16' && raw instanceof Float32Array ? packHalves(raw, spec.name) : raw;
        const buffer = make(
          spec.name,
          data.byteLength,
          GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
        );
        device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
        tensors[spec.name] = { buffer, dtype: storage };
      }
      const o = make(
        'o',
        outWords * 4,
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      );
      tensors['o'] = { buffer: o, dtype: output.storage ?? output.dtype };
      const staging = make(
        'o.staging',
        outWords * 4,
        GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      );
      let lse: { buffer: GPUBuffer; staging: GPUBuffer } | null = null;
      if (lseOutput) {
        const buffer = make(
          'lse',
          lseWords * 4,
          GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        );
        tensors['lse'] = { buffer, dtype: 'f32' };
        const staging = make(
          'lse.staging',
          lseWords * 4,
          GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        );
        lse = { buffer, staging };
      }
      return { tensors: tensors as unknown as DeviceTensors, o, staging, lse };
    });
    const uploadError = await upload.error;
    if (uploadError !== null) {
      throw new DeviceError(`attention '${name}': preparing a run at ${at}: ${uploadError}`);
    }
    const { tensors, o, staging, lse } = upload.value;
    await runner.run({ ...tensors, ...sizes });
    const bytes = await submitAndReadBack(device, {
      name,
      at,
      record: () => {}, // the run was submitted by the runner
      source: o,
      sourceOffset: 0,
      staging,
      words: outWords,
      assertUsable: () => context.assertUsable(),
    });
    const out =
      output.storage === 'f16'
        ? unpackHalves(new Uint32Array(bytes), outElements)
        : new Float32Array(bytes);
    if (!lse) return { o: out };
    const lseBytes = await submitAndReadBack(device, {
      name,
      at,
      record: () => {},
      source: lse.buffer,
      sourceOffset: 0,
      staging: lse.staging,
      words: lseWords,
      assertUsable: () => context.assertUsable(),
    });
    return { o: out, lse: new Float32Array(lseBytes) };
  } finally {
    for (const b of created) b.destroy();
  }
}
