// Row addressing of q/k/v/o, written once for both layouts: row (b, head, position) of a
// `[B, H, N, ·]` (bhnd) or `[B, N, H, ·]` (bnhd) tensor whose rows are `width` units (vectors,
// or words of packed halves). A new layout is a new case here. Key rows (k and v) go through
// `keyRowWalk`, the one place that knows a KV cache stores them by slot, not by position.

import {
  add,
  le,
  lt,
  max,
  min,
  mod,
  mul,
  or,
  paren,
  select,
  sub,
  uniform,
  type Operand,
} from '../build.js';
import type { Expr } from '../ir.js';

export type TensorLayout = 'bhnd' | 'bnhd';

/** A tensor's axes in host order (sizes or dim names): `[B, H, N, D]` or `[B, N, H, D]`. */
export function tensorAxes<T>(layout: TensorLayout, batch: T, heads: T, seq: T, width: T): T[] {
  return layout === 'bhnd' ? [batch, heads, seq, width] : [batch, seq, heads, width];
}

/** Index of the row's first unit; `position` may be a sum of terms (`ja + r`). */
export function rowIndex(
  layout: TensorLayout,
  heads: Operand,
  seq: Operand,
  width: Operand,
  b: Operand,
  head: Operand,
  ...position: Operand[]
): Expr {
  const [first, ...rest] = position;
  if (first === undefined) throw new Error('internal error: a row without a position');
  return layout === 'bhnd'
    ? mul(add(mul(add(mul(b, heads), head), seq), first, ...rest), width)
    : mul(add(mul(add(mul(b, seq), first, ...rest), heads), head), width);
}

/**
 * The rows of (b, head) as a walk over positions: `first` is the index of row 0, and
 * `at(first, n)` the index of row n (`first + n * stride`, the stride spelled out).
 */
export function rowWalk(
  layout: TensorLayout,
  heads: Operand,
  seq: Operand,
  width: Operand,
  b: Operand,
  head: Operand,
): { readonly first: Expr; readonly at: (first: Operand, n: Operand) => Expr } {
  return layout === 'bhnd'
    ? { first: mul(add(mul(b, heads), head), seq, width), at: (f, n) => add(f, mul(n, width)) }
    : {
        first: mul(add(mul(b, seq, heads), head), width),
        at: (f, n) => add(f, mul(n, heads, width)),
      };
}

/** Where one row of one head lies: batch, head (of `heads`), row (of `seq`). */
export interface RowPlace {
  readonly batch: Operand;
  readonly head: Operand;
  readonly heads: Operand;
  readonly seq: Operand;
  readonly row: Operand;
}

/** The first unit of a row `width` units long, from the array's base: `base + row * width`. */
export function rowStart(
  layout: TensorLayout,
  base: Operand,
  place: RowPlace,
  width: Operand,
): Expr {
  return add(
    base,
    rowIndex(layout, place.heads, place.seq, width, place.batch, place.head, place.row),
  );
}

/**
 * The row of key position `j` in k and v (codegen/plan.ts's cache symbols): its own row below
 * `ringPrefix`, else `ringPrefix + (j - ringPrefix) % ringSlots`. A plain run sets no prefix
 * and a ring of 2^32 - 1 slots, so this is j; a KV cache's ring keeps its sinks at their own
 * rows and wraps the rest, and the mask still sees the absolute position j.
 */
export function keySlot(j: Operand): Expr {
  const prefix = uniform('ringPrefix');
  const position = typeof j === 'string' ? j : paren(j);
  return select(
    add(prefix, mod(paren(sub(position, prefix)), uniform('ringSlots'))),
    position,
    lt(position, prefix),
  );
}

/**
 * The kv heads of the k/v arrays a softmax kernel reads, and its kv head `hk` among them. A
 * spec of one head group reads k and v with every kv head (`TOTAL_KV_HEADS`, `hk`). A spec of
 * several groups takes them from the uniforms `kvHeads` and `kvHead0` (codegen/plan.ts's
 * `kvGroupStores`): every kv head in a plain run, only the group's own in a KV cache, which
 * keeps a store per head group (src/runtime/cache/group-stores.ts).
 */
export interface KeyHeads {
  /** kv heads per batch entry (bhnd) or per position (bnhd) of the k/v arrays. */
  readonly heads: Operand;
  /** The kernel's kv head among them. */
  readonly head: Operand;
}

export function keyHeadsOf(groups: number, hk: Operand = 'hk'): KeyHeads {
  return groups > 1
    ? { heads: uniform('kvHeads'), head: paren(sub(hk, uniform('kvHead0'))) }
    : { heads: 'TOTAL_KV_HEADS', head: hk };
}

/**
 * The k or v rows of (b, kv head) by key position: `rowWalk` with the store's row count
 * `kvRows` (seqK in a plain run, the cache's allocated rows in a KV cache) and `keySlot`.
 */
export function keyRowWalk(
  layout: TensorLayout,
  keyHeads: KeyHeads,
  width: Operand,
  b: Operand,
): {
  readonly first: Expr;
  /** Row of key position j. */
  readonly at: (first: Operand, j: Operand) => Expr;
  /** Row of a slot already computed with `keySlot` (k and v share one per key). */
  readonly atSlot: (first: Operand, slot: Operand) => Expr;
} {
  const walk = rowWalk(layout, keyHeads.heads, uniform('kvRows'), width, b, keyHeads.head);
  return { first: walk.first, at: (first, j) => walk.at(first, keySlot(j)), atSlot: walk.at };
}

/**
 * Whether key position j (< seqK) is still held where keys are stored: a ring keeps its
 * prefix and its last `ringSlots` positions (a slot of any other position holds a later key);
 * a plain run keeps every position (ringSlots = 2^32 - 1).
 */
export function keyHeld(j: Operand, seqK: Operand): Expr {
  return or(lt(j, uniform('ringPrefix')), le(paren(sub(seqK, j)), uniform('ringSlots')));
}

/**
 * The positions [0, seqK) still held, numbered in position order: `count` of them, the n-th at
 * `position(n)`. A ring holds its prefix [0, min(ringPrefix, seqK)) and its recent positions
 * [max(ringPrefix, seqK - ringSlots), seqK) (empty while seqK <= ringPrefix); a plain run all of
 * [0, seqK), position(n) = n.
 * One loop over n walks them (one loop header, as a walk over [0, seqK)).
 */
export function heldKeys(seqK: Operand): {
  readonly count: Expr;
  readonly position: (n: Operand) => Expr;
} {
  const prefix = uniform('ringPrefix');
  const prefixEnd = min(prefix, seqK);
  // At most seqK, so the count never wraps while the prefix is not full yet.
  const recent = max(prefixEnd, sub(seqK, min(uniform('ringSlots'), seqK)));
  return {
    count: add(prefixEnd, paren(sub(seqK, recent))),
    position: (n) => select(add(recent, paren(sub(n, prefixEnd))), n, lt(n, prefixEnd)),
  };
}
