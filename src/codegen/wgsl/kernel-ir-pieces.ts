// The kernel IR's shared blocks as WGSL lines, for the one softmax-family emitter that still
// writes text (subgroup): the row codecs and tanhSafe are built once in src/kernel/blocks and
// rendered here by the one renderer, so the template and the IR kernels cannot drift apart.
// This adapter goes away when that emitter builds kernel IR itself.

import { raw, T } from '../../kernel/build.js';
import { featuresOfType } from '../../kernel/features.js';
import { TANH_SAFE } from '../../kernel/blocks/online-softmax.js';
import { rowCodec as irRowCodec } from '../../kernel/blocks/row-codec.js';
import {
  enableDirectives,
  renderExpr,
  renderFunction,
  renderType,
} from '../../kernel/render-wgsl.js';

export const TANH_SAFE_WGSL: readonly string[] = renderFunction(TANH_SAFE);

/** The row codec of src/kernel/blocks/row-codec.ts with its pieces as WGSL text. */
export interface RowCodec {
  /** Directives before any declaration (`enable f16;`), or none. */
  readonly enable: readonly string[];
  /** The storage array's element type. */
  readonly stored: string;
  /** u32 words per storage element (uniform offsets are in elements). */
  readonly unitWords: number;
  readonly load: (element: string) => string;
  readonly store: (value: string) => string;
  /** Module-scope helper functions the load/store expressions call. */
  readonly helpers: readonly string[];
}

export function rowCodec(dtype: 'f32' | 'f16', width: 1 | 4, nativeF16: boolean): RowCodec {
  const codec = irRowCodec(dtype, width, nativeF16);
  return {
    enable: enableDirectives(featuresOfType(codec.stored)),
    stored: renderType(codec.stored),
    unitWords: codec.unitWords,
    load: (x) => renderExpr(codec.load(raw(codec.stored, x))),
    store: (x) => renderExpr(codec.store(raw(T.vec(4, 'f32'), x))),
    helpers: codec.helpers.flatMap(renderFunction),
  };
}
