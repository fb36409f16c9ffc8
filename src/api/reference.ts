// `reference(module, inputs)`: the CPU reference on a compiled module's own spec, in the same
// shape as the kernels' output, so callers can check a device against it.

import { referenceAttention, type ReferenceInputs } from '../reference/index.js';
import type { CompiledModule } from './compile.js';

export interface ReferenceCallInputs extends Omit<ReferenceInputs, 'batch' | 'seqQ' | 'seqK'> {
  readonly batch?: number;
  readonly seqQ?: number;
  readonly seqK?: number;
}

export function reference(
  module: Pick<CompiledModule, 'attention'>,
  inputs: ReferenceCallInputs,
): { o: Float32Array } {
  const a = module.attention;
  const batch = inputs.batch ?? 1;
  const seqQ = inputs.seqQ ?? inputs.q.length / (batch * a.heads * a.headDim);
  const seqK = inputs.seqK ?? inputs.k.length / (batch * a.kvHeads * a.headDim);
  return { o: referenceAttention(a, { ...inputs, batch, seqQ, seqK }) };
}
