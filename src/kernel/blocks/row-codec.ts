// How a kernel's q/k/v/o rows are stored and read: f32 (vec4 or scalar), or f16 as four
// halves per 8 bytes, either packed in a `vec2<u32>` (runs on every device) or, where the
// profile has `shader-f16`, declared as `vec4<f16>` (the same bytes, so the host side is
// identical). Arithmetic is f32 either way. The native codec's f16 type is what makes the
// kernel enable `f16` (features.ts); no directive is written by hand.

import {
  add,
  binary,
  block,
  call,
  construct,
  div,
  index,
  member,
  paren,
  T,
  u32,
} from '../build.js';
import type { Expr, HelperFunction, Type } from '../ir.js';

export interface RowCodec {
  /** The storage array's element type. */
  readonly stored: Type;
  /** u32 words per storage element (uniform offsets are in elements). */
  readonly unitWords: number;
  /** A stored element as f32 (`vec4<f32>` or `f32`), and back. */
  readonly load: (element: Expr) => Expr;
  readonly store: (value: Expr) => Expr;
  /** Module-scope helper functions the load/store expressions call. */
  readonly helpers: readonly HelperFunction[];
}

const vec4f = T.vec(4, 'f32');
const vec2u = T.vec(2, 'u32');

/** Four f16 values packed in two u32 words -> one vec4<f32>. */
export const UNPACK_ROW: HelperFunction = {
  name: 'unpackRow',
  params: [{ name: 'x', type: vec2u }],
  returns: vec4f,
  body: block((b) =>
    b.return(
      construct(
        vec4f,
        call('unpack2x16float', member('x', 'x')),
        call('unpack2x16float', member('x', 'y')),
      ),
    ),
  ),
};

/** One vec4<f32> -> four f16 values packed in two u32 words. */
export const PACK_ROW: HelperFunction = {
  name: 'packRow',
  params: [{ name: 'x', type: vec4f }],
  returns: vec2u,
  body: block((b) =>
    b.return(
      construct(
        vec2u,
        call('pack2x16float', member('x', 'xy')),
        call('pack2x16float', member('x', 'zw')),
      ),
    ),
  ),
};

export function rowCodec(dtype: 'f32' | 'f16', width: 1 | 4, nativeF16: boolean): RowCodec {
  if (dtype === 'f32')
    return {
      stored: width === 4 ? vec4f : T.f32,
      unitWords: width,
      load: (e) => e,
      store: (v) => v,
      helpers: [],
    };
  if (width !== 4) throw new Error('internal error: f16 needs vector width 4');
  if (nativeF16)
    return {
      stored: T.vec(4, 'f16'),
      unitWords: 2,
      load: (e) => construct(vec4f, e),
      store: (v) => construct(T.vec(4, 'f16'), v),
      helpers: [],
    };
  return {
    stored: vec2u,
    unitWords: 2,
    load: (e) => call('unpackRow', e),
    store: (v) => call('packRow', v),
    helpers: [UNPACK_ROW, PACK_ROW],
  };
}

/**
 * Element `element` of f16 values packed two per u32 word in `words` from word `base`, as f32:
 * half `element % 2` of word `element / 2` (the scalar form of the packed codec).
 */
export function packedHalfAt(words: string, base: Expr, element: Expr): Expr {
  const e = paren(element);
  const word = index(words, add(base, div(e, u32(2))));
  return index(call('unpack2x16float', word), binary('&', e, u32(1)));
}
