// The per-key step every softmax-family kernel shares: the score of key j from the query row
// (scale already folded into q), softcap through an overflow-safe tanh, alibi, then the
// online-softmax update of (m, l, acc) in base 2, rescaling lazily: only when the running
// max grows. Expects the query row (`qrow` unless named), `acc`, `m`, `l`, `p`, `j` and
// (alibi) `slope` in scope, and the constants DW and DVW (vectors per key and value row). Its
// loops over a row run per key, so rows longer than llvmpipe unrolls are split into short
// loops (short-loops.ts).

import type { Score } from '../../ir/ir.js';
import {
  abs,
  block,
  call,
  construct,
  div,
  f32,
  f32Scientific,
  gt,
  index,
  mul,
  neg,
  ref,
  sub,
  T,
  add,
  type BlockBuilder,
  type Operand,
} from '../build.js';
import type { Expr, HelperFunction } from '../ir.js';
import { forShortLoops } from './short-loops.js';

export interface KeyUpdate {
  readonly score: Score;
  /** softcap or alibi present: q was pre-scaled by `scale` only, log2(e) comes after them. */
  readonly modified: boolean;
  /** Element `d` of the key and value rows as f32 vectors (`d` is the loop's counter). */
  readonly kAt: Expr;
  readonly vAt: Expr;
  /** The values of DW and DVW: the row loops' trip counts. */
  readonly vectors: number;
  readonly valueVectors: number;
  /** The product of a query vector and a key vector (`dot` for vec4, `*` for scalars). */
  readonly dot: (a: Expr, b: Expr) => Expr;
  /** The query row's name, if not `qrow`, or where its vector `d` lies. */
  readonly query?: string | ((d: Expr) => Expr);
  /** The comment above the rescale, if not the default line. */
  readonly rescaleComment?: readonly string[];
  /** The running max, sum and accumulator vector `d`, if not `m`, `l` and `acc[d]`. */
  readonly state?: RunningState;
}

/** Where the online softmax keeps one row's running max, sum and accumulator. */
export interface RunningState {
  readonly m: Expr;
  readonly l: Expr;
  readonly acc: (d: Expr) => Expr;
}

/**
 * The lowest running max of a softmax (the softmax kernels' NEG_BIG): far below any score, yet
 * finite, so `exp2(m - s)` never sees inf - inf. Spelled `-3.0e38`, as the templates did.
 */
export const LOWEST_SCORE: Expr = f32Scientific(-3e38);

/** tanh from one exp of a non-positive argument: no overflow for |x| ~ 1e4. */
export const TANH_SAFE: HelperFunction = {
  name: 'tanhSafe',
  params: [{ name: 'x', type: T.f32 }],
  returns: T.f32,
  doc: ['tanh from one exp of a non-positive argument: no overflow for |x| ~ 1e4.'],
  body: block((b) => {
    const e = b.let('e', call('exp', mul(neg(f32(2)), abs('x'))));
    b.return(div(mul(call('sign', 'x'), sub(f32(1), e)), add(f32(1), e)));
  }),
};

/**
 * The score's modifiers on the raw score `s` of key position `key` (query position `p`):
 * softcap, alibi (`slope` in scope), then log2(e) when either is present (`modified`).
 */
export function modifyScore(
  b: BlockBuilder,
  score: Score,
  modified: boolean,
  s: Expr,
  key: Operand = 'j',
): void {
  const { softcap, bias } = score;
  if (softcap !== null)
    b.assign(s, mul(f32(softcap), call(TANH_SAFE.name, mul(s, f32(1 / softcap)))));
  if (bias === 'alibi')
    b.compound(
      s,
      '-=',
      mul('slope', construct(T.f32, abs(sub(construct(T.i32, 'p'), construct(T.i32, key))))),
    );
  if (modified) b.compound(s, '*=', f32(Math.LOG2E));
}

export function keyUpdate(b: BlockBuilder, k: KeyUpdate): void {
  const { m, l, acc } = k.state ?? { m: ref('m'), l: ref('l'), acc: (d) => index('acc', d) };
  const query = k.query ?? 'qrow';
  const q = typeof query === 'string' ? (d: Expr) => index(query, d) : query;
  const s = b.var('s', f32(0));
  forShortLoops(b, 'DW', k.vectors, (body, d) => body.compound(s, '+=', k.dot(q(d), k.kAt)));
  modifyScore(b, k.score, k.modified, s);
  for (const line of k.rescaleComment ?? ['Lazy rescale: only when the running max grows.'])
    b.comment(line);
  b.if(gt(s, m), (grow) => {
    const c = grow.let('c', call('exp2', sub(m, s)));
    grow.compound(l, '*=', c);
    forShortLoops(grow, 'DVW', k.valueVectors, (body, d) => body.compound(acc(d), '*=', c));
    grow.assign(m, s);
  });
  const w = b.let('w', call('exp2', sub(s, m)));
  b.compound(l, '+=', w);
  forShortLoops(b, 'DVW', k.valueVectors, (body, d) => body.compound(acc(d), '+=', mul(w, k.vAt)));
}
