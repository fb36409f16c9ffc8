// Lowering of a low-rank group (language.md section 7). The checker allows neither `causal`
// nor any mask but `full` (E502, E503), so the mechanism keeps a `full` mask only for readers
// of any mechanism's mask. Storage dtype f16 needs nothing here: lower.ts already requires
// head_dim and value_dim multiples of 4, and the kernels read q/k/v/o as packed halves.

import type { CheckedGroup, LowRank, MaskNode } from '../check/checked.js';
import type { Group } from '../ir/ir.js';
import type { LowRankMethod } from '../ir/lowrank-ir.js';
import type { Span } from '../base/span.js';

export function lowerLowRankGroup(
  group: CheckedGroup,
  lowrank: LowRank,
  note: (feature: string, message: string, span: Span) => void,
): Group | null {
  if (group.causal || !onlyFull(group.mask)) {
    note('lowrank', `low-rank attention with a mask other than full`, group.mask.span);
    return null;
  }
  return {
    name: group.name,
    span: group.span,
    heads: group.heads,
    kvHeads: group.kvHeads,
    headOffset: group.headOffset,
    kvHeadOffset: group.kvHeadOffset,
    mechanism: {
      kind: 'lowrank',
      method: lowerMethod(lowrank),
      scale: group.scale,
      mask: { kind: 'all', span: group.mask.span },
      plan: null,
      span: lowrank.span,
    },
    tables: [],
    program: [],
  };
}

function lowerMethod(lowrank: LowRank): LowRankMethod {
  switch (lowrank.kind) {
    case 'linformer':
      return { kind: 'linformer', rank: lowrank.rank };
    case 'nystrom':
      return { kind: 'nystrom', landmarks: lowrank.landmarks, iters: lowrank.iters };
    default: {
      const never: never = lowrank;
      throw new Error(`internal error: unexpected low-rank method ${JSON.stringify(never)}`);
    }
  }
}

function onlyFull(mask: MaskNode): boolean {
  switch (mask.kind) {
    case 'full':
      return true;
    case 'union':
    case 'intersect':
      return mask.terms.every(onlyFull);
    default:
      return false;
  }
}
