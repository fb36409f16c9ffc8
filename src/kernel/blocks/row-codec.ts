// How tensors are stored and read: the one module that knows the storage codecs, so a new one
// is a change here. Rows of q/k/v/o are f32 (vec4 or scalar), or f16 as four halves per 8
// bytes, either packed in a `vec2<u32>` (runs on every device) or, where the profile has
// `shader-f16`, declared as `vec4<f16>` (the same bytes, so the host side is identical).
// Kernels that bind a tensor as single words (the linear, recurrent-state, route and side-table
// kernels) read f32 values, or f16 halves two per u32 word, through the word codec below.
// Arithmetic is f32 either way. The native codec's f16 type is what makes the kernel enable
// `f16` (features.ts); no directive is written by hand. f32 values kept in u32 tables are
// their bits (`f32OfBits`, `bitsOfF32`).

import {
  add,
  binary,
  block,
  call,
  construct,
  div,
  index,
  member,
  mul,
  paren,
  ref,
  T,
  u32,
  type BlockBuilder,
  type Operand,
} from '../build.js';
import type { Expr, HelperFunction, Type } from '../ir.js';

/** The storage dtypes of q/k/v/o (the attention's `dtype`). */
export type StorageDType = 'f32' | 'f16';

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
const UNPACK_ROW: HelperFunction = {
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
const PACK_ROW: HelperFunction = {
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

/** Values of `dtype` one u32 word of a buffer holds: two halves under f16. */
export function valuesPerWord(dtype: StorageDType | 'u32'): 1 | 2 {
  return dtype === 'f16' ? 2 : 1;
}

/** The values a row is read in: f16 rows come four halves at a time, whatever `width` is. */
export function rowUnit(dtype: StorageDType, width: 1 | 4): 1 | 4 {
  return dtype === 'f16' ? 4 : width;
}

export function rowCodec(dtype: StorageDType, width: 1 | 4, nativeF16: boolean): RowCodec {
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

/** An f32 value kept in a u32 word (route and side tables), and back: its bits. */
export const f32OfBits = (word: Operand): Expr => call('bitcast<f32>', word);
export const bitsOfF32 = (value: Operand): Expr => call('bitcast<u32>', value);

/**
 * The word codec: a tensor bound as single words, f32 values or f16 halves two per u32 word
 * (half `e % 2` of word `e / 2`). Offsets are in words; `width` 4 reads four values at a time
 * (one `vec4<f32>` element under f32, two words under f16).
 */
export interface WordCodec {
  /** The binding's element type: `f32`/`vec4<f32>`, or `u32` words under f16. */
  readonly stored: Type;
  /** Values per stored word: 1, or 2 halves under f16. */
  readonly valuesPerWord: 1 | 2;
  /** Words per binding element (uniform offsets are in elements): W under f32, 1 under f16. */
  readonly unitWords: number;
  /** `fn name(e: u32) -> vector`: vector `e` (`width` values, as f32) of `words` from `base`. */
  readonly loader: (name: string, words: string, base: Expr) => HelperFunction;
  /** Value `base + terms...` (an element index) of `words`, as f32. */
  readonly value: (words: string, base: Expr, ...terms: [Operand, ...Operand[]]) => Expr;
  /** One stored word from its `valuesPerWord` values (`f32`, or `vec2<f32>` under f16). */
  readonly word: (values: Expr) => Expr;
  /**
   * Stores `value` (a `vec4<f32>`) from word `a` of `words`: one `vec4<f32>` element under f32
   * (width 4, `a` in elements), two words of two halves under f16.
   */
  readonly store4: (b: BlockBuilder, words: string, a: Expr, value: Expr) => void;
}

export function wordCodec(dtype: StorageDType, width: 1 | 4): WordCodec {
  const vector = width === 4 ? vec4f : T.f32;
  const loader = (name: string, load: (b: BlockBuilder, e: Expr) => void, oneLine: boolean) => ({
    name,
    params: [{ name: 'e', type: T.u32 }],
    returns: vector,
    ...(oneLine ? { oneLine } : {}),
    body: block((b) => load(b, ref('e'))),
  });
  if (dtype === 'f32')
    return {
      stored: vector,
      valuesPerWord: 1,
      unitWords: width,
      loader: (name, words, base) =>
        loader(name, (b, e) => b.return(index(words, add(base, e))), true),
      value: (words, base, ...terms) => index(words, add(base, ...terms)),
      word: (values) => values,
      store4: (b, words, a, value) => b.store(words, a, value),
    };
  return {
    stored: T.u32,
    valuesPerWord: 2,
    unitWords: 1,
    loader: (name, words, base) =>
      width === 1
        ? loader(name, (b, e) => b.return(packedHalfAt(words, base, e)), true)
        : loader(
            name,
            (b, e) => b.return(unpackHalves4(words, b.let('a', add(base, mul(u32(2), e))))),
            false,
          ),
    value: (words, base, ...[first, ...rest]) => packedHalfAt(words, base, add(first, ...rest)),
    word: (values) => call('pack2x16float', values),
    store4: (b, words, a, value) => {
      b.store(words, a, call('pack2x16float', member(value, 'xy')));
      b.store(words, add(a, u32(1)), call('pack2x16float', member(value, 'zw')));
    },
  };
}

/** Four f16 values from words `a` and `a + 1` of `words`, as a vec4<f32>. */
function unpackHalves4(words: string, a: Expr): Expr {
  const half2 = (at: Expr) => call('unpack2x16float', index(words, at));
  return construct(vec4f, half2(a), half2(add(a, u32(1))));
}

/**
 * Element `element` of f16 values packed two per u32 word in `words` from word `base`, as f32:
 * half `element % 2` of word `element / 2` (the scalar form of the packed codec).
 */
function packedHalfAt(words: string, base: Expr, element: Expr): Expr {
  const e = element.kind === 'ref' ? element : paren(element);
  const word = index(words, add(base, div(e, u32(2))));
  return index(call('unpack2x16float', word), binary('&', e, u32(1)));
}
