// Lowering: the checker's CheckedAttention to the attention IR. Lowering is literal: the
// spec's mask is translated term by term, `causal: true` becomes an intersection with
// `band(null, 0)`, and all simplification is left to the passes so each one can be read
// (and tested) on its own. Mechanisms not implemented yet are reported, not approximated.

import type { CheckedAttention, CheckedGroup, MaskNode } from '../check/checked.js';
import type { Span } from '../base/span.js';
import type { Attention, Group, Mask } from '../ir/ir.js';
import { checkCompileLimits, type CompileLimit } from './compile-limits.js';
import { lowerKernelizedGroup } from './lower-kernelized.js';
import { lowerLowRankGroup } from './lower-lowrank.js';

/** A spec feature the compiler does not implement yet, with the text that asked for it. */
export interface Unsupported {
  readonly feature: string;
  readonly message: string;
  readonly span: Span;
  /** Set when the construct is implemented but a value exceeds a compile limit (E602). */
  readonly limit?: CompileLimit;
}

export type LowerResult =
  | { readonly ok: true; readonly attention: Attention }
  | { readonly ok: false; readonly unsupported: readonly Unsupported[] };

/** Thrown by APIs that cannot return a `LowerResult` (e.g. `compileAttention`). */
export class UnsupportedFeatureError extends Error {
  constructor(readonly unsupported: readonly Unsupported[]) {
    super(
      unsupported.map((u) => `not yet supported: ${u.message} (offset ${u.span.start})`).join('\n'),
    );
    this.name = 'UnsupportedFeatureError';
  }
}

export function lowerAttention(checked: CheckedAttention): LowerResult {
  const unsupported: Unsupported[] = [];
  const note = (feature: string, message: string, span: Span) =>
    unsupported.push({ feature, message, span });
  for (const limit of checkCompileLimits(checked))
    unsupported.push({ feature: 'limit', message: limit.message, span: limit.span, limit });

  // f16 rows are read as packed vec4s (two u32 each); odd widths would split a u32 between
  // two rows, and two invocations would race on the shared word of `o`.
  if (checked.dtype === 'f16' && (checked.headDim % 4 !== 0 || checked.valueDim % 4 !== 0)) {
    note(
      'dtype',
      `dtype f16 with head_dim ${checked.headDim} and value_dim ${checked.valueDim} (f16 needs both to be multiples of 4)`,
      checked.span,
    );
  }
  const groups: Group[] = [];
  for (const group of checked.groups) {
    if (group.kernel) {
      const linear = lowerKernelizedGroup(group, group.kernel, note);
      if (linear) groups.push(linear);
      continue;
    }
    if (group.lowrank) {
      const lowRank = lowerLowRankGroup(group, group.lowrank, note);
      if (lowRank) groups.push(lowRank);
      continue;
    }
    const mask = lowerMask(group.mask, note, group.causal);
    if (mask) groups.push(lowerSoftmaxGroup(group, mask));
  }
  if (unsupported.length > 0) return { ok: false, unsupported };
  return {
    ok: true,
    attention: {
      kind: 'attention',
      name: checked.name,
      span: checked.span,
      heads: checked.heads,
      kvHeads: checked.kvHeads,
      headDim: checked.headDim,
      valueDim: checked.valueDim,
      layout: checked.layout,
      dtype: checked.dtype,
      maxSeq: checked.maxSeq ?? null,
      groups,
      ...(checked.headRouting
        ? { headRouting: { k: checked.headRouting.k, span: checked.headRouting.span } }
        : {}),
    },
  };
}

function lowerSoftmaxGroup(group: CheckedGroup, mask: Mask): Group {
  const full: Mask = group.causal
    ? {
        kind: 'intersect',
        terms: [mask, { kind: 'band', lo: null, hi: 0, span: group.span }],
        span: mask.span,
      }
    : mask;
  return {
    name: group.name,
    span: group.span,
    heads: group.heads,
    kvHeads: group.kvHeads,
    headOffset: group.headOffset,
    kvHeadOffset: group.kvHeadOffset,
    mechanism: {
      kind: 'softmax',
      score: { scale: group.scale, softcap: group.softcap ?? null, bias: group.bias ?? null },
      mask: full,
      plan: null,
      span: group.span,
    },
    tables: [],
    program: [],
  };
}

/** One spec mask term to IR; `null` (after noting why) for a term not implemented yet. */
export function lowerMask(
  node: MaskNode,
  note: (feature: string, message: string, span: Span) => void,
  /** Under `causal: true` or an intersection with a bare `causal` (topk candidates shrink). */
  causalScope = false,
): Mask | null {
  const span = node.span;
  switch (node.kind) {
    case 'full':
      return { kind: 'all', span };
    case 'causal':
      return { kind: 'band', lo: null, hi: 0, span };
    case 'window':
      return { kind: 'band', lo: -node.left, hi: node.right, span };
    case 'dilated':
      return { kind: 'dilated', width: node.width, dilation: node.dilation, span };
    case 'stride':
      return { kind: 'stride', step: node.step, span };
    case 'global':
      return { kind: 'global', first: node.first, positions: [...node.positions], span };
    case 'sink':
      return { kind: 'sink', count: node.count, span };
    case 'blocks':
      return { kind: 'blocks', size: node.size, span };
    case 'random':
      return { kind: 'random', count: node.count, block: node.block, seed: node.seed, span };
    case 'segment':
      return { kind: 'segment', span };
    case 'topk':
      return {
        kind: 'routed',
        routing: { kind: 'topk', k: node.k, block: node.block, causal: causalScope },
        span,
      };
    case 'cluster':
      return { kind: 'routed', routing: { kind: 'cluster', count: node.count }, span };
    case 'lsh':
      return {
        kind: 'routed',
        routing: { kind: 'lsh', buckets: node.buckets, seed: node.seed },
        span,
      };
    case 'union':
    case 'intersect': {
      const scope =
        causalScope || (node.kind === 'intersect' && node.terms.some((t) => t.kind === 'causal'));
      const terms = node.terms.map((t) => lowerMask(t, note, scope));
      if (terms.some((t) => t === null)) return null;
      return { kind: node.kind, terms: terms as Mask[], span };
    }
    default:
      return assertNever(node);
  }
}

function assertNever(value: never): never {
  throw new Error(`internal error: unexpected mask node ${JSON.stringify(value)}`);
}
