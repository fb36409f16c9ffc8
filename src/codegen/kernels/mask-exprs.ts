// The three views a kernel has of a mask, as kernel-IR expressions (render-wgsl.ts writes
// them, the verifier checks the names they read):
//  - `visitRange`: the key positions a query tile may see, as a constant prefix [0, P) plus a
//    band [lo, hi) (i32 expressions), so tiles outside are never visited at all;
//  - `classifyTile`: empty (0), partial (1) or full (2) for a (query tile, key tile) pair,
//    from closed forms or the compact tables (union = max, intersection = min);
//  - `allowedExpr`: the per-element predicate, used only inside partial tiles.
// Names the expressions read (parameters of the helpers in softmax-mask.ts, or lets of the
// kernel that inlines them):
//   pa, pb, ja, jb: u32 first/last query position of the tile and first/last key;
//   kt, qt: key and query tile; b: batch; p, j: u32 positions of the element;
//   segRow: the row's segment id; NK: i32 seqK.
// Tables are read through the helpers softmax-mask.ts defines (randomHas<n>(p, j),
// randomClass<n>(ja, jb, pa, pb), segmentClass(kt, pa, pb, b, qt), segKey(b, j)). The
// explicit `paren`s keep the rendered WGSL as the text templates wrote it.

import type { Mask, TileRule } from '../../ir/ir.js';
import { unreachable } from '../../ir/ir.js';
import {
  abs,
  and,
  add,
  bool,
  call,
  construct,
  div,
  eq,
  ge,
  gt,
  i32,
  le,
  lt,
  max,
  min,
  mod,
  mul,
  not,
  or,
  paren,
  ref,
  select,
  sub,
  T,
  u32,
  type Operand,
} from '../../kernel/build.js';
import type { Expr } from '../../kernel/ir.js';

export interface MaskCodegenContext {
  /** Tile rule per leaf, in the order `maskLeaves` gives. */
  readonly rules: readonly TileRule[];
  /** Each `random` leaf's number, which names its WGSL helpers (`randomClassN`, `randomHasN`). */
  readonly randomOf: ReadonlyMap<Mask, number>;
  /** Each routed leaf's test of key j (built by the routed softmax kernel). */
  readonly routedHas?: ReadonlyMap<Mask, Expr>;
}

/** A prefix [0, prefix) (u32) and a half-open band [lo, hi) (i32) of key positions. */
export interface Visit {
  readonly prefix: Expr | null;
  readonly lo: Expr;
  readonly hi: Expr;
}

const NK = 'NK';
const asI32 = (x: Operand) => construct(T.i32, x);
const asU32 = (x: Operand) => construct(T.u32, x);
const ALL: Visit = { prefix: null, lo: i32(0), hi: ref(NK) };
const EMPTY: Visit = { prefix: null, lo: ref(NK), hi: i32(0) };

/**
 * `position + offset` as an i32 key bound, where `position` is a u32 name below seqK and
 * `offset` any spec offset (|offset| <= 2^31). A positive offset is added in u32 and capped at
 * NK, because `i32(pb) + 2147483648i` is not an i32 (Tint rejects the literal) and
 * `i32(pb) + 2147483647i` wraps negative at run time: either way a wide window would visit no
 * keys. A negative one cannot wrap: position >= 0 and offset > -2^31. Once per tile, not per key.
 */
function shifted(position: string, offset: number): Expr {
  if (offset === 0) return asI32(position);
  if (offset < 0) return sub(asI32(position), i32(-offset));
  return asI32(min(add(position, u32(offset)), asU32(NK)));
}

/** A constant key bound (e.g. one past the last global position), capped at NK. */
function keyBound(x: number): Expr {
  return x <= 0 ? i32(x) : asI32(min(u32(x), asU32(NK)));
}

/** The key positions a query tile [pa, pb] may attend to (over-approximate, never under). */
export function visitRange(mask: Mask): Visit {
  switch (mask.kind) {
    case 'all':
    case 'stride':
    case 'random':
    case 'segment':
    case 'routed':
      return ALL;
    case 'none':
      return EMPTY;
    case 'band':
      return {
        prefix: null,
        lo: mask.lo === null ? i32(0) : shifted('pa', mask.lo),
        hi: mask.hi === null ? ref(NK) : shifted('pb', mask.hi + 1),
      };
    case 'dilated': {
      const reach = mask.width * mask.dilation;
      return { prefix: null, lo: shifted('pa', -reach), hi: shifted('pb', reach + 1) };
    }
    case 'sink':
      return { prefix: u32(mask.count), lo: ref(NK), hi: i32(0) };
    case 'global':
      return globalVisit(mask);
    case 'blocks': {
      const b = u32(mask.size);
      // The block end may pass 2^31 - 1 (pb near seqK, a big block): capped like `shifted`.
      return {
        prefix: null,
        lo: asI32(mul(paren(div('pa', b)), b)),
        hi: asI32(min(mul(paren(add(div('pb', b), u32(1))), b), asU32(NK))),
      };
    }
    case 'union': {
      const parts = mask.terms.map(visitRange);
      return {
        prefix: widest(parts.flatMap((v) => (v.prefix === null ? [] : [v.prefix]))),
        lo: parts.map((v) => v.lo).reduce((a, b) => min(a, b)),
        hi: parts.map((v) => v.hi).reduce((a, b) => max(a, b)),
      };
    }
    case 'intersect':
      return intersectVisit(mask.terms.map(visitRange));
    default:
      return unreachable(mask);
  }
}

/** The largest of some prefixes, or null for none. */
function widest(prefixes: readonly Expr[]): Expr | null {
  return prefixes.length === 0 ? null : prefixes.reduce((a, b) => max(a, b));
}

/** Rows in G see every key; other rows see G itself: [0, first) and the listed positions. */
function globalVisit(mask: Extract<Mask, { kind: 'global' }>): Visit {
  const rowsGlobal = globalRangeHits(mask, 'pa', 'pb');
  const first = mask.positions.length ? Math.min(...mask.positions) : null;
  const last = mask.positions.length ? Math.max(...mask.positions) : null;
  const lo = first === null ? ref(NK) : i32(first);
  const hi = last === null ? i32(0) : keyBound(last + 1);
  return {
    prefix: u32(mask.first),
    lo: select(lo, i32(0), rowsGlobal),
    hi: select(hi, NK, rowsGlobal),
  };
}

/**
 * A key every term allows lies in every term's band, or in some term's prefix and in the hull
 * of every other term: so the bands intersect, and the prefix reaches as far as the widest
 * prefix cut by the other terms' hulls. (`causal: true` intersects a window | sink with
 * causal: the sinks stay a prefix, the band stays the window, and a step visits no tile in
 * between.)
 */
function intersectVisit(parts: readonly Visit[]): Visit {
  const hullHi = (v: Visit) => (v.prefix === null ? v.hi : max(v.hi, asI32(v.prefix)));
  const prefixes = parts.flatMap((v, n) =>
    v.prefix === null
      ? []
      : [
          [
            v.prefix,
            ...parts.filter((_, m) => m !== n).map((w) => asU32(max(hullHi(w), i32(0)))),
          ].reduce((a, b) => min(a, b)),
        ],
  );
  return {
    prefix: widest(prefixes),
    lo: parts.map((v) => v.lo).reduce((a, b) => max(a, b)),
    hi: parts.map((v) => v.hi).reduce((a, b) => min(a, b)),
  };
}

/** Whether some position in [lo, hi] (u32 names) is in G. */
function globalRangeHits(mask: Extract<Mask, { kind: 'global' }>, lo: string, hi: string): Expr {
  return paren(
    or(
      lt(lo, u32(mask.first)),
      ...mask.positions.map((x) => paren(and(le(lo, u32(x)), le(u32(x), hi)))),
    ),
  );
}

/** Whether position `x` (a u32 name) is in G. */
function globalContains(mask: Extract<Mask, { kind: 'global' }>, x: string): Expr {
  return paren(or(lt(x, u32(mask.first)), ...mask.positions.map((t) => eq(x, u32(t)))));
}

/** Classification of the tile pair ([pa, pb], [ja, jb]): 0 empty, 1 partial, 2 full. */
export function classifyTile(mask: Mask, context: MaskCodegenContext): Expr {
  let leaf = 0;
  const walk = (node: Mask): Expr => {
    switch (node.kind) {
      case 'union':
      case 'intersect': {
        const combine = node.kind === 'union' ? max : min;
        return node.terms.map(walk).reduce((a, b) => combine(a, b));
      }
      default: {
        const rule = context.rules[leaf++];
        if (!rule) throw new Error('internal error: missing tile rule');
        return classifyLeaf(node, rule, context);
      }
    }
  };
  return walk(mask);
}

/** 0 where `empty`, else 2 where `full`, else 1. */
const tileClass = (full: Expr, empty: Expr) => select(select(u32(1), u32(2), full), u32(0), empty);

function classifyBand(lo: number | null, hi: number | null): Expr {
  // d = j - p over the tile pair ranges over [ja - pb, jb - pa].
  const dmin = sub(asI32('ja'), asI32('pb'));
  const dmax = sub(asI32('jb'), asI32('pa'));
  const empty = [
    ...(lo === null ? [] : [lt(dmax, i32(lo))]),
    ...(hi === null ? [] : [gt(dmin, i32(hi))]),
  ];
  const full = [
    ...(lo === null ? [] : [ge(dmin, i32(lo))]),
    ...(hi === null ? [] : [le(dmax, i32(hi))]),
  ];
  return tileClass(
    full.length ? and(full[0]!, ...full.slice(1)) : bool(true),
    empty.length ? or(empty[0]!, ...empty.slice(1)) : bool(false),
  );
}

function classifyLeaf(mask: Mask, rule: TileRule, context: MaskCodegenContext): Expr {
  switch (mask.kind) {
    case 'all':
      return u32(2);
    case 'none':
      return u32(0);
    case 'band':
      return classifyBand(mask.lo, mask.hi);
    case 'dilated': {
      const reach = mask.width * mask.dilation;
      return min(classifyBand(-reach, reach), u32(1));
    }
    case 'stride':
    case 'routed':
      return u32(1);
    case 'sink': {
      const n = u32(mask.count);
      return tileClass(lt('jb', n), ge('ja', n));
    }
    case 'global': {
      const f = u32(mask.first);
      const full = or(lt('jb', f), lt('pb', f));
      const empty = and(
        not(globalRangeHits(mask, 'ja', 'jb')),
        not(globalRangeHits(mask, 'pa', 'pb')),
      );
      return tileClass(full, empty);
    }
    case 'blocks': {
      const of = (x: string) => div(x, u32(mask.size));
      const full = and(eq(of('pa'), of('pb')), eq(of('ja'), of('jb')), eq(of('pa'), of('ja')));
      return tileClass(full, or(lt(of('jb'), of('pa')), gt(of('ja'), of('pb'))));
    }
    case 'random':
      if (rule.kind !== 'random-table') throw new Error('internal error: random without table');
      return call(`randomClass${randomLeafIndex(mask, context)}`, 'ja', 'jb', 'pa', 'pb');
    case 'segment':
      return call('segmentClass', 'kt', 'pa', 'pb', 'b', 'qt');
    case 'union':
    case 'intersect':
      throw new Error('internal error: classifyLeaf on a composite');
    default:
      return unreachable(mask);
  }
}

/** `allowed(p, j)` for one element of a partial tile. */
export function allowedExpr(mask: Mask, context: MaskCodegenContext): Expr {
  const walk = (node: Mask): Expr => {
    switch (node.kind) {
      case 'union':
        return paren(or(...(node.terms.map(walk) as [Expr, ...Expr[]])));
      case 'intersect':
        return paren(and(...(node.terms.map(walk) as [Expr, ...Expr[]])));
      case 'random':
        return call(`randomHas${randomLeafIndex(node, context)}`, 'p', 'j');
      case 'routed': {
        const has = context.routedHas?.get(node);
        if (has === undefined) throw new Error('internal error: routed leaf without its test');
        return has;
      }
      default:
        return allowedLeaf(node);
    }
  };
  return walk(mask);
}

/** The closed form of a leaf that needs no table and no routing. */
function allowedLeaf(node: Exclude<Mask, { kind: 'union' | 'intersect' | 'random' | 'routed' }>) {
  const pMinusJ = sub(asI32('p'), asI32('j'));
  switch (node.kind) {
    case 'all':
      return bool(true);
    case 'none':
      return bool(false);
    case 'band': {
      const d = sub(asI32('j'), asI32('p'));
      const parts = [
        ...(node.lo === null ? [] : [ge(d, i32(node.lo))]),
        ...(node.hi === null ? [] : [le(d, i32(node.hi))]),
      ];
      return parts.length ? paren(and(parts[0]!, ...parts.slice(1))) : bool(true);
    }
    case 'dilated':
      return paren(
        and(
          le(abs(pMinusJ), i32(node.width * node.dilation)),
          eq(mod(pMinusJ, i32(node.dilation)), i32(0)),
        ),
      );
    case 'stride':
      return paren(eq(mod(pMinusJ, i32(node.step)), i32(0)));
    case 'global':
      return paren(or(globalContains(node, 'j'), globalContains(node, 'p')));
    case 'sink':
      return paren(lt('j', u32(node.count)));
    case 'blocks':
      return paren(eq(div('p', u32(node.size)), div('j', u32(node.size))));
    case 'segment':
      return paren(eq('segRow', call('segKey', 'b', 'j')));
    default:
      return unreachable(node);
  }
}

/** Random leaves are numbered in leaf order; the same numbering names their WGSL helpers. */
function randomLeafIndex(node: Mask, context: MaskCodegenContext): number {
  const index = context.randomOf.get(node);
  if (index === undefined) throw new Error('internal error: random leaf without index');
  return index;
}
