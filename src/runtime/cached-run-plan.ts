// The plan as a KV cache's run sees it (device-tensors.ts, `CachedKeys.skipKernels`): the
// kernels of head groups whose cache store computes their heads itself never run, so neither
// the buffers only they bind nor the inputs only they read are needed. A linformer group kept
// as projected rows next to softmax groups is the case in point: only its skipped kernels read
// E and F, so the softmax groups' run takes neither and copies nothing per step.

import type { HostPlan } from '../codegen/plan.js';
import type { TensorName } from './device-tensor-args.js';

/** Plan buffers bound by a kernel outside `skip` (what a run that skips `skip` allocates). */
export function buffersRead(plan: HostPlan, skip: ReadonlySet<string>): Set<string> {
  return new Set(
    plan.kernels.filter((k) => !skip.has(k.name)).flatMap((k) => k.bindings.map((b) => b.buffer)),
  );
}

/**
 * The inputs whose plan buffer is not in `read`. Inputs' arrays are named after them (plan
 * steps upload input X into array X).
 */
function inputsOutside(plan: HostPlan, read: ReadonlySet<string>): Set<TensorName> {
  const unread = new Set<TensorName>();
  for (const input of plan.inputs) {
    const array = plan.arrays.find((a) => a.name === input.name);
    if (array && !read.has(array.buffer)) unread.add(input.name);
  }
  return unread;
}

/**
 * The inputs whose plan buffer no kernel outside `skip` binds: a run that skips those kernels
 * neither takes, checks nor copies them.
 */
export function inputsOnlySkippedRead(
  plan: HostPlan,
  skip: ReadonlySet<string>,
): ReadonlySet<TensorName> {
  return skip.size === 0 ? new Set() : inputsOutside(plan, buffersRead(plan, skip));
}

/**
 * The plan without the kernels of `skip` (their loop bounds and buffers grow with seqK, but
 * they never run), the buffers only they bind and the inputs only they read: what the size
 * checks of a cached run check.
 */
export function planWithout(plan: HostPlan, skip: ReadonlySet<string>): HostPlan {
  const kernels = plan.kernels.filter((k) => !skip.has(k.name));
  const read = buffersRead(plan, skip);
  const unread = inputsOutside(plan, read);
  const inputs = plan.inputs.filter((i) => !unread.has(i.name));
  const tensorArrays = new Set<string>([
    ...inputs.map((i) => i.name),
    ...plan.outputs.map((o) => o.array),
  ]);
  const used = new Set([
    ...read,
    ...plan.arrays.filter((a) => tensorArrays.has(a.name)).map((a) => a.buffer),
  ]);
  return { ...plan, kernels, inputs, buffers: plan.buffers.filter((b) => used.has(b.name)) };
}
