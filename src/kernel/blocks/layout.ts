// Row addressing of q/k/v/o, written once for both layouts: row (b, head, position) of a
// `[B, H, N, ·]` (bhnd) or `[B, N, H, ·]` (bnhd) tensor whose rows are `width` units (vectors,
// or words of packed halves). A new layout is a new case here.

import { add, mul, type Operand } from '../build.js';
import type { Expr } from '../ir.js';

export type TensorLayout = 'bhnd' | 'bnhd';

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
