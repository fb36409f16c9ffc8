// `reference(module, inputs)`: the CPU reference on a compiled module's own spec, in the same
// shape as the kernels' output, so callers can check a device against it.

import type { HostPlan } from '../codegen/plan.js';
import {
  referenceAttention,
  referenceAttentionWithLse,
  type ReferenceInputs,
} from '../reference/index.js';

export { mergeByLse, type AttentionPartial, type PartialShape } from '../reference/index.js';
import type { CompiledModule } from './compile.js';

export interface ReferenceCallInputs extends Omit<ReferenceInputs, 'batch' | 'seqQ' | 'seqK'> {
  readonly batch?: number;
  readonly seqQ?: number;
  readonly seqK?: number;
}

/** o, and `lse` too when the module was compiled with `{ lse: true }` (as `run` returns them). */
export function reference(
  module: Pick<CompiledModule, 'attention'> & { readonly plan?: Pick<HostPlan, 'outputs'> },
  inputs: ReferenceCallInputs,
): { o: Float32Array; lse?: Float32Array } {
  const a = module.attention;
  const batch = inputs.batch ?? 1;
  const seqQ = inputs.seqQ ?? inputs.q.length / (batch * a.heads * a.headDim);
  const seqK = inputs.seqK ?? inputs.k.length / (batch * a.kvHeads * a.headDim);
  const sized = { ...inputs, batch, seqQ, seqK };
  if (module.plan?.outputs.some((o) => o.name === 'lse'))
    return referenceAttentionWithLse(a, sized);
  return { o: referenceAttention(a, sized) };
}
