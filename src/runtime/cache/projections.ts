// createCache's E and F for a plan with linformer groups (`[Hkv, r, max_seq]` f32): host
// Float32Arrays or device tensors `{ buffer, offset?, dtype, shape? }`, checked before the cache
// exists, then written once into the projected rows' `ef` buffer (projected-rows.ts): a host
// array through the queue, a device tensor by one copy on the GPU, both at createCache, so
// what the caller does with its own E and F afterwards does not reach the cache.

import type { HostPlan, PlanProjectedKernels } from '../../codegen/plan.js';
import type { DeviceTensor } from '../device-tensor-args.js';
import { checkTensorRegion, missingUsage, refusedBuffer } from '../device-tensor-checks.js';
import { withErrorScopes } from '../device-errors.js';

/** E or F as createCache takes it. */
export type ProjectionInput = Float32Array | DeviceTensor;

/** E or F, checked: its values on the host, or where they lie on the device. */
export type Projection =
  | { readonly kind: 'host'; readonly values: Float32Array }
  | { readonly kind: 'device'; readonly buffer: GPUBuffer; readonly offset: number };

export interface CheckedProjections {
  readonly E: Projection;
  readonly F: Projection;
  /** The attention's kv heads: E and F hold every one. */
  readonly kvHeads: number;
  /** Bytes of each of E and F. */
  readonly bytes: number;
}

/**
 * Checks E and F against the plan's first linformer store; throws naming the group, the
 * tensor, the expected and the actual value.
 */
export function checkProjections(
  name: string,
  plan: HostPlan,
  entry: PlanProjectedKernels,
  given: { readonly E?: unknown; readonly F?: unknown },
  limits: Pick<GPUSupportedLimits, 'minStorageBufferOffsetAlignment'>,
): CheckedProjections {
  const kvHeads = Number(plan.inputs.find((i) => i.name === 'E')?.shape[0] ?? entry.kvHeads);
  const shape = [kvHeads, entry.rank, entry.maxSeq];
  const dims = `[Hkv, r, max_seq] = [${shape.join(', ')}]`;
  const elements = kvHeads * entry.rank * entry.maxSeq;
  const at = `createCache: linformer group '${entry.group}'`;
  const checked = (tensor: 'E' | 'F'): Projection => {
    const x = given[tensor];
    if (x === undefined) {
      throw new Error(
        `createCache: attention '${name}' has a linformer group ('${entry.group}'): pass its ` +
          `projections E and F (${dims} f32) to createCache({ E, F }); the cache projects each ` +
          'key once, as it is appended',
      );
    }
    if (x instanceof Float32Array) {
      if (x.length !== elements) {
        throw new Error(
          `${at}: tensor '${tensor}' has ${x.length} elements, expected f32 ${dims} (${elements} elements)`,
        );
      }
      return { kind: 'host', values: x };
    }
    if (typeof x !== 'object' || x === null || ArrayBuffer.isView(x) || !('buffer' in x)) {
      const kind = (x as object | null)?.constructor?.name ?? String(x);
      throw new Error(
        `${at}: tensor '${tensor}': expected a Float32Array or a device tensor ` +
          `{ buffer, offset?, dtype: 'f32', shape? } (f32 ${dims}), got ${kind}`,
      );
    }
    return checkedDeviceProjection(tensor, x as DeviceTensor, shape, at, limits);
  };
  return { E: checked('E'), F: checked('F'), kvHeads, bytes: elements * 4 };
}

/** A device E or F: `runOnDevice`'s region checks, and COPY_SRC for the copy into the cache. */
function checkedDeviceProjection(
  tensor: 'E' | 'F',
  x: DeviceTensor,
  shape: readonly number[],
  at: string,
  limits: Pick<GPUSupportedLimits, 'minStorageBufferOffsetAlignment'>,
): Projection {
  const bytes = shape.reduce((a, b) => a * b, 1) * 4;
  const spec = { name: tensor, dims: ['Hkv', 'r', 'max_seq'], shape, storage: 'f32', bytes };
  try {
    const offset = checkTensorRegion(spec, x, limits);
    if ((x.buffer.usage & GPUBufferUsage.COPY_SRC) === 0) {
      const why = 'the cache copies it into its own buffer on the GPU, once';
      throw new Error(missingUsage(tensor, x.buffer.usage, GPUBufferUsage.COPY_SRC, why));
    }
    return { kind: 'device', buffer: x.buffer, offset };
  } catch (error) {
    throw new Error(`${at}: ${(error as Error).message}`);
  }
}

/**
 * Writes E and F into `ef` at the store's word offsets, at once (a device tensor's copy is
 * submitted here). Resolves when the device accepted the copies; rejects naming the tensor
 * when it did not (a buffer of another device, a destroyed one).
 */
export async function writeProjections(
  device: GPUDevice,
  ef: GPUBuffer,
  layout: PlanProjectedKernels['ef'],
  group: string,
  given: CheckedProjections,
): Promise<void> {
  const verdicts = (['E', 'F'] as const).map((tensor) => {
    const x = given[tensor];
    const at = (tensor === 'E' ? layout.e : layout.f) * 4;
    const scoped = withErrorScopes(device, () => {
      if (x.kind === 'host') {
        // A copy: writeBuffer needs an ArrayBuffer-backed array (the caller's may be shared).
        device.queue.writeBuffer(ef, at, new Float32Array(x.values));
        return;
      }
      const encoder = device.createCommandEncoder({ label: `${group}.${tensor}` });
      encoder.copyBufferToBuffer(x.buffer, x.offset, ef, at, given.bytes);
      device.queue.submit([encoder.finish()]);
    });
    return scoped.error.then((error) => ({ tensor, error }));
  });
  for (const { tensor, error } of await Promise.all(verdicts)) {
    if (error === null) continue;
    throw new Error(
      `createCache: linformer group '${group}': ` +
        refusedBuffer(tensor, error, 'the device refused its copy'),
    );
  }
}
