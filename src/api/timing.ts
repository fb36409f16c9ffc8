// Timing one prepared run on the device, and the summary of a set of timings: shared by
// the benchmark and the tuner, so both measure the same way.

import { DeviceError, withErrorScopes } from '../runtime/device-errors.js';
import type { PreparedRun } from '../runtime/loaded-kernel.js';

export interface Timing {
  readonly medianMs: number;
  readonly minMs: number;
  readonly timesMs: readonly number[];
}

/**
 * One run of `run` on `device`: milliseconds from submitting its dispatches to the queue
 * being done (no read-back). A device error during it is thrown, named by `what`.
 */
export async function timeRun(device: GPUDevice, run: PreparedRun, what: string): Promise<number> {
  const submitted = withErrorScopes(device, () => {
    const encoder = device.createCommandEncoder();
    run.encode(encoder);
    const start = performance.now();
    device.queue.submit([encoder.finish()]);
    return start;
  });
  await device.queue.onSubmittedWorkDone();
  const elapsed = performance.now() - submitted.value;
  const error = await submitted.error;
  if (error !== null) throw new DeviceError(`${what}: ${error}`);
  return elapsed;
}

export function summarize(times: readonly number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { medianMs, minMs: sorted[0]!, timesMs: times };
}
