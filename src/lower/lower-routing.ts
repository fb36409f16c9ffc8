// Lowering checks for the data-dependent (routed) masks topk, cluster and lsh: which
// combinations the routed kernels (src/codegen/routing) do not implement yet.

import type { DType, Mask } from '../ir/ir.js';
import { maskLeaves } from '../ir/ir.js';

/** Why a mask with routed leaves cannot be compiled yet, or `null` when it can. */
export function routedUnsupported(
  mask: Mask,
  dtype: DType,
): { feature: string; message: string } | null {
  const leaves = maskLeaves(mask);
  const routed = leaves.filter((l) => l.kind === 'routed');
  if (routed.length === 0) return null;
  const kinds = [...new Set(routed.map((l) => (l.kind === 'routed' ? l.routing.kind : '')))];
  if (dtype === 'f16')
    return { feature: kinds[0]!, message: `data-dependent mask '${kinds[0]}' with dtype f16` };
  const other = leaves.find((l) => l.kind === 'random' || l.kind === 'segment');
  if (other)
    return {
      feature: kinds[0]!,
      message: `data-dependent mask '${kinds[0]}' combined with '${other.kind}'`,
    };
  return null;
}
