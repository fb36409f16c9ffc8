// The mask and routing nodes of the attention IR, re-exported by ir.ts. Kept in a module of
// their own because both ir.ts and lowrank-ir.ts (whose mechanism carries a mask) need them:
// with them in ir.ts the two modules would import each other.

import type { Span } from '../base/span.js';

/**
 * A mask in canonical vocabulary. `band` is the one relative-offset primitive:
 * `lo <= j - p <= hi` (`null` = unbounded), so `causal` is `band(null, 0)` and `window(l, r)` is
 * `band(-l, r)`; that makes merging windows with each other and with `causal` plain interval work.
 */
export type Mask =
  | { readonly kind: 'all'; readonly span: Span }
  | { readonly kind: 'none'; readonly span: Span }
  | {
      readonly kind: 'band';
      readonly lo: number | null;
      readonly hi: number | null;
      readonly span: Span;
    }
  | {
      readonly kind: 'dilated';
      readonly width: number;
      readonly dilation: number;
      readonly span: Span;
    }
  | { readonly kind: 'stride'; readonly step: number; readonly span: Span }
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
  /** Data-dependent (learned routing) leaf: topk, cluster or lsh (codegen/routing, docs). */
  | { readonly kind: 'routed'; readonly routing: Routing; readonly span: Span }
  | { readonly kind: 'union'; readonly terms: readonly Mask[]; readonly span: Span }
  | { readonly kind: 'intersect'; readonly terms: readonly Mask[]; readonly span: Span };

/**
 * What a routed leaf decides per (query, key) from the data. `topk.causal` is fixed at
 * lowering: under `causal: true` or an intersection with a bare `causal`, only blocks that end
 * before the query's block are candidates (reference: src/reference/mask.ts).
 */
export type Routing =
  | { readonly kind: 'topk'; readonly k: number; readonly block: number; readonly causal: boolean }
  | { readonly kind: 'cluster'; readonly count: number }
  | { readonly kind: 'lsh'; readonly buckets: number; readonly seed: number };

export type MaskKind = Mask['kind'];
export type MaskLeaf = Exclude<Mask, { kind: 'union' | 'intersect' }>;
