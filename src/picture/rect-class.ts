// How a mask decides a rectangle of the score matrix (query positions [pa, pb] x keys [ja, jb]),
// in four values: every pair allowed (`yes`), none (`no`), every pair decided by the data
// (`maybe`: a routed leaf, topk/cluster/lsh, picks keys from q and k at run time), or `mixed`
// (the pairs differ; look closer). Closed forms in the bounds, like the kernels' tile
// classification (codegen/wgsl/mask-wgsl.ts), so full and empty regions of a large picture cost
// nothing per element. A closed form may answer `mixed` when unsure, never a wrong `yes`/`no`.

import { unreachable, type Mask } from '../ir/ir.js';
import { maskAllows } from '../ir/mask.js';
import { randomBlocks } from '../random/index.js';

export type RectClass = 'yes' | 'no' | 'maybe' | 'mixed';
/** One pair's answer: allowed, masked, or decided by q and k at run time. */
export type PairClass = 'yes' | 'no' | 'maybe';

export interface Rect {
  /** First and last query position (inclusive). */
  readonly pa: number;
  readonly pb: number;
  /** First and last key (inclusive). */
  readonly ja: number;
  readonly jb: number;
}

/** What a mask needs besides the pair: the key count, and segment ids for `segment`. */
export interface MaskContext {
  readonly seqK: number;
  readonly segQ?: ArrayLike<number>;
  readonly segK?: ArrayLike<number>;
}

/** One pair, query row `i` (= position: the pictures are square, seqQ = seqK) and key `j`. */
export function classifyPair(mask: Mask, i: number, j: number, context: MaskContext): PairClass {
  switch (mask.kind) {
    case 'routed':
      return 'maybe';
    case 'union': {
      let answer: PairClass = 'no';
      for (const term of mask.terms) {
        const t = classifyPair(term, i, j, context);
        if (t === 'yes') return 'yes';
        if (t === 'maybe') answer = 'maybe';
      }
      return answer;
    }
    case 'intersect': {
      let answer: PairClass = 'yes';
      for (const term of mask.terms) {
        const t = classifyPair(term, i, j, context);
        if (t === 'no') return 'no';
        if (t === 'maybe') answer = 'maybe';
      }
      return answer;
    }
    default:
      return maskAllows(mask, { i, p: i, j, ...context }) ? 'yes' : 'no';
  }
}

export function classifyRect(mask: Mask, r: Rect, context: MaskContext): RectClass {
  if (r.pa === r.pb && r.ja === r.jb) return classifyPair(mask, r.pa, r.ja, context);
  switch (mask.kind) {
    case 'all':
      return 'yes';
    case 'none':
      return 'no';
    case 'routed':
      return 'maybe';
    case 'band': {
      // d = j - p over the rectangle ranges over [ja - pb, jb - pa].
      const dMin = r.ja - r.pb;
      const dMax = r.jb - r.pa;
      if ((mask.lo !== null && dMax < mask.lo) || (mask.hi !== null && dMin > mask.hi)) return 'no';
      if ((mask.lo === null || dMin >= mask.lo) && (mask.hi === null || dMax <= mask.hi))
        return 'yes';
      return 'mixed';
    }
    case 'sink':
      return r.jb < mask.count ? 'yes' : r.ja >= mask.count ? 'no' : 'mixed';
    case 'blocks': {
      const [qa, qb] = [Math.floor(r.pa / mask.size), Math.floor(r.pb / mask.size)];
      const [ka, kb] = [Math.floor(r.ja / mask.size), Math.floor(r.jb / mask.size)];
      if (qb < ka || kb < qa) return 'no';
      return qa === qb && ka === kb ? 'yes' : 'mixed';
    }
    case 'global': {
      if (r.jb < mask.first || r.pb < mask.first) return 'yes';
      const touches = (a: number, b: number) =>
        a < mask.first || mask.positions.some((x) => x >= a && x <= b);
      return touches(r.ja, r.jb) || touches(r.pa, r.pb) ? 'mixed' : 'no';
    }
    case 'dilated': {
      const gap = Math.max(0, r.ja - r.pb, r.pa - r.jb);
      return gap > mask.width * mask.dilation ? 'no' : 'mixed';
    }
    case 'stride':
      return mask.step === 1 ? 'yes' : 'mixed';
    case 'random': {
      const qBlock = Math.floor(r.pa / mask.block);
      if (qBlock !== Math.floor(r.pb / mask.block)) return 'mixed';
      const chosen = randomBlocks(
        mask.seed,
        qBlock,
        mask.count,
        Math.ceil(context.seqK / mask.block),
      );
      const [ka, kb] = [Math.floor(r.ja / mask.block), Math.floor(r.jb / mask.block)];
      let hits = 0;
      for (let b = ka; b <= kb; b++) if (chosen.includes(b)) hits++;
      return hits === 0 ? 'no' : hits === kb - ka + 1 ? 'yes' : 'mixed';
    }
    case 'segment': {
      // The kernels' rule: per-tile [min, max] of the ids; disjoint ranges never match, one id
      // on both sides always does.
      if (!context.segQ || !context.segK)
        throw new Error('classifyRect: segment needs segQ and segK');
      const q = idRange(context.segQ, r.pa, r.pb);
      const k = idRange(context.segK, r.ja, r.jb);
      if (q.max < k.min || k.max < q.min) return 'no';
      return q.min === q.max && k.min === k.max ? 'yes' : 'mixed';
    }
    case 'union': {
      let all: RectClass = 'no';
      for (const term of mask.terms) {
        const t = classifyRect(term, r, context);
        if (t === 'yes') return 'yes';
        if (t === 'mixed') all = 'mixed';
        else if (t === 'maybe' && all === 'no') all = 'maybe';
      }
      return all;
    }
    case 'intersect': {
      let all: RectClass = 'yes';
      for (const term of mask.terms) {
        const t = classifyRect(term, r, context);
        if (t === 'no') return 'no';
        if (t === 'mixed') all = 'mixed';
        else if (t === 'maybe' && all === 'yes') all = 'maybe';
      }
      return all;
    }
    default:
      return unreachable(mask);
  }
}

function idRange(ids: ArrayLike<number>, a: number, b: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let x = a; x <= b; x++) {
    min = Math.min(min, ids[x]!);
    max = Math.max(max, ids[x]!);
  }
  return { min, max };
}

/** Whether any leaf of the mask is routed (decided from q and k at run time). */
export function hasRoutedLeaf(mask: Mask): boolean {
  if (mask.kind === 'routed') return true;
  if (mask.kind === 'union' || mask.kind === 'intersect') return mask.terms.some(hasRoutedLeaf);
  return false;
}
