// What a plan builder hands compile.ts for one kernel while emitters migrate to the kernel
// IR: a `Kernel` (verified and rendered by src/kernel) or, for emitters not migrated yet,
// WGSL from a template. Once every emitter builds IR, this is just `Kernel`.

import type { KernelFeature } from '../kernel/features.js';
import type { Kernel } from '../kernel/ir.js';
import { prepareKernel } from '../kernel/prepare.js';
import type { KernelLimits } from '../target/profile.js';
import type { EmittedKernel } from './wgsl/emitted-kernel.js';

/**
 * An IR kernel whose loops grow with run-time sizes carries their bound per invocation
 * (`Kernel.loopIterations`), as template kernels do (`EmittedKernel.loopIterations`;
 * src/runtime/loop-budget.ts).
 */
export type KernelSource = Kernel | EmittedKernel;

/** One kernel of a compiled attention, with its IR when it was built on the kernel IR. */
export interface CompiledKernel {
  readonly name: string;
  readonly ir: Kernel | null;
}

export interface ReadyKernel extends EmittedKernel {
  readonly ir: Kernel | null;
  readonly features: readonly KernelFeature[];
}

export function readyKernel(name: string, source: KernelSource, limits: KernelLimits): ReadyKernel {
  if ('kind' in source) {
    return { ...prepareKernel(name, source, limits), ir: source };
  }
  return { ...source, ir: null, features: templateFeatures(source.wgsl) };
}

/** Features of a template kernel, from its `enable` directives (IR kernels derive them). */
function templateFeatures(wgsl: string): KernelFeature[] {
  const features: KernelFeature[] = [];
  if (/^enable f16;/m.test(wgsl)) features.push('shader-f16');
  if (/^enable subgroups;/m.test(wgsl)) features.push('subgroups');
  return features;
}
