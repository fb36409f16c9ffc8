// What `attnc explain` says about a softmax group's mask at N, as data: how many scores it
// allows, how the block plan's tiles classify, and a coarse picture (a printer and, later, an
// SVG writer both read `MaskSummary`). Nothing here is O(N^2) for structured masks: a tile or
// picture cell is first classified from closed forms in its bounds (as the kernel's block plan
// does), full ones count fully, empty ones count zero, and only partial ones are evaluated per
// element.
//
// Routed leaves (topk, cluster, lsh) depend on q and k, so the mask is bracketed by two static
// masks: `lower` allows what is allowed whatever q and k are, `upper` what some q and k allow.
// Where they agree the answer is exact; where they differ the picture says "depends".

import type { Group, Mask, Routing } from '../ir/ir.js';
import { maskLeaves, unreachable } from '../ir/ir.js';
import { maskAllows } from '../ir/mask.js';
import { randomBlocks } from '../random/index.js';

/** Whether the score of query position p and key position j is allowed. */
type Predicate = (p: number, j: number) => boolean;

/** 0: nothing allowed, 1: partial (or not known in closed form), 2: all allowed. */
type TileClass = 0 | 1 | 2;

/** A cell of the picture: positions [rows) x [cols) of the score matrix. */
export type CellState = 'empty' | 'partial' | 'full' | 'depends';

export interface MaskPicture {
  /** Cells per side; each covers about N / size query and key positions. */
  readonly size: number;
  /** Positions per cell side (the first cells may hold one more). */
  readonly positionsPerCell: number;
  /** rows[r][c]: queries of cell r, keys of cell c. */
  readonly rows: readonly (readonly CellState[])[];
}

export interface RoutingBound {
  readonly routing: Routing;
  /** Keys a query may attend to through this leaf, at most (whatever q and k are). */
  readonly maxKeysPerQuery: number;
  /** Keys per query when routing spreads the keys evenly (cluster, lsh), else undefined. */
  readonly balancedKeysPerQuery?: number;
}

export interface MaskSummary {
  readonly n: number;
  readonly queryTile: number;
  readonly keyTile: number;
  /** The block plan's view: routed and unresolvable tiles count as partial. */
  readonly tiles: { readonly empty: number; readonly partial: number; readonly full: number };
  /** Scores allowed whatever q and k are, and allowed for some q and k (equal without routing). */
  readonly allowed: { readonly certain: number; readonly possible: number };
  readonly routing: readonly RoutingBound[];
  /** The mask has `segment`: the counts are for sample document ids (random-inputs.ts). */
  readonly sampledSegments: boolean;
  readonly picture?: MaskPicture;
}

export interface SegmentIds {
  readonly segQ: Uint32Array;
  readonly segK: Uint32Array;
}

export function summarizeMask(
  group: Group,
  n: number,
  pictureSize: number,
  segments?: SegmentIds,
): MaskSummary | null {
  const mechanism = group.mechanism;
  // A low-rank group's mask is always `full` (it mixes every key) and it has no tile plan.
  if (mechanism.kind === 'linear') return null;
  const mask = mechanism.mask;
  const plan = mechanism.kind === 'softmax' ? mechanism.plan : null;
  const queryTile = plan?.queryTile ?? 64;
  const keyTile = plan?.keyTile ?? 64;
  const hasSegment = maskLeaves(mask).some((leaf) => leaf.kind === 'segment');
  if (hasSegment && segments === undefined) {
    throw new Error('internal error: summarizeMask: a segment mask needs sample segment ids');
  }
  const space = new MaskSpace(n, hasSegment ? segments : undefined);
  const lower = boundRouted(mask, 'lower');
  const upper = boundRouted(mask, 'upper');
  const routed = lower !== upper;

  const tiles = { empty: 0, partial: 0, full: 0 };
  let certain = 0;
  let possible = 0;
  for (let pa = 0; pa < n; pa += queryTile) {
    const pb = Math.min(n, pa + queryTile) - 1;
    for (let ja = 0; ja < n; ja += keyTile) {
      const range = { pa, pb, ja, jb: Math.min(n, ja + keyTile) - 1 };
      const kernelClass = space.classify(mask, range);
      tiles[kernelClass === 0 ? 'empty' : kernelClass === 2 ? 'full' : 'partial']++;
      const low = space.count(lower, range);
      certain += low;
      possible += routed ? space.count(upper, range) : low;
    }
  }

  const picture =
    pictureSize > 0 ? drawPicture(space, lower, upper, Math.min(pictureSize, n)) : undefined;
  return {
    n,
    queryTile,
    keyTile,
    tiles,
    allowed: { certain, possible },
    routing: routedLeaves(mask).map((routing) => routingBound(routing, n)),
    sampledSegments: hasSegment,
    ...(picture ? { picture } : {}),
  };
}

function drawPicture(space: MaskSpace, lower: Mask, upper: Mask, size: number): MaskPicture {
  const n = space.n;
  const edge = (r: number) => Math.floor((r * n) / size);
  const rows: CellState[][] = [];
  for (let r = 0; r < size; r++) {
    const row: CellState[] = [];
    for (let c = 0; c < size; c++) {
      const range = { pa: edge(r), pb: edge(r + 1) - 1, ja: edge(c), jb: edge(c + 1) - 1 };
      const most = space.resolve(upper, range);
      const least = lower === upper ? most : space.resolve(lower, range);
      row.push(
        most === 0
          ? 'empty'
          : least === 2
            ? 'full'
            : least === 0 && lower !== upper
              ? 'depends'
              : 'partial',
      );
    }
    rows.push(row);
  }
  return { size, positionsPerCell: Math.floor(n / size), rows };
}

interface Range {
  /** First and last query position, first and last key position (inclusive). */
  readonly pa: number;
  readonly pb: number;
  readonly ja: number;
  readonly jb: number;
}

/** The square score matrix at N (queries at positions 0..N-1), with sample segment ids. */
class MaskSpace {
  private readonly blockTables = new Map<string, Set<number>>();
  private readonly predicates = new Map<Mask, Predicate>();

  constructor(
    readonly n: number,
    private readonly segments: SegmentIds | undefined,
  ) {}

  /** Allowed scores in the range: closed form where it decides, per element otherwise. */
  count(mask: Mask, range: Range): number {
    const verdict = this.classify(mask, range);
    const area = (range.pb - range.pa + 1) * (range.jb - range.ja + 1);
    if (verdict === 0) return 0;
    if (verdict === 2) return area;
    const allows = this.predicate(mask);
    let allowed = 0;
    for (let p = range.pa; p <= range.pb; p++) {
      for (let j = range.ja; j <= range.jb; j++) if (allows(p, j)) allowed++;
    }
    return allowed;
  }

  /** The exact class of the range: per element only until both kinds have been seen. */
  resolve(mask: Mask, range: Range): TileClass {
    const verdict = this.classify(mask, range);
    if (verdict !== 1) return verdict;
    const allows = this.predicate(mask);
    let seenAllowed = false;
    let seenMasked = false;
    for (let p = range.pa; p <= range.pb; p++) {
      for (let j = range.ja; j <= range.jb; j++) {
        if (allows(p, j)) seenAllowed = true;
        else seenMasked = true;
        if (seenAllowed && seenMasked) return 1;
      }
    }
    return seenAllowed ? 2 : 0;
  }

  /** Sound in both directions: 0 only if nothing is allowed, 2 only if everything is. */
  classify(mask: Mask, range: Range): TileClass {
    const { pa, pb, ja, jb } = range;
    switch (mask.kind) {
      case 'all':
        return 2;
      case 'none':
        return 0;
      case 'band':
        return classifyBand(mask.lo, mask.hi, range);
      case 'dilated': {
        const reach = mask.width * mask.dilation;
        const band = classifyBand(-reach, reach, range);
        return mask.dilation === 1 ? band : band === 0 ? 0 : 1;
      }
      case 'stride':
        return mask.step === 1 ? 2 : pa === pb && ja === jb ? this.single(mask, range) : 1;
      case 'sink':
        return ja >= mask.count ? 0 : jb < mask.count ? 2 : 1;
      case 'global': {
        const rows = globalHits(mask, pa, pb);
        const keys = globalHits(mask, ja, jb);
        if (rows === 'all' || keys === 'all') return 2;
        return rows === 'none' && keys === 'none' ? 0 : 1;
      }
      case 'blocks': {
        const b = mask.size;
        if (Math.floor(jb / b) < Math.floor(pa / b) || Math.floor(ja / b) > Math.floor(pb / b)) {
          return 0;
        }
        const oneBlock = [pb, ja, jb].every((x) => Math.floor(x / b) === Math.floor(pa / b));
        return oneBlock ? 2 : 1;
      }
      case 'random':
        return this.classifyRandom(mask, range);
      case 'segment':
        return this.classifySegment(range);
      case 'routed':
        return 1;
      case 'union': {
        let best: TileClass = 0;
        for (const term of mask.terms) {
          const c = this.classify(term, range);
          if (c === 2) return 2;
          if (c > best) best = c;
        }
        return best;
      }
      case 'intersect': {
        let worst: TileClass = 2;
        for (const term of mask.terms) {
          const c = this.classify(term, range);
          if (c === 0) return 0;
          if (c < worst) worst = c;
        }
        return worst;
      }
      default:
        return unreachable(mask);
    }
  }

  private single(mask: Mask, range: Range): TileClass {
    return this.predicate(mask)(range.pa, range.ja) ? 2 : 0;
  }

  /** `mask` as a function of (p, j), built once per mask. */
  predicate(mask: Mask): Predicate {
    let found = this.predicates.get(mask);
    if (found === undefined) {
      found = this.compile(mask);
      this.predicates.set(mask, found);
    }
    return found;
  }

  /**
   * The same meaning as `maskAllows` (ir/mask.ts; a test compares the two on every example),
   * without its per-call allocations and with random key-block tables drawn once per query
   * block instead of once per element: explain evaluates millions of elements.
   */
  private compile(mask: Mask): Predicate {
    switch (mask.kind) {
      case 'union': {
        const terms = mask.terms.map((t) => this.predicate(t));
        return (p, j) => terms.some((t) => t(p, j));
      }
      case 'intersect': {
        const terms = mask.terms.map((t) => this.predicate(t));
        return (p, j) => terms.every((t) => t(p, j));
      }
      case 'random': {
        const keyBlocks = Math.ceil(this.n / mask.block);
        return (p, j) =>
          this.randomTable(mask, Math.floor(p / mask.block), keyBlocks).has(
            Math.floor(j / mask.block),
          );
      }
      case 'global': {
        const positions = new Set(mask.positions);
        const inG = (x: number) => x < mask.first || positions.has(x);
        return (p, j) => inG(j) || inG(p);
      }
      case 'routed':
        throw new Error('internal error: explain evaluated a routed leaf per element');
      default: {
        // Positional leaves are cheap in maskAllows; one point object (with the sample
        // segment ids, when there are any) is reused.
        const at = { i: 0, p: 0, j: 0, seqK: this.n, ...this.segments };
        return (p, j) => {
          at.i = p;
          at.p = p;
          at.j = j;
          return maskAllows(mask, at);
        };
      }
    }
  }

  /** A random leaf allows whole (query block, key block) pairs; look each pair up. */
  private classifyRandom(mask: Extract<Mask, { kind: 'random' }>, range: Range): TileClass {
    const b = mask.block;
    const keyBlocks = Math.ceil(this.n / b);
    let any = false;
    let every = true;
    for (let qb = Math.floor(range.pa / b); qb <= Math.floor(range.pb / b); qb++) {
      const table = this.randomTable(mask, qb, keyBlocks);
      for (let kb = Math.floor(range.ja / b); kb <= Math.floor(range.jb / b); kb++) {
        if (table.has(kb)) any = true;
        else every = false;
        if (any && !every) return 1;
      }
    }
    return every ? 2 : 0;
  }

  private randomTable(
    mask: Extract<Mask, { kind: 'random' }>,
    queryBlock: number,
    keyBlocks: number,
  ): Set<number> {
    const key = `${mask.seed}/${mask.count}/${mask.block}/${queryBlock}`;
    let table = this.blockTables.get(key);
    if (table === undefined) {
      table = new Set(randomBlocks(mask.seed, queryBlock, mask.count, keyBlocks));
      this.blockTables.set(key, table);
    }
    return table;
  }

  /** Document ids increase along the sequence (random-inputs.ts), so a range's ids are its ends. */
  private classifySegment(range: Range): TileClass {
    const { segQ, segK } = this.segments!;
    const [qLow, qHigh] = [segQ[range.pa]!, segQ[range.pb]!];
    const [kLow, kHigh] = [segK[range.ja]!, segK[range.jb]!];
    if (qHigh < kLow || kHigh < qLow) return 0;
    return qLow === qHigh && kLow === kHigh && qLow === kLow ? 2 : 1;
  }
}

/** d = j - p over the range runs over [ja - pb, jb - pa]. */
function classifyBand(lo: number | null, hi: number | null, range: Range): TileClass {
  const dmin = range.ja - range.pb;
  const dmax = range.jb - range.pa;
  if ((lo !== null && dmax < lo) || (hi !== null && dmin > hi)) return 0;
  return (lo === null || dmin >= lo) && (hi === null || dmax <= hi) ? 2 : 1;
}

/** Whether all, some or none of the positions [a, b] are global. */
function globalHits(
  mask: Extract<Mask, { kind: 'global' }>,
  a: number,
  b: number,
): 'all' | 'some' | 'none' {
  let inside = Math.max(0, Math.min(b + 1, mask.first) - a);
  const listed = new Set(mask.positions.filter((x) => x >= Math.max(a, mask.first) && x <= b));
  inside += listed.size;
  return inside === b - a + 1 ? 'all' : inside === 0 ? 'none' : 'some';
}

/**
 * The mask with each routed leaf replaced by what it allows at least (`lower`) or at most
 * (`upper`) whatever q and k are; the same object when the mask has no routed leaf.
 * topk keeps the query's own block for sure and may add any candidate block: all blocks, or
 * under `causal` those ending before the query's block (own block or earlier: `blocks | causal`).
 */
function boundRouted(mask: Mask, side: 'lower' | 'upper'): Mask {
  switch (mask.kind) {
    case 'routed': {
      const { routing, span } = mask;
      if (routing.kind !== 'topk') return { kind: side === 'lower' ? 'none' : 'all', span };
      const own: Mask = { kind: 'blocks', size: routing.block, span };
      if (side === 'lower') return own;
      if (!routing.causal) return { kind: 'all', span };
      return { kind: 'union', terms: [own, { kind: 'band', lo: null, hi: 0, span }], span };
    }
    case 'union':
    case 'intersect': {
      const terms = mask.terms.map((term) => boundRouted(term, side));
      return terms.every((term, i) => term === mask.terms[i]) ? mask : { ...mask, terms };
    }
    default:
      return mask;
  }
}

function routedLeaves(mask: Mask): Routing[] {
  return maskLeaves(mask).flatMap((leaf) => (leaf.kind === 'routed' ? [leaf.routing] : []));
}

function routingBound(routing: Routing, n: number): RoutingBound {
  switch (routing.kind) {
    case 'topk':
      return { routing, maxKeysPerQuery: Math.min(n, (routing.k + 1) * routing.block) };
    case 'cluster':
      return {
        routing,
        maxKeysPerQuery: n,
        balancedKeysPerQuery: Math.ceil(n / routing.count),
      };
    case 'lsh':
      return {
        routing,
        maxKeysPerQuery: n,
        balancedKeysPerQuery: Math.ceil(n / routing.buckets),
      };
    default:
      return unreachable(routing);
  }
}
