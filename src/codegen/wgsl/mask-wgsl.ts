// WGSL for the three views a kernel has of a mask:
//  - `visitRange`: the key positions a query tile may see, as a constant prefix [0, P) plus a
//    band [lo, hi) (i32 expressions), so tiles outside are never visited at all;
//  - `classifyTile`: empty (0), partial (1) or full (2) for a (query tile, key tile) pair,
//    from closed forms or the compact tables (union = max, intersection = min);
//  - `allowedExpr`: the per-element predicate, used only inside partial tiles.
// Names the expressions read (parameters of the helpers in kernels/softmax-mask.ts):
//   pa, pb, ja, jb: u32 first/last query position of the tile and first/last key;
//   kt, qt: key and query tile; b: batch; p, j: u32 positions of the element;
//   segRow: the row's segment id; NK: i32 seqK.
// Tables are read through the helpers kernels/softmax-mask.ts defines (randomHas<n>(p, j),
// randomClass<n>(ja, jb, pa, pb), segmentClass(kt, pa, pb, b, qt), segKey(b, j)).

import type { Mask, TileRule } from '../../ir/ir.js';
import { unreachable } from '../../ir/ir.js';

/** WGSL needs `0.0`-style literals for f32 and `5i` for i32. */
export const i32Lit = (x: number) => `${x}i`;
export const u32Lit = (x: number) => `${x}u`;

export interface MaskCodegenContext {
  /** Tile rule per leaf, in the order `maskLeaves` gives. */
  readonly rules: readonly TileRule[];
  /** Each `random` leaf's number, which names its WGSL helpers (`randomClassN`, `randomHasN`). */
  readonly randomOf: ReadonlyMap<Mask, number>;
  /** Each routed leaf's number: `allowedExpr` writes `routedHasN(j)` (codegen/routing). */
  readonly routedOf?: ReadonlyMap<Mask, number>;
}

interface Visit {
  readonly prefix: string | null;
  /** Half-open key interval, i32. */
  readonly lo: string;
  readonly hi: string;
}

const ALL: Visit = { prefix: null, lo: '0i', hi: 'NK' };
const EMPTY: Visit = { prefix: null, lo: 'NK', hi: '0i' };

/**
 * `position + offset` as an i32 key bound, where `position` is a u32 name below seqK and
 * `offset` any spec offset (|offset| <= 2^31). A positive offset is added in u32 and capped at
 * NK, because `i32(pb) + 2147483648i` is not an i32 (Tint rejects the literal) and
 * `i32(pb) + 2147483647i` wraps negative at run time: either way a wide window would visit no
 * keys. A negative one cannot wrap: position >= 0 and offset > -2^31. Once per tile, not per key.
 */
function shifted(position: string, offset: number): string {
  if (offset === 0) return `i32(${position})`;
  if (offset < 0) return `i32(${position}) - ${i32Lit(-offset)}`;
  return `i32(min(${position} + ${u32Lit(offset)}, u32(NK)))`;
}

/** A constant key bound (e.g. one past the last global position), capped at NK. */
function keyBound(x: number): string {
  return x <= 0 ? i32Lit(x) : `i32(min(${u32Lit(x)}, u32(NK)))`;
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
        lo: mask.lo === null ? '0i' : shifted('pa', mask.lo),
        hi: mask.hi === null ? 'NK' : shifted('pb', mask.hi + 1),
      };
    case 'dilated': {
      const reach = mask.width * mask.dilation;
      return { prefix: null, lo: shifted('pa', -reach), hi: shifted('pb', reach + 1) };
    }
    case 'sink':
      return { prefix: u32Lit(mask.count), lo: 'NK', hi: '0i' };
    case 'global': {
      // Rows in G see every key; other rows see G itself: [0, first) and the listed positions.
      const rowsGlobal = globalRangeHits(mask, 'pa', 'pb');
      const min = mask.positions.length ? Math.min(...mask.positions) : null;
      const max = mask.positions.length ? Math.max(...mask.positions) : null;
      const lo = min === null ? 'NK' : i32Lit(min);
      const hi = max === null ? '0i' : keyBound(max + 1);
      return {
        prefix: u32Lit(mask.first),
        lo: `select(${lo}, 0i, ${rowsGlobal})`,
        hi: `select(${hi}, NK, ${rowsGlobal})`,
      };
    }
    case 'blocks': {
      const b = u32Lit(mask.size);
      // The block end may pass 2^31 - 1 (pb near seqK, a big block): capped like `shifted`.
      return {
        prefix: null,
        lo: `i32((pa / ${b}) * ${b})`,
        hi: `i32(min((pb / ${b} + 1u) * ${b}, u32(NK)))`,
      };
    }
    case 'union': {
      const parts = mask.terms.map(visitRange);
      const prefixes = parts.flatMap((v) => (v.prefix === null ? [] : [v.prefix]));
      return {
        prefix: prefixes.length === 0 ? null : prefixes.reduce((a, b) => `max(${a}, ${b})`),
        lo: parts.map((v) => v.lo).reduce((a, b) => `min(${a}, ${b})`),
        hi: parts.map((v) => v.hi).reduce((a, b) => `max(${a}, ${b})`),
      };
    }
    case 'intersect': {
      // A key every term allows lies in every term's band, or in some term's prefix and in
      // the hull of every other term: so the bands intersect, and the prefix reaches as far
      // as the widest prefix cut by the other terms' hulls. (`causal: true` intersects a
      // window | sink with causal: the sinks stay a prefix, the band stays the window, and a
      // step visits no tile in between.)
      const parts = mask.terms.map(visitRange);
      const hullHi = (v: Visit) => (v.prefix === null ? v.hi : `max(${v.hi}, i32(${v.prefix}))`);
      const prefixes = parts.flatMap((v, n) =>
        v.prefix === null
          ? []
          : [
              [
                v.prefix,
                ...parts.filter((_, m) => m !== n).map((w) => `u32(max(${hullHi(w)}, 0i))`),
              ].reduce((a, b) => `min(${a}, ${b})`),
            ],
      );
      return {
        prefix: prefixes.length === 0 ? null : prefixes.reduce((a, b) => `max(${a}, ${b})`),
        lo: parts.map((v) => v.lo).reduce((a, b) => `max(${a}, ${b})`),
        hi: parts.map((v) => v.hi).reduce((a, b) => `min(${a}, ${b})`),
      };
    }
    default:
      return unreachable(mask);
  }
}

/** Whether some position in [lo, hi] (u32 names) is in G. */
function globalRangeHits(mask: Extract<Mask, { kind: 'global' }>, lo: string, hi: string): string {
  const terms = [
    `${lo} < ${u32Lit(mask.first)}`,
    ...mask.positions.map((x) => `(${lo} <= ${u32Lit(x)} && ${u32Lit(x)} <= ${hi})`),
  ];
  return `(${terms.join(' || ')})`;
}

function globalContains(mask: Extract<Mask, { kind: 'global' }>, x: string): string {
  return `(${[`${x} < ${u32Lit(mask.first)}`, ...mask.positions.map((t) => `${x} == ${u32Lit(t)}`)].join(' || ')})`;
}

/** Classification of the tile pair ([pa, pb], [ja, jb]): 0 empty, 1 partial, 2 full. */
export function classifyTile(mask: Mask, context: MaskCodegenContext): string {
  let leaf = 0;
  const walk = (node: Mask): string => {
    switch (node.kind) {
      case 'union':
      case 'intersect': {
        const parts = node.terms.map(walk);
        const op = node.kind === 'union' ? 'max' : 'min';
        return parts.reduce((a, b) => `${op}(${a}, ${b})`);
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

function classifyBand(lo: number | null, hi: number | null): string {
  // d = j - p over the tile pair ranges over [ja - pb, jb - pa].
  const dmin = 'i32(ja) - i32(pb)';
  const dmax = 'i32(jb) - i32(pa)';
  const empty = [
    lo === null ? null : `${dmax} < ${i32Lit(lo)}`,
    hi === null ? null : `${dmin} > ${i32Lit(hi)}`,
  ].filter(Boolean);
  const full = [
    lo === null ? null : `${dmin} >= ${i32Lit(lo)}`,
    hi === null ? null : `${dmax} <= ${i32Lit(hi)}`,
  ].filter(Boolean);
  const fullExpr = full.length ? full.join(' && ') : 'true';
  const emptyExpr = empty.length ? empty.join(' || ') : 'false';
  return `select(select(1u, 2u, ${fullExpr}), 0u, ${emptyExpr})`;
}

function classifyLeaf(mask: Mask, rule: TileRule, context: MaskCodegenContext): string {
  switch (mask.kind) {
    case 'all':
      return '2u';
    case 'none':
      return '0u';
    case 'band':
      return classifyBand(mask.lo, mask.hi);
    case 'dilated': {
      const reach = mask.width * mask.dilation;
      return `min(${classifyBand(-reach, reach)}, 1u)`;
    }
    case 'stride':
      return '1u';
    case 'sink': {
      const n = u32Lit(mask.count);
      return `select(select(1u, 2u, jb < ${n}), 0u, ja >= ${n})`;
    }
    case 'global': {
      const f = u32Lit(mask.first);
      const full = `jb < ${f} || pb < ${f}`;
      const empty = `!${globalRangeHits(mask, 'ja', 'jb')} && !${globalRangeHits(mask, 'pa', 'pb')}`;
      return `select(select(1u, 2u, ${full}), 0u, ${empty})`;
    }
    case 'blocks': {
      const b = u32Lit(mask.size);
      return `select(select(1u, 2u, pa / ${b} == pb / ${b} && ja / ${b} == jb / ${b} && pa / ${b} == ja / ${b}), 0u, jb / ${b} < pa / ${b} || ja / ${b} > pb / ${b})`;
    }
    case 'random': {
      if (rule.kind !== 'random-table') throw new Error('internal error: random without table');
      return `randomClass${randomLeafIndex(mask, context)}(ja, jb, pa, pb)`;
    }
    case 'segment':
      return 'segmentClass(kt, pa, pb, b, qt)';
    case 'routed':
      return '1u';
    case 'union':
    case 'intersect':
      throw new Error('internal error: classifyLeaf on a composite');
    default:
      return unreachable(mask);
  }
}

/** `allowed(p, j)` for one element of a partial tile. */
export function allowedExpr(mask: Mask, context: MaskCodegenContext): string {
  const walk = (node: Mask): string => {
    switch (node.kind) {
      case 'all':
        return 'true';
      case 'none':
        return 'false';
      case 'band': {
        const parts = [
          node.lo === null ? null : `i32(j) - i32(p) >= ${i32Lit(node.lo)}`,
          node.hi === null ? null : `i32(j) - i32(p) <= ${i32Lit(node.hi)}`,
        ].filter(Boolean);
        return parts.length ? `(${parts.join(' && ')})` : 'true';
      }
      case 'dilated':
        return `(abs(i32(p) - i32(j)) <= ${i32Lit(node.width * node.dilation)} && (i32(p) - i32(j)) % ${i32Lit(node.dilation)} == 0i)`;
      case 'stride':
        return `((i32(p) - i32(j)) % ${i32Lit(node.step)} == 0i)`;
      case 'global':
        return `(${globalContains(node, 'j')} || ${globalContains(node, 'p')})`;
      case 'sink':
        return `(j < ${u32Lit(node.count)})`;
      case 'blocks':
        return `(p / ${u32Lit(node.size)} == j / ${u32Lit(node.size)})`;
      case 'random':
        return `randomHas${randomLeafIndex(node, context)}(p, j)`;
      case 'segment':
        return '(segRow == segKey(b, j))';
      case 'routed': {
        const index = context.routedOf?.get(node);
        if (index === undefined) throw new Error('internal error: routed leaf without index');
        return `routedHas${index}(j)`;
      }
      case 'union':
        return `(${node.terms.map(walk).join(' || ')})`;
      case 'intersect':
        return `(${node.terms.map(walk).join(' && ')})`;
      default:
        return unreachable(node);
    }
  };
  return walk(mask);
}

/** Random leaves are numbered in leaf order; the same numbering names their WGSL helpers. */
function randomLeafIndex(node: Mask, context: MaskCodegenContext): number {
  const index = context.randomOf.get(node);
  if (index === undefined) throw new Error('internal error: random leaf without index');
  return index;
}
