// A peer is timed only after it has computed the right answer on the bench's inputs: its
// case runs once, and the output rows are compared with the float64 reference, the same
// check attnc's cases pass on the same inputs (randomMatrix seeds 1, 2, 3). A peer that fails
// is reported and not timed, so a broken library never shows up as a fast one.

import type { BenchCase } from '../harness.js';

/** Largest |peer - reference| accepted, as for attnc's cases (bench/main.ts). */
export const PEER_TOLERANCE = 1e-3;

export class PeerCheckFailed extends Error {}

/** Runs `benchCase` once on `device` and checks it; throws PeerCheckFailed when it is wrong. */
export async function verifyBeforeTiming(device: GPUDevice, benchCase: BenchCase): Promise<void> {
  const noPasses = {
    device,
    beginComputePass: (encoder: GPUCommandEncoder, descriptor?: GPUComputePassDescriptor) =>
      encoder.beginComputePass(descriptor),
  };
  let check;
  try {
    await benchCase.run(noPasses);
    await device.queue.onSubmittedWorkDone();
    check = await benchCase.check!();
  } catch (error) {
    benchCase.destroy();
    throw error;
  }
  if (!(check.maxAbsError < PEER_TOLERANCE)) {
    benchCase.destroy();
    throw new PeerCheckFailed(
      `${benchCase.name} N=${benchCase.n}: max |error| ${check.maxAbsError} against the ` +
        `reference (${check.checked}) exceeds ${PEER_TOLERANCE}; not timed`,
    );
  }
}
