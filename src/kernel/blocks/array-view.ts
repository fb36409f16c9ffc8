// A flat view of one array inside a storage binding: the array starts at a word offset the
// host passes as a uniform (arrays share buffers, compile.ts's layout), and elements are
// addressed from there. Loads and stores through the view are the only way kernels on the IR
// touch such arrays, so the base is never forgotten.

import { add, index, uniform, type BlockBuilder, type Operand } from '../build.js';
import type { Expr } from '../ir.js';

export interface ArrayView {
  /** `binding[P.base + terms...]`. */
  readonly at: (...terms: Operand[]) => Expr;
  readonly store: (b: BlockBuilder, terms: readonly Operand[], value: Operand) => void;
}

export function arrayView(binding: string, baseUniform: string): ArrayView {
  const address = (terms: readonly Operand[]) => add(uniform(baseUniform), ...terms);
  return {
    at: (...terms) => index(binding, address(terms)),
    store: (b, terms, value) => b.store(binding, address(terms), value),
  };
}
