// `loadPlan(device, { name, plan })`: what a generated TypeScript module calls. It needs only
// the host plan (kernels inline), not the compiler, so an app ships just the runtime.

import type { HostPlan } from '../codegen/plan.js';
import { load, type RunInputs, type RunOutputs } from '../runtime/loaded-kernel.js';
import type { CompiledAttention } from '../codegen/compile.js';

export interface LoadedPlan<I = RunInputs, O = RunOutputs> {
  /** Resolves once the device accepted every kernel; rejects with its error (run waits too). */
  ready(): Promise<void>;
  run(inputs: I): Promise<O>;
  destroy(): void;
}

export function loadPlan<I extends RunInputs = RunInputs, O extends RunOutputs = RunOutputs>(
  device: GPUDevice,
  module: { readonly name: string; readonly plan: HostPlan },
): LoadedPlan<I, O> {
  const loaded = load(device, module as CompiledAttention);
  return {
    ready: () => loaded.ready(),
    run: (inputs) => loaded.run(inputs) as Promise<O>,
    destroy: () => loaded.destroy(),
  };
}
