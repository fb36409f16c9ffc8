// How a KV-cache store records one call (recurrent-state.ts, projected-rows.ts): its host
// arrays written into their staging buffers, then one compute pass, into the caller's encoder
// or one submitted at once; a device error is thrown naming the store and the call.

import { assertDeviceUsable, DeviceError, withErrorScopes } from '../device-errors.js';
import type { CacheInputs, PlacedTensor } from './cache-inputs.js';

export async function recordStorePass(
  device: GPUDevice,
  owner: string,
  inputs: CacheInputs,
  encoder: GPUCommandEncoder | null | undefined,
  what: string,
  placed: readonly PlacedTensor[],
  body: (pass: GPUComputePassEncoder) => void,
): Promise<void> {
  const scoped = withErrorScopes(device, () => {
    inputs.upload(placed);
    const own = encoder ?? device.createCommandEncoder({ label: owner });
    const pass = own.beginComputePass({ label: owner });
    body(pass);
    pass.end();
    if (!encoder) device.queue.submit([own.finish()]);
  });
  const error = await scoped.error;
  if (error !== null) throw new DeviceError(`${owner}: ${what}: ${error}`);
  assertDeviceUsable(device, owner);
}
