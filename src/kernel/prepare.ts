// From kernel IR to what the host plan records: verified against the profile's limits (a
// problem is a compiler bug, reported with every rule it breaks), rendered to WGSL, with the
// features the kernel uses. compile.ts calls this for every kernel built on the IR.

import type { SizeExpr } from '../codegen/plan.js';
import type { KernelLimits } from '../target/profile.js';
import { kernelFeatures, type KernelFeature } from './features.js';
import type { Kernel, KernelUniform } from './ir.js';
import { renderKernel } from './render-wgsl.js';
import { verifyKernel } from './verify.js';

export interface PreparedKernel {
  readonly wgsl: string;
  readonly workgroupSize: number;
  readonly uniforms: readonly KernelUniform[];
  readonly features: readonly KernelFeature[];
  readonly loopIterations?: SizeExpr;
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
    ...(kernel.loopIterations === undefined ? {} : { loopIterations: kernel.loopIterations }),
  };
}
