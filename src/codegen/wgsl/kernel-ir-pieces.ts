// The kernel IR's shared blocks as WGSL lines, for the softmax-family emitters that still
// write text (subgroup, routed, split-K decode): the row codecs, tanhSafe and the
// per-key online-softmax update are built once in src/kernel/blocks and rendered here by the
// one renderer, so template kernels and IR kernels cannot drift apart. This adapter goes away
// when those emitters build kernel IR themselves.

import type { Score } from '../../ir/ir.js';
import { block, raw, T } from '../../kernel/build.js';
import { featuresOfType } from '../../kernel/features.js';
import { keyUpdate, TANH_SAFE } from '../../kernel/blocks/online-softmax.js';
import { PACK_ROW, rowCodec as irRowCodec, UNPACK_ROW } from '../../kernel/blocks/row-codec.js';
import {
  enableDirectives,
  renderExpr,
  renderFunction,
  renderStatements,
  renderType,
} from '../../kernel/render-wgsl.js';

export const UNPACK_ROW_WGSL: readonly string[] = renderFunction(UNPACK_ROW);
export const PACK_ROW_WGSL: readonly string[] = renderFunction(PACK_ROW);
export const TANH_SAFE_WGSL: readonly string[] = renderFunction(TANH_SAFE);

export interface KeyUpdate {
  readonly score: Score;
  /** softcap or alibi present: q was pre-scaled by `scale` only, log2(e) comes after them. */
  readonly modified: boolean;
  /** WGSL expressions of `k[kRow + d]` and `v[vRow + d]` as vec4<f32>. */
  readonly kAt: string;
  readonly vAt: string;
  readonly dot: (a: string, b: string) => string;
  /** The values of DW and DVW: the row loops' trip counts. */
  readonly vectors: number;
  readonly valueVectors: number;
}

/** The per-key update of src/kernel/blocks/online-softmax.ts, one line at a time into `e`. */
export function emitKeyUpdate(e: (line: string) => void, k: KeyUpdate): void {
  const vec4f = T.vec(4, 'f32');
  const stmts = block((b) =>
    keyUpdate(b, {
      score: k.score,
      modified: k.modified,
      kAt: raw(vec4f, k.kAt),
      vAt: raw(vec4f, k.vAt),
      dot: (a, c) => raw(T.f32, k.dot(renderExpr(a), renderExpr(c))),
      vectors: k.vectors,
      valueVectors: k.valueVectors,
    }),
  );
  renderStatements(stmts, 0).forEach((line) => e(line));
}

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
