// Devices that end shader loops after a fixed number of iterations, with no error. Mesa's
// llvmpipe gives each invocation 65,535 loop iterations in all (gallivm's
// LP_MAX_TGSI_LOOP_ITERATIONS; test/runtime/llvmpipe-loop-budget.gpu.test.ts pins it), so a
// kernel that needs more computes a wrong answer. Each fused softmax kernel carries a bound
// of its iterations (`PlanKernel.loopIterations`); a run over the budget is refused here,
// before anything is uploaded. SwiftShader and hardware GPUs have no such budget.
//
// A spec whose constants alone pass the budget (e.g. `cluster(1024)` at head_dim 256: every
// query row scores all 1,024 centroids) fits llvmpipe at no size. That is not a compile
// error, since the same plan runs on every other device, so the refusal says so instead of
// naming a size that fits (docs/runtime.md, "llvmpipe's loop budget").

import type { HostPlan, SizeEnv } from '../codegen/plan.js';
import { evalSize, holds } from '../codegen/plan.js';
import { classifyAdapter } from './adapter-kind.js';

export const LLVMPIPE_LOOP_BUDGET = 65_535;

/** The device's loop budget per invocation, or null when it has none we know of. */
export function deviceLoopBudget(device: GPUDevice): number | null {
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return info !== undefined && classifyAdapter(info) === 'llvmpipe' ? LLVMPIPE_LOOP_BUDGET : null;
}

/** Throws, naming the kernel and the largest seqK that fits, when a kernel needs more. */
export function checkLoopBudget(plan: HostPlan, sizes: SizeEnv, budget: number): void {
  for (const kernel of plan.kernels) {
    const bound = kernel.loopIterations;
    if (bound === undefined) continue;
    // A kernel of the path these sizes do not take (fused or split-K decode) never runs.
    const dispatch = plan.steps.find((s) => s.kind === 'dispatch' && s.kernel === kernel.name);
    if (dispatch?.kind === 'dispatch' && !holds(dispatch.when, sizes)) continue;
    const needed = evalSize(bound, sizes);
    if (needed <= budget) continue;
    const at = `batch=${sizes.batch}, seqQ=${sizes.seqQ}, seqK=${sizes.seqK}`;
    const device =
      `this device (llvmpipe) ends every loop of an invocation after ${budget} in all, with ` +
      'no error, so the output would be wrong';
    const other = 'SwiftShader or a hardware GPU has no such limit';
    const least = plan.constraints.minSeq ?? 1;
    const leastNeeded = evalSize(bound, { batch: 1, seqQ: least, seqK: least });
    if (leastNeeded > budget) {
      throw new Error(
        `kernel '${kernel.name}' would run up to ${needed} loop iterations per invocation at ` +
          `${at}; ${device}. No size fits this kernel: the spec's constants alone need ${leastNeeded} at ` +
          `batch=1, seqQ=seqK=${least} (${other})`,
      );
    }
    // The bound grows with seqK: the largest seqK (>= seqQ) at these batch and seqQ that fits.
    let fits = 0;
    let lo = sizes.seqQ;
    let hi = sizes.seqK - 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (evalSize(bound, { ...sizes, seqK: mid }) <= budget) {
        fits = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const advice =
      fits > 0
        ? `at most seqK = ${fits} fits at this seqQ`
        : `no seqK fits at seqQ = ${sizes.seqQ}`;
    throw new Error(
      `kernel '${kernel.name}' would run up to ${needed} loop iterations per invocation at ` +
        `${at}; ${device} (${advice}; ${other})`,
    );
  }
}
