// From kernel IR to what the host plan records: verified against the profile's limits (a
// problem is a compiler bug, reported with every rule it breaks), rendered to WGSL, with the
// features the kernel uses and the bound of its loop iterations (its builder's, or derived
// from the IR: loop-bound.ts). compile.ts calls this for every kernel built on the IR.

import type { SizeExpr } from '../codegen/plan.js';
import type { KernelLimits } from '../target/profile.js';
import { kernelFeatures, type KernelFeature } from './features.js';
import type { Kernel, KernelUniform } from './ir.js';
import { deriveLoopIterations } from './loop-bound.js';
import { renderKernel } from './render-wgsl.js';
import { verifyKernel } from './verify.js';

export interface PreparedKernel {
  readonly wgsl: string;
  readonly workgroupSize: number;
  readonly uniforms: readonly KernelUniform[];
  readonly features: readonly KernelFeature[];
  readonly loopIterations: SizeExpr;
}

export function prepareKernel(name: string, kernel: Kernel, limits: KernelLimits): PreparedKernel {
  const problems = verifyKernel(kernel, limits);
  if (problems.length > 0)
    throw new Error(
      `internal error: kernel ${name} fails verification:\n` +
        problems.map((p) => `  ${p.rule}: ${p.message}`).join('\n'),
    );
  return {
    wgsl: renderKernel(kernel),
    workgroupSize: kernel.workgroupSize,
    uniforms: kernel.uniforms,
    features: kernelFeatures(kernel),
    loopIterations: kernelLoopIterations(name, kernel),
  };
}

/**
 * The builder's bound where it gave one (loops whose trips are data, like a bucket's key
 * list), else the one derived from the IR; a kernel with neither is a compiler bug, since
 * llvmpipe would run it without any check of its loop budget.
 */
export function kernelLoopIterations(name: string, kernel: Kernel): SizeExpr {
  if (kernel.loopIterations !== undefined) return kernel.loopIterations;
  const derived = deriveLoopIterations(kernel);
  if (derived.kind === 'bounded') return derived.iterations;
  throw new Error(
    `internal error: kernel ${name} has no bound of its loop iterations: ${derived.where}; ` +
      'its builder must give one (KernelBuilder.loopIterations)',
  );
}
