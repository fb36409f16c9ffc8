// The checked description of the attentions the bench cases compile: one group of `heads`
// heads (one by default), D = Dv, bhnd, f32, no span. Cases override what they measure.

import type { CheckedAttention, CheckedGroup } from '../src/check/checked.js';

export const NO_SPAN = { start: 0, end: 0 };

export interface BenchSpecOptions {
  readonly name?: string;
  readonly heads?: number;
  readonly group?: Partial<CheckedGroup>;
  readonly attention?: Partial<Omit<CheckedAttention, 'groups'>>;
}

export function benchSpec(d: number, options: BenchSpecOptions = {}): CheckedAttention {
  const name = options.name ?? 'bench';
  const heads = options.heads ?? 1;
  return {
    name,
    span: NO_SPAN,
    heads,
    kvHeads: heads,
    headDim: d,
    valueDim: d,
    layout: 'bhnd',
    dtype: 'f32',
    declaredGroups: false,
    ...options.attention,
    groups: [
      {
        name,
        span: NO_SPAN,
        heads,
        kvHeads: heads,
        headOffset: 0,
        kvHeadOffset: 0,
        causal: false,
        scale: 1 / Math.sqrt(d),
        mask: { kind: 'full', span: NO_SPAN },
        ...options.group,
      },
    ],
  };
}
