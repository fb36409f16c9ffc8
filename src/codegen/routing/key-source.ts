// Where a routed softmax kernel's candidate keys come from: the kernel walks them in this
// order, and its loop bound counts them. Its own module so the emitter and the loop-budget
// formulas share it without importing each other.

import type { Mask, MaskLeaf } from '../../ir/ir.js';

type RoutedLeaf = Extract<MaskLeaf, { kind: 'routed' }>;
type RandomLeaf = Extract<MaskLeaf, { kind: 'random' }>;

/** Where candidate keys come from, in visiting order. */
export type Source =
  | { readonly kind: 'range'; readonly mask: Mask }
  | { readonly kind: 'routed'; readonly leaf: RoutedLeaf }
  | { readonly kind: 'random'; readonly leaf: RandomLeaf };
