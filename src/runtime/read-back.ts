// One submission that ends in reading `o` back: the caller's commands, a copy of the output
// into a mappable staging buffer, and the map, all under the device's error scopes. A device
// error while running and a failed map are each a DeviceError naming the attention and the
// sizes; a map that failed because the device was lost says so instead.

import { assertDeviceUsable, DeviceError, withErrorScopes } from './device-errors.js';

export interface ReadBack {
  /** The attention's name and the sizes, for messages. */
  readonly name: string;
  readonly at: string;
  /** Records the run itself (nothing for a run already submitted). */
  readonly record: (encoder: GPUCommandEncoder) => void;
  readonly source: GPUBuffer;
  /** Byte offset of the output in `source`. */
  readonly sourceOffset: number;
  readonly staging: GPUBuffer;
  /** 32-bit words of output to return. */
  readonly words: number;
  /** Throws when the runtime or the attention can no longer be used. */
  readonly assertUsable: () => void;
}

export async function submitAndReadBack(device: GPUDevice, r: ReadBack): Promise<ArrayBuffer> {
  const submitted = withErrorScopes(device, () => {
    const encoder = device.createCommandEncoder({ label: `${r.name}.read-back` });
    r.record(encoder);
    // Copies are whole 16-byte rows; the staging buffer is sized for them.
    encoder.copyBufferToBuffer(r.source, r.sourceOffset, r.staging, 0, Math.ceil(r.words / 4) * 16);
    device.queue.submit([encoder.finish()]);
    return r.staging.mapAsync(GPUMapMode.READ);
  });
  const mapped = submitted.value.then(
    () => null,
    (error: unknown) => error,
  );
  const [error, mapError] = await Promise.all([submitted.error, mapped]);
  if (error !== null) {
    if (mapError === null) r.staging.unmap();
    throw new DeviceError(`attention '${r.name}': running at ${r.at}: ${error}`);
  }
  if (mapError !== null) {
    // Give a loss that caused the failure the chance to be recorded first.
    await Promise.race([device.lost, new Promise((resolve) => setTimeout(resolve, 0))]);
    r.assertUsable();
    throw new DeviceError(
      `attention '${r.name}': reading the output back at ${r.at} failed: ${String(mapError)}`,
    );
  }
  const bytes = r.staging.getMappedRange().slice(0, r.words * 4);
  r.staging.unmap();
  assertDeviceUsable(device, `attention '${r.name}'`);
  return bytes;
}
