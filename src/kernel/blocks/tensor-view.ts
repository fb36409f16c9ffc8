// A tensor as a kernel sees it: a storage binding read and written through a row codec (f32
// vectors or scalars, or packed halves). Where a q/k/v/o row starts under the attention's
// layout is layout.ts's; kernels address rows only through the two, so no kernel spells a
// layout or a codec itself.

import { index, type BlockBuilder, type Operand } from '../build.js';
import type { Expr, HelperFunction, Kernel } from '../ir.js';
import { walkKernel } from '../walk.js';
import type { RowCodec } from './row-codec.js';

export interface TensorView {
  readonly binding: string;
  /** Element `at` as f32 values. */
  readonly load: (at: Operand) => Expr;
  /** `binding[at] = value` from f32 values. */
  readonly store: (b: BlockBuilder, at: Operand, value: Expr) => void;
}

export function tensorView(binding: string, codec: RowCodec): TensorView {
  return {
    binding,
    load: (at) => codec.load(index(binding, at)),
    store: (b, at, value) => b.store(binding, at, codec.store(value)),
  };
}

/**
 * The kernel with those of `offered` helpers its code calls, in `offered` order: blocks offer
 * their helpers (the packed codec's unpackRow and packRow) and a kernel declares only the
 * ones it uses (one that only reads halves carries no packRow).
 */
export function withCalledHelpers(kernel: Kernel, offered: readonly HelperFunction[]): Kernel {
  const called = new Set<string>();
  walkKernel(kernel, { expr: (e) => e.kind === 'call' && called.add(e.fn) });
  const declared = new Set(kernel.functions.map((fn) => fn.name));
  const added = offered.filter((fn) => {
    if (!called.has(fn.name) || declared.has(fn.name)) return false;
    declared.add(fn.name);
    return true;
  });
  return added.length === 0 ? kernel : { ...kernel, functions: [...kernel.functions, ...added] };
}
