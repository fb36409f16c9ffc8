// What every WGSL emitter returns and the plan builders consume: the kernel's text, its
// workgroup size and the values of its uniform struct as size expressions. A module of its
// own so emitters that share helpers (emit-softmax, emit-head-routing) need not import each
// other for the type.

import type { SizeExpr } from '../plan.js';

export interface EmittedKernel {
  readonly wgsl: string;
  readonly workgroupSize: number;
  readonly uniforms: readonly { readonly name: string; readonly value: SizeExpr }[];
  /** An upper bound of the loop iterations one invocation runs (loop-budget.ts), if known. */
  readonly loopIterations?: SizeExpr;
}
