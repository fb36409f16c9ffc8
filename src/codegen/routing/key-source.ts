// Where a routed softmax kernel's candidate keys come from: the kernel walks them in this
// order, and its loop bound counts them. Its own module so the kernel builder
// (kernels/routed-softmax.ts) and the loop-budget formulas share it without importing each
// other.

import type { Mask, MaskLeaf } from '../../ir/ir.js';
import { maskLeaves } from '../../ir/ir.js';

export const ROUTED_QUERY_TILE = 64;

/**
 * topk with k up to this keeps its choice in a sorted private array of k blocks (one pass over
 * the candidates). A larger k would size that array, and the unrolled membership test, by k
 * (topk(10000000) took 51 s and 3.2 GB to compile, and no WGSL array holds it): those rows
 * instead find the k-th best score by a bitwise search over the candidates (33 passes) and
 * test membership against it, so the kernel is the same size for every k.
 */
export const TOPK_SORTED_MAX = 64;

type RoutedLeaf = Extract<MaskLeaf, { kind: 'routed' }>;
type RandomLeaf = Extract<MaskLeaf, { kind: 'random' }>;

/** Where candidate keys come from, in visiting order. */
export type Source =
  | { readonly kind: 'range'; readonly mask: Mask }
  | { readonly kind: 'routed'; readonly leaf: RoutedLeaf }
  | { readonly kind: 'random'; readonly leaf: RandomLeaf };

export function hasRoutedLeaf(mask: Mask): boolean {
  return maskLeaves(mask).some((l) => l.kind === 'routed');
}

/**
 * Sources whose keys cover every key `mask` allows. Union: the sources of every term, static
 * terms merged into one range (a `random` term is its own source: its drawn blocks, never the
 * whole key range). Intersection: the sources of one term (a routed leaf itself when there is
 * one, else a `random` leaf, else the term holding a routed leaf; the others only filter,
 * through the per-key mask check). A static intersection without a `random` term is one range
 * (the intersection of its terms' hulls).
 */
export function keySources(mask: Mask): Source[] {
  switch (mask.kind) {
    case 'routed':
      return [{ kind: 'routed', leaf: mask }];
    case 'random':
      return [{ kind: 'random', leaf: mask }];
    case 'union': {
      const parts = mask.terms.flatMap(keySources);
      const ranges = parts.flatMap((s) => (s.kind === 'range' ? [s.mask] : []));
      const others = parts.filter((s) => s.kind !== 'range');
      if (ranges.length === 0) return others;
      const merged: Mask =
        ranges.length === 1 ? ranges[0]! : { kind: 'union', terms: ranges, span: mask.span };
      return [{ kind: 'range', mask: merged }, ...others];
    }
    case 'intersect': {
      const leaf =
        mask.terms.find((t) => t.kind === 'routed') ??
        mask.terms.find((t) => t.kind === 'random') ??
        mask.terms.find(hasRoutedLeaf);
      return leaf ? keySources(leaf) : [{ kind: 'range', mask }];
    }
    default:
      return [{ kind: 'range', mask }];
  }
}
