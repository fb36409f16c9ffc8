// What a plan builder hands compile.ts for one kernel: a `Kernel` of the kernel IR (every
// kernel is built on it), verified and rendered by src/kernel. Its features, and so the
// `enable` directives the renderer writes and the plan lists, come from the IR (features.ts),
// never from WGSL text.

import type { Kernel } from '../kernel/ir.js';
import { prepareKernel, type PreparedKernel } from '../kernel/prepare.js';
import type { KernelLimits } from '../target/profile.js';

/** A kernel as a plan builder gives it (its loop bound in `Kernel.loopIterations`, if any). */
export type KernelSource = Kernel;

/** One kernel of a compiled attention, with its IR. */
export interface CompiledKernel {
  readonly name: string;
  readonly ir: Kernel;
}

export interface ReadyKernel extends PreparedKernel {
  readonly ir: Kernel;
}

export function readyKernel(name: string, source: KernelSource, limits: KernelLimits): ReadyKernel {
  return { ...prepareKernel(name, source, limits), ir: source };
}
