// Pass `canonicalizeMask`: rewrites each softmax mask into a smaller equivalent one, so block
// planning sees as few terms as possible. Rewrites (each exact, never an approximation):
//  - degenerate leaves: stride(1) and band(null, null) are `all`; dilated(w, 1) is a window;
//    blocks(1) and dilated(0, d) are the diagonal; sink(0) and an empty global are `none`;
//  - nested unions/intersections are flattened; `all`/`none` are absorbed;
//  - bands are merged: an intersection of bands is one band (this is how `causal: true`
//    folds into a window), overlapping or adjacent bands of a union become one band;
//  - dominated terms are dropped: in a union a term contained in another, in an intersection a
//    term containing another (containment is decided by `maskContains`, conservatively);
//  - duplicates are removed and a one-term union/intersection is its term.

import type { Attention, Mask } from '../ir/ir.js';
import { unreachable } from '../ir/ir.js';

export function canonicalizeMask(attention: Attention): Attention {
  return {
    ...attention,
    groups: attention.groups.map((group) => {
      const mechanism = group.mechanism;
      if (mechanism.kind !== 'softmax') return group;
      return { ...group, mechanism: { ...mechanism, mask: simplifyMask(mechanism.mask) } };
    }),
  };
}

export function simplifyMask(mask: Mask): Mask {
  switch (mask.kind) {
    case 'all':
    case 'none':
    case 'global':
    case 'random':
    case 'segment':
    case 'routed':
      return simplifyLeaf(mask);
    case 'band':
      if (mask.lo === null && mask.hi === null) return { kind: 'all', span: mask.span };
      if (mask.lo !== null && mask.hi !== null && mask.lo > mask.hi)
        return { kind: 'none', span: mask.span };
      return mask;
    case 'dilated':
      if (mask.dilation === 1)
        return { kind: 'band', lo: -mask.width, hi: mask.width, span: mask.span };
      if (mask.width === 0) return { kind: 'band', lo: 0, hi: 0, span: mask.span };
      return mask;
    case 'stride':
      return mask.step === 1 ? { kind: 'all', span: mask.span } : mask;
    case 'sink':
      return mask.count === 0 ? { kind: 'none', span: mask.span } : mask;
    case 'blocks':
      return mask.size === 1 ? { kind: 'band', lo: 0, hi: 0, span: mask.span } : mask;
    case 'union':
    case 'intersect':
      return simplifyNary(mask.kind, mask.terms.map(simplifyMask), mask.span);
    default:
      return unreachable(mask);
  }
}

function simplifyLeaf(mask: Mask): Mask {
  if (mask.kind === 'global' && mask.first === 0 && mask.positions.length === 0) {
    return { kind: 'none', span: mask.span };
  }
  return mask;
}

function simplifyNary(
  kind: 'union' | 'intersect',
  input: readonly Mask[],
  span: Mask['span'],
): Mask {
  const absorbing = kind === 'union' ? 'all' : 'none';
  const identity = kind === 'union' ? 'none' : 'all';
  let terms: Mask[] = input.flatMap((t) => (t.kind === kind ? [...t.terms] : [t]));
  const absorbed = terms.find((t) => t.kind === absorbing);
  if (absorbed) return { kind: absorbing, span };
  terms = terms.filter((t) => t.kind !== identity);

  const bands = terms.filter((t): t is Extract<Mask, { kind: 'band' }> => t.kind === 'band');
  const others = terms.filter((t) => t.kind !== 'band');
  const merged = kind === 'union' ? unionBands(bands) : intersectBands(bands);
  if (merged === 'none') return { kind: 'none', span };
  terms = [...merged, ...others];

  // Drop duplicates and dominated terms; keep the first of equals, so output is deterministic.
  const kept: Mask[] = [];
  terms.forEach((term, index) => {
    const dominated = terms.some((other, o) => {
      if (o === index) return false;
      const otherCovers = kind === 'union' ? maskContains(other, term) : maskContains(term, other);
      if (!otherCovers) return false;
      const mutual = kind === 'union' ? maskContains(term, other) : maskContains(other, term);
      return !mutual || o < index;
    });
    if (!dominated) kept.push(term);
  });
  if (kept.length === 0) return { kind: identity, span };
  if (kept.length === 1) return kept[0]!;
  return { kind, terms: kept, span };
}

type Band = Extract<Mask, { kind: 'band' }>;

const lower = (x: number | null) => (x === null ? -Infinity : x);
const upper = (x: number | null) => (x === null ? Infinity : x);
const finite = (x: number) => (Number.isFinite(x) ? x : null);

function intersectBands(bands: readonly Band[]): Band[] | 'none' {
  if (bands.length <= 1) return [...bands];
  const lo = Math.max(...bands.map((b) => lower(b.lo)));
  const hi = Math.min(...bands.map((b) => upper(b.hi)));
  if (lo > hi) return 'none';
  return [{ kind: 'band', lo: finite(lo), hi: finite(hi), span: bands[0]!.span }];
}

function unionBands(bands: readonly Band[]): Band[] {
  const sorted = [...bands].sort((a, b) => lower(a.lo) - lower(b.lo) || upper(a.hi) - upper(b.hi));
  const out: Band[] = [];
  for (const band of sorted) {
    const last = out[out.length - 1];
    // Integer offsets: [a, b] and [b + 1, c] are adjacent and merge too.
    if (last && lower(band.lo) <= upper(last.hi) + 1) {
      const hi = Math.max(upper(last.hi), upper(band.hi));
      out[out.length - 1] = { ...last, hi: finite(hi) };
    } else {
      out.push(band);
    }
  }
  return out;
}

/** Whether `allowed(inner) ⊆ allowed(outer)` for every p, j, input; `false` when unsure. */
export function maskContains(outer: Mask, inner: Mask): boolean {
  if (outer.kind === 'all' || inner.kind === 'none') return true;
  if (sameMask(outer, inner)) return true;
  if (inner.kind === 'union') return inner.terms.every((t) => maskContains(outer, t));
  if (outer.kind === 'intersect') return outer.terms.every((t) => maskContains(t, inner));
  if (outer.kind === 'union') return outer.terms.some((t) => maskContains(t, inner));
  if (inner.kind === 'intersect') return inner.terms.some((t) => maskContains(outer, t));
  const diagonal = inner.kind === 'band' && inner.lo === 0 && inner.hi === 0;
  switch (outer.kind) {
    case 'band':
      if (inner.kind === 'band') {
        return lower(outer.lo) <= lower(inner.lo) && upper(inner.hi) <= upper(outer.hi);
      }
      if (inner.kind === 'dilated') {
        const reach = inner.width * inner.dilation;
        return lower(outer.lo) <= -reach && reach <= upper(outer.hi);
      }
      return false;
    case 'dilated':
      if (diagonal) return true;
      return (
        inner.kind === 'dilated' &&
        inner.dilation % outer.dilation === 0 &&
        inner.width * inner.dilation <= outer.width * outer.dilation
      );
    case 'stride':
      if (diagonal) return true;
      if (inner.kind === 'stride') return inner.step % outer.step === 0;
      if (inner.kind === 'dilated') return inner.dilation % outer.step === 0;
      return false;
    case 'blocks':
      return diagonal || (inner.kind === 'blocks' && outer.size % inner.size === 0);
    case 'sink':
      return inner.kind === 'sink' && inner.count <= outer.count;
    case 'global':
      if (inner.kind === 'sink') return inner.count <= outer.first;
      if (inner.kind === 'global') {
        return (
          inner.first <= outer.first &&
          inner.positions.every((x) => x < outer.first || outer.positions.includes(x))
        );
      }
      return false;
    case 'none':
    case 'random':
    case 'segment':
    case 'routed':
      return false;
    default:
      return unreachable(outer);
  }
}

/** Structural equality, spans ignored. */
export function sameMask(a: Mask, b: Mask): boolean {
  return JSON.stringify(a, dropSpan) === JSON.stringify(b, dropSpan);
}

function dropSpan(key: string, value: unknown): unknown {
  return key === 'span' ? undefined : value;
}
