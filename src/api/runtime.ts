// `createRuntime(options)` of the full API: the compiler-free runtime (runtime-core.ts) with
// the variant self-check, which first proves each kernel variant a module uses on this device
// by compiling and running a small probe against the CPU reference (variant-check.ts), and
// with the tuner (tune.ts) for `tune: true`.

import { createRuntimeCore, type Runtime, type RuntimeOptions } from './runtime-core.js';
import { adapterIdentity, deviceTuneBench, Tuner } from './tune.js';
import { VariantTrust } from './variant-check.js';

export type { LoadedModule, LoadOptions, Runtime, RuntimeOptions } from './runtime-core.js';

/**
 * A runtime whose `load` self-checks every kernel variant once (unless `selfCheck: false`),
 * and measures schedules first when `tune` is on.
 */
export function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  return createRuntimeCore(
    options,
    (device, profile, selfCheck) => new VariantTrust(device, profile, selfCheck),
    (device, profile) =>
      new Tuner(deviceTuneBench(device), profile, adapterIdentity(device, profile)),
  );
}
