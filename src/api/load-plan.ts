// `loadPlan(device, { name, plan })`: what a generated TypeScript module calls. It needs only
// the host plan (kernels inline), not the compiler, so an app ships just the runtime. The plan
// may come from anywhere (a JSON file, a network response), so it is checked against
// HostPlanSchema first: a wrong plan fails here with the path of what is wrong, not later as
// a WebGPU validation error or a garbage result.

import * as v from 'valibot';
import type { HostPlan } from '../codegen/plan.js';
import { HostPlanSchema } from '../codegen/plan-schema.js';
import { load, type RunInputs, type RunOutputs } from '../runtime/loaded-kernel.js';

export interface LoadedPlan<I = RunInputs, O = RunOutputs> {
  /** Resolves once the device accepted every kernel; rejects with its error (run waits too). */
  ready(): Promise<void>;
  run(inputs: I): Promise<O>;
  destroy(): void;
}

/** A plan that does not have the shape of schemas/plan.schema.json. */
export class PlanValidationError extends Error {
  constructor(
    readonly planName: string,
    readonly problems: readonly string[],
  ) {
    super(
      `plan '${planName}' is not a valid attnc host plan (schemas/plan.schema.json):\n` +
        problems.map((p) => `  ${p}`).join('\n'),
    );
    this.name = 'PlanValidationError';
  }
}

const MAX_PROBLEMS = 5;

/** Checks `plan` against the schema; returns it typed, or throws PlanValidationError. */
export function validatePlan(name: string, plan: unknown): HostPlan {
  const result = v.safeParse(HostPlanSchema, plan);
  if (result.success) return result.output as HostPlan;
  const problems = result.issues.slice(0, MAX_PROBLEMS).map((issue) => {
    const path = v.getDotPath(issue);
    return `${path ? `plan.${path}` : 'plan'}: ${issue.message}`;
  });
  if (result.issues.length > MAX_PROBLEMS) {
    problems.push(`(${result.issues.length - MAX_PROBLEMS} more problems)`);
  }
  throw new PlanValidationError(name, problems);
}

export function loadPlan<I extends RunInputs = RunInputs, O extends RunOutputs = RunOutputs>(
  device: GPUDevice,
  module: { readonly name: string; readonly plan: HostPlan | unknown },
): LoadedPlan<I, O> {
  const plan = validatePlan(module.name, module.plan);
  const loaded = load(device, { name: module.name, plan });
  return {
    ready: () => loaded.ready(),
    run: (inputs) => loaded.run(inputs) as Promise<O>,
    destroy: () => loaded.destroy(),
  };
}
