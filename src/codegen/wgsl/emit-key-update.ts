// WGSL pieces every softmax-family kernel shares, emitted from one place so the fused,
// subgroup, routed and low-rank kernels stay textually identical where they do the same
// thing: the f16 row (un)packing helpers, the overflow-safe tanh of softcap, and the
// per-key score plus online-softmax update.

import type { Score } from '../../ir/ir.js';
import { f32Lit } from './f32-literal.js';

/** Four f16 values packed in two u32 words <-> one vec4<f32>. */
export const UNPACK_ROW_WGSL: readonly string[] = [
  'fn unpackRow(x: vec2<u32>) -> vec4<f32> {',
  '  return vec4<f32>(unpack2x16float(x.x), unpack2x16float(x.y));',
  '}',
];
export const PACK_ROW_WGSL: readonly string[] = [
  'fn packRow(x: vec4<f32>) -> vec2<u32> {',
  '  return vec2<u32>(pack2x16float(x.xy), pack2x16float(x.zw));',
  '}',
];

export const TANH_SAFE_WGSL: readonly string[] = [
  '// tanh from one exp of a non-positive argument: no overflow for |x| ~ 1e4.',
  'fn tanhSafe(x: f32) -> f32 {',
  '  let e = exp(-2.0 * abs(x));',
  '  return sign(x) * (1.0 - e) / (1.0 + e);',
  '}',
];

export interface KeyUpdate {
  readonly score: Score;
  /** softcap or alibi present: q was pre-scaled by `scale` only, log2(e) comes after them. */
  readonly modified: boolean;
  /** WGSL expressions of `k[kRow + d]` and `v[vRow + d]` as vec4<f32>. */
  readonly kAt: string;
  readonly vAt: string;
  readonly dot: (a: string, b: string) => string;
}

/**
 * One key j: its score from `qrow`, softcap and alibi, then the online-softmax update of
 * (m, l, acc) in base 2 with lazy rescaling. Expects `kRow`, `vRow`, `j`, `p`, `slope` in scope.
 */
export function emitKeyUpdate(e: (line: string) => void, k: KeyUpdate): void {
  const LOG2E = Math.LOG2E;
  e('var s = 0.0;');
  e(`for (var d = 0u; d < DW; d++) { s += ${k.dot('qrow[d]', k.kAt)}; }`);
  if (k.score.softcap !== null)
    e(`s = ${f32Lit(k.score.softcap)} * tanhSafe(s * ${f32Lit(1 / k.score.softcap)});`);
  if (k.score.bias === 'alibi') e('s -= slope * f32(abs(i32(p) - i32(j)));');
  if (k.modified) e(`s *= ${f32Lit(LOG2E)};`);
  e('// Lazy rescale: only when the running max grows.');
  e('if (s > m) {');
  e('  let c = exp2(m - s);');
  e('  l *= c;');
  e('  for (var d = 0u; d < DVW; d++) { acc[d] *= c; }');
  e('  m = s;');
  e('}');
  e('let w = exp2(s - m);');
  e('l += w;');
  e(`for (var d = 0u; d < DVW; d++) { acc[d] += w * ${k.vAt}; }`);
}

/**
 * How a kernel's q/k/v/o rows are stored and read: f32 (vec4 or scalar), or f16 as four halves
 * per 8 bytes, either packed in a `vec2<u32>` (runs on every device) or, where the profile has
 * `shader-f16`, declared as `vec4<f16>` (the same bytes, so the host side is identical).
 * Arithmetic is f32 either way.
 */
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
  if (dtype === 'f32') {
    return {
      enable: [],
      stored: width === 4 ? 'vec4<f32>' : 'f32',
      unitWords: width,
      load: (e) => e,
      store: (v) => v,
      helpers: [],
    };
  }
  if (width !== 4) throw new Error('internal error: f16 needs vector width 4');
  if (nativeF16) {
    return {
      enable: ['enable f16;'],
      stored: 'vec4<f16>',
      unitWords: 2,
      load: (e) => `vec4<f32>(${e})`,
      store: (v) => `vec4<f16>(${v})`,
      helpers: [],
    };
  }
  return {
    enable: [],
    stored: 'vec2<u32>',
    unitWords: 2,
    load: (e) => `unpackRow(${e})`,
    store: (v) => `packRow(${v})`,
    helpers: [...UNPACK_ROW_WGSL, ...PACK_ROW_WGSL],
  };
}
