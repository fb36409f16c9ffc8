// The checker's output: a typed, fully-defaulted description of each attention.
// This is the contract with the next stage (IR lowering) and with the CPU reference:
// every default of language.md is filled in, every name resolved, every number validated.
// Spans are kept so later stages can still point at the spec text.

import type { Span } from '../base/span.js';

export type Layout = 'bhnd' | 'bnhd';
export type DType = 'f32' | 'f16';

/** A mask expression of language.md section 4, as written (canonicalization is an IR pass). */
export type MaskNode =
  | { readonly kind: 'full'; readonly span: Span }
  | { readonly kind: 'causal'; readonly span: Span }
  /** `-left <= j - p <= right`; `window(w)` is `left = right = w`. */
  | { readonly kind: 'window'; readonly left: number; readonly right: number; readonly span: Span }
  | {
      readonly kind: 'dilated';
      readonly width: number;
      readonly dilation: number;
      readonly span: Span;
    }
  | { readonly kind: 'stride'; readonly step: number; readonly span: Span }
  /** `G = [0, first) ∪ positions`; `positions` sorted, unique, none below `first`. */
  | {
      readonly kind: 'global';
      readonly first: number;
      readonly positions: readonly number[];
      readonly span: Span;
    }
  | { readonly kind: 'sink'; readonly count: number; readonly span: Span }
  | { readonly kind: 'blocks'; readonly size: number; readonly span: Span }
  | {
      readonly kind: 'random';
      readonly count: number;
      readonly block: number;
      readonly seed: number;
      readonly span: Span;
    }
  | { readonly kind: 'segment'; readonly span: Span }
  | { readonly kind: 'topk'; readonly k: number; readonly block: number; readonly span: Span }
  | { readonly kind: 'cluster'; readonly count: number; readonly span: Span }
  | { readonly kind: 'lsh'; readonly buckets: number; readonly seed: number; readonly span: Span }
  | { readonly kind: 'union'; readonly terms: readonly MaskNode[]; readonly span: Span }
  | { readonly kind: 'intersect'; readonly terms: readonly MaskNode[]; readonly span: Span };

export type MaskKind = MaskNode['kind'];

export type FeatureMap =
  | { readonly kind: 'elu1'; readonly span: Span }
  | { readonly kind: 'relu'; readonly span: Span }
  | {
      readonly kind: 'favor';
      readonly features: number;
      readonly seed: number;
      readonly span: Span;
    };

export type LowRank =
  | { readonly kind: 'linformer'; readonly rank: number; readonly span: Span }
  | {
      readonly kind: 'nystrom';
      readonly landmarks: number;
      readonly iters: number;
      readonly span: Span;
    };

/**
 * One head group: heads that share one mechanism. An attention without `group`s has a single
 * group named after the attention that covers all of its heads.
 */
export interface CheckedGroup {
  readonly name: string;
  readonly span: Span;
  readonly heads: number;
  readonly kvHeads: number;
  /** Index of this group's first head in `q` and `o`. */
  readonly headOffset: number;
  /** Index of this group's first kv head in `k` and `v`. */
  readonly kvHeadOffset: number;
  readonly causal: boolean;
  /** Resolved: `auto` is `1 / sqrt(headDim)`. */
  readonly scale: number;
  readonly mask: MaskNode;
  readonly kernel?: FeatureMap;
  readonly lowrank?: LowRank;
  readonly softcap?: number;
  /**
   * `alibi`: slope `m_h = 2^(-8 (h+1) / H)` with `h` the head's index in this group and `H`
   * this group's heads (a group is an attention of its own; see docs/language.md).
   */
  readonly bias?: 'alibi';
}

export interface CheckedAttention {
  readonly name: string;
  readonly span: Span;
  /** Total query heads (the sum over groups). */
  readonly heads: number;
  /** Total kv heads (the sum over groups). */
  readonly kvHeads: number;
  readonly headDim: number;
  readonly valueDim: number;
  readonly layout: Layout;
  readonly dtype: DType;
  readonly maxSeq?: number;
  /** `head_routing: top(k)` over all `heads` (mixture of heads, section 8). */
  readonly headRouting?: { readonly k: number; readonly span: Span };
  /** Whether the spec declared `group`s (otherwise `groups` holds one implicit group). */
  readonly declaredGroups: boolean;
  readonly groups: readonly CheckedGroup[];
}
