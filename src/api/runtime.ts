// `createRuntime(options)` of the full API: the compiler-free runtime (runtime-core.ts) with
// the variant self-check, which first proves each kernel variant a module uses on this device
// by compiling and running a small probe against the CPU reference (variant-check.ts).

import { createRuntimeCore, type Runtime, type RuntimeOptions } from './runtime-core.js';
import { VariantTrust } from './variant-check.js';

export type { LoadedModule, Runtime, RuntimeOptions } from './runtime-core.js';

/** A runtime whose `load` self-checks every kernel variant once (unless `selfCheck: false`). */
export function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  return createRuntimeCore(
    options,
    (device, profile, selfCheck) => new VariantTrust(device, profile, selfCheck),
  );
}
