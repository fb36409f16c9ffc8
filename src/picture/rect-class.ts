// How a mask decides a rectangle of the score matrix (query positions [pa, pb] x keys [ja, jb]),
// in four values: every pair allowed (`yes`), none (`no`), every pair decided by the data
// (`maybe`: a routed leaf, topk/cluster/lsh, picks keys from q and k at run time), or `mixed`
// (the pairs may differ; look closer), or `some` (known to hold both allowed and masked pairs:
// a partial tile without looking at any pair). Closed forms in the bounds, like the kernels' tile
// classification (codegen/kernels/mask-exprs.ts), so full and empty regions of a large picture
// cost nothing per element. A closed form may answer `mixed` when unsure, never a wrong `yes`/`no`.

import { unreachable, type Mask } from '../ir/ir.js';
import { maskAllows } from '../ir/mask.js';
import { randomBlocks } from '../random/index.js';

export type RectClass = 'yes' | 'no' | 'maybe' | 'some' | 'mixed';
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
    case 'random':
      return chosenKeyBlocks(mask, Math.floor(i / mask.block), context.seqK).has(
        Math.floor(j / mask.block),
      )
        ? 'yes'
        : 'no';
    default:
      return maskAllows(mask, { i, p: i, j, ...context }) ? 'yes' : 'no';
  }
}

type RandomMask = Extract<Mask, { kind: 'random' }>;
const drawnBlocks = new WeakMap<RandomMask, { seqK: number; byBlock: Map<number, Set<number>> }>();

/** The key blocks a `random` leaf draws for one query block, drawn once per picture. */
function chosenKeyBlocks(mask: RandomMask, queryBlock: number, seqK: number): Set<number> {
  let drawn = drawnBlocks.get(mask);
  if (drawn?.seqK !== seqK) drawnBlocks.set(mask, (drawn = { seqK, byBlock: new Map() }));
  let chosen = drawn.byBlock.get(queryBlock);
  if (!chosen) {
    const keyBlocks = Math.ceil(seqK / mask.block);
    chosen = new Set(randomBlocks(mask.seed, queryBlock, mask.count, keyBlocks));
    drawn.byBlock.set(queryBlock, chosen);
  }
  return chosen;
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
      // Every offset in [dMin, dMax] occurs in the rectangle: some are in the band, some not.
      return 'some';
    }
    case 'sink':
      return r.jb < mask.count ? 'yes' : r.ja >= mask.count ? 'no' : 'some';
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
      // Allowed offsets p - j are the multiples of the dilation within +-width*dilation.
      const reach = mask.width * mask.dilation;
      const lo = Math.max(r.pa - r.jb, -reach);
      const hi = Math.min(r.pb - r.ja, reach);
      if (hi < lo || !hasMultiple(lo, hi, mask.dilation)) return 'no';
      return mask.dilation > 1 ? 'some' : 'mixed';
    }
    case 'stride':
      if (mask.step === 1) return 'yes';
      // More than one offset occurs (the rectangle is not one pair): one of them is off the step.
      return hasMultiple(r.pa - r.jb, r.pb - r.ja, mask.step) ? 'some' : 'no';
    case 'random': {
      // Per query block of the rectangle: how many of its key blocks were drawn.
      const [ka, kb] = [Math.floor(r.ja / mask.block), Math.floor(r.jb / mask.block)];
      let answer: RectClass | null = null;
      for (let q = Math.floor(r.pa / mask.block); q <= Math.floor(r.pb / mask.block); q++) {
        const chosen = chosenKeyBlocks(mask, q, context.seqK);
        let hits = 0;
        for (const b of chosen) if (b >= ka && b <= kb) hits++;
        const here: RectClass = hits === 0 ? 'no' : hits === kb - ka + 1 ? 'yes' : 'mixed';
        if (answer !== null && here !== answer) return 'mixed';
        answer = here;
        if (answer === 'mixed') return 'mixed';
      }
      return answer ?? 'mixed';
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
    case 'union':
      return combine(
        mask.terms.map((t) => classifyRect(t, r, context)),
        'yes',
        'no',
      );
    case 'intersect':
      return combine(
        mask.terms.map((t) => classifyRect(t, r, context)),
        'no',
        'yes',
      );
    default:
      return unreachable(mask);
  }
}

/**
 * A union (`absorbing` yes, `neutral` no) or intersection (absorbing no, neutral yes) of the
 * terms' classes. Neutral terms drop out; one `some` with only neutral others stays `some`.
 */
function combine(
  classes: readonly RectClass[],
  absorbing: RectClass,
  neutral: RectClass,
): RectClass {
  if (classes.includes(absorbing)) return absorbing;
  const rest = classes.filter((c) => c !== neutral);
  if (rest.length === 0) return neutral;
  if (rest.every((c) => c === 'maybe')) return 'maybe';
  if (rest.length === 1) return rest[0]!;
  return 'mixed';
}

/** Whether [lo, hi] holds a multiple of `step`. */
function hasMultiple(lo: number, hi: number, step: number): boolean {
  return Math.floor(hi / step) * step >= lo;
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
