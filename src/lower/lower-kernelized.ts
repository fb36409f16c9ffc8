// Lowering of a kernelized (linear) group: the checker allows only `full` and `causal` in its
// mask (E501), so the mask folds into one `causal` flag — an intersection is causal when any
// term is, a union only when every term is — and the feature map is copied without its span.

import type { CheckedGroup, FeatureMap as CheckedFeatureMap, MaskNode } from '../check/checked.js';
import type { FeatureMap, Group } from '../ir/ir.js';
import type { Span } from '../base/span.js';

export function lowerKernelizedGroup(
  group: CheckedGroup,
  map: CheckedFeatureMap,
  note: (feature: string, message: string, span: Span) => void,
): Group | null {
  const maskCausal = linearMaskCausal(group.mask);
  if (maskCausal === null) {
    note('kernel', `kernelized attention with a mask other than full and causal`, group.mask.span);
    return null;
  }
  const causal = group.causal || maskCausal;
  return {
    name: group.name,
    span: group.span,
    heads: group.heads,
    kvHeads: group.kvHeads,
    headOffset: group.headOffset,
    kvHeadOffset: group.kvHeadOffset,
    mechanism: {
      kind: 'linear',
      featureMap: lowerFeatureMap(map),
      causal,
      mask: causal
        ? { kind: 'band', lo: null, hi: 0, span: group.mask.span }
        : { kind: 'all', span: group.mask.span },
      plan: null,
      span: map.span,
    },
    tables: [],
    program: [],
  };
}

function lowerFeatureMap(map: CheckedFeatureMap): FeatureMap {
  switch (map.kind) {
    case 'elu1':
    case 'relu':
      return { kind: map.kind };
    case 'favor':
      return { kind: 'favor', features: map.features, seed: map.seed };
    default: {
      const never: never = map;
      throw new Error(`internal error: unexpected feature map ${JSON.stringify(never)}`);
    }
  }
}

/** Whether a mask of `full`/`causal` terms is causal; `null` for any other primitive. */
function linearMaskCausal(mask: MaskNode): boolean | null {
  switch (mask.kind) {
    case 'full':
      return false;
    case 'causal':
      return true;
    case 'intersect':
    case 'union': {
      const terms = mask.terms.map(linearMaskCausal);
      if (terms.some((t) => t === null)) return null;
      return mask.kind === 'intersect' ? terms.some((t) => t) : terms.every((t) => t);
    }
    default:
      return null;
  }
}
