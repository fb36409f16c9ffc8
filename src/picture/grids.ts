// The two grids a picture draws for one softmax head group at N: the mask (which (query, key)
// pairs are allowed) and the block plan (how the kernel's query x key tiles classify). Both are
// drawn at a bounded resolution: a cell covers a rectangle of pairs (or of tiles), and a cell
// whose rectangle the closed forms decide (rect-class.ts) costs nothing per element, so a
// picture at N = 65536 takes as long as one at N = 512. Only undecided cells are looked into,
// element by element while that is cheap and on a regular sample past that (then the figures
// say they are estimates).

import type { Mask } from '../ir/ir.js';
import {
  classifyPair,
  classifyRect,
  type MaskContext,
  type PairClass,
  type Rect,
  type RectClass,
} from './rect-class.js';

/** Most cells along a side: a picture never has more than this squared. */
export const MAX_CELLS_PER_SIDE = 256;
/**
 * Pairs evaluated one by one over the undecided cells of a mask picture: each cell gets an
 * equal share, every pair when that covers it, else a regular s x s sample.
 */
const MASK_PAIR_BUDGET = 2_000_000;
/** Fewest samples along a side of an undecided cell, whatever the budget. */
const MIN_SAMPLES_PER_SIDE = 4;
/** Pairs evaluated one by one to settle undecided tiles, over the whole block grid. */
const TILE_PAIR_BUDGET = 8_000_000;

export interface MaskGrid {
  readonly n: number;
  /** Cells along a side; cell c covers rows (and keys) [bounds[c], bounds[c + 1]). */
  readonly side: number;
  readonly bounds: readonly number[];
  /** Per cell, row-major: the fraction of its pairs allowed, and decided by the data. */
  readonly allowed: Float64Array;
  readonly dataDependent: Float64Array;
  /** Allowed and data-dependent pairs over the whole matrix (estimates when `exact` is false). */
  readonly allowedPairs: number;
  readonly dataDependentPairs: number;
  readonly exact: boolean;
}

export type TileClass = 'empty' | 'partial' | 'full' | 'data';
export const TILE_CLASSES: readonly TileClass[] = ['empty', 'partial', 'full', 'data'];

export interface BlockGrid {
  readonly n: number;
  readonly queryTile: number;
  readonly keyTile: number;
  readonly queryTiles: number;
  readonly keyTiles: number;
  /** Cells along each axis; a cell covers one tile or a group of tiles. */
  readonly rows: number;
  readonly cols: number;
  /** Query rows (keys) where each cell row (column) starts, and N at the end: the last tile may be short. */
  readonly rowBounds: readonly number[];
  readonly colBounds: readonly number[];
  /** Per cell, row-major, per class (TILE_CLASSES order): how many of its tiles. */
  readonly cellCounts: Uint32Array;
  /** Tiles of each class over the whole grid. */
  readonly counts: Readonly<Record<TileClass, number>>;
  /** False when the budget ran out and some undecided tiles were counted as partial unseen. */
  readonly exact: boolean;
}

/** `side + 1` cut points splitting [0, n) into `side` near-equal ranges. */
function cuts(n: number, side: number): number[] {
  return Array.from({ length: side + 1 }, (_, c) => Math.floor((c * n) / side));
}

export function maskGrid(mask: Mask, n: number, context: MaskContext): MaskGrid {
  const side = Math.min(n, MAX_CELLS_PER_SIDE);
  const bounds = cuts(n, side);
  const allowed = new Float64Array(side * side);
  const dataDependent = new Float64Array(side * side);
  let allowedPairs = 0;
  let dataDependentPairs = 0;
  let exact = true;
  const rectOf = (r: number, c: number): Rect => ({
    pa: bounds[r]!,
    pb: bounds[r + 1]! - 1,
    ja: bounds[c]!,
    jb: bounds[c + 1]! - 1,
  });
  // First every cell by its rectangle (closed forms), then the undecided ones share the budget.
  const classes = new Array<RectClass>(side * side);
  let undecided = 0;
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      classes[r * side + c] = classifyRect(mask, rectOf(r, c), context);
      if (classes[r * side + c] === 'mixed' || classes[r * side + c] === 'some') undecided++;
    }
  }
  const samplesPerSide = Math.max(
    MIN_SAMPLES_PER_SIDE,
    Math.floor(Math.sqrt(MASK_PAIR_BUDGET / Math.max(1, undecided))),
  );
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const rect = rectOf(r, c);
      const area = (rect.pb - rect.pa + 1) * (rect.jb - rect.ja + 1);
      const cls = classes[r * side + c]!;
      let yes = 0;
      let maybe = 0;
      if (cls === 'yes') yes = 1;
      else if (cls === 'maybe') maybe = 1;
      else if (cls !== 'no') {
        const counted = countPairs(mask, rect, context, samplesPerSide);
        if (!counted.exact) exact = false;
        yes = counted.yes;
        maybe = counted.maybe;
      }
      allowed[r * side + c] = yes;
      dataDependent[r * side + c] = maybe;
      allowedPairs += yes * area;
      dataDependentPairs += maybe * area;
    }
  }
  return {
    n,
    side,
    bounds,
    allowed,
    dataDependent,
    allowedPairs: Math.round(allowedPairs),
    dataDependentPairs: Math.round(dataDependentPairs),
    exact,
  };
}

/**
 * Fractions of a rectangle's pairs allowed and data-dependent: every pair when there are at
 * most `samplesPerSide` squared, else that many pairs drawn at random (seeded by the rectangle,
 * so a picture is deterministic). Random rather than a regular grid: a grid's rows and columns
 * share their spacing, so their offsets p - j alias with `stride` and `dilated` masks.
 */
function countPairs(
  mask: Mask,
  r: Rect,
  context: MaskContext,
  samplesPerSide: number,
): { yes: number; maybe: number; exact: boolean } {
  const height = r.pb - r.pa + 1;
  const width = r.jb - r.ja + 1;
  let yes = 0;
  let maybe = 0;
  const tally = (i: number, j: number) => {
    const pair = classifyPair(mask, i, j, context);
    if (pair === 'yes') yes++;
    else if (pair === 'maybe') maybe++;
  };
  const samples = samplesPerSide * samplesPerSide;
  if (height * width <= samples) {
    for (let i = r.pa; i <= r.pb; i++) for (let j = r.ja; j <= r.jb; j++) tally(i, j);
    return { yes: yes / (height * width), maybe: maybe / (height * width), exact: true };
  }
  let state = (Math.imul(r.pa + 1, 0x9e3779b1) ^ Math.imul(r.ja + 1, 0x85ebca6b)) >>> 0 || 1;
  const next = (bound: number) => {
    // xorshift32: enough to spread samples; the picture needs no statistical quality.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % bound;
  };
  for (let k = 0; k < samples; k++) tally(r.pa + next(height), r.ja + next(width));
  return { yes: yes / samples, maybe: maybe / samples, exact: false };
}

/**
 * The block plan at N: every (query tile, key tile) pair classified as the kernel sees it.
 * A tile the closed forms cannot decide is settled pair by pair (within a budget), so the
 * counts agree with counting the mask element by element.
 */
export function blockGrid(
  mask: Mask,
  n: number,
  queryTile: number,
  keyTile: number,
  context: MaskContext,
): BlockGrid {
  const queryTiles = Math.ceil(n / queryTile);
  const keyTiles = Math.ceil(n / keyTile);
  const rows = Math.min(queryTiles, MAX_CELLS_PER_SIDE);
  const cols = Math.min(keyTiles, MAX_CELLS_PER_SIDE);
  const rowCuts = cuts(queryTiles, rows);
  const colCuts = cuts(keyTiles, cols);
  const cellCounts = new Uint32Array(rows * cols * TILE_CLASSES.length);
  const counts: Record<TileClass, number> = { empty: 0, partial: 0, full: 0, data: 0 };
  let budget = TILE_PAIR_BUDGET;
  let exact = true;
  const add = (cell: number, cls: TileClass, tiles: number) => {
    cellCounts[cell * TILE_CLASSES.length + TILE_CLASSES.indexOf(cls)]! += tiles;
    counts[cls] += tiles;
  };
  const tileRect = (qa: number, qb: number, ka: number, kb: number): Rect => ({
    pa: qa * queryTile,
    pb: Math.min(n, qb * queryTile) - 1,
    ja: ka * keyTile,
    jb: Math.min(n, kb * keyTile) - 1,
  });
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const cell = r * cols + c;
      const [qa, qb, ka, kb] = [rowCuts[r]!, rowCuts[r + 1]!, colCuts[c]!, colCuts[c + 1]!];
      const group = classifyRect(mask, tileRect(qa, qb, ka, kb), context);
      if (group !== 'mixed' && group !== 'some') {
        add(cell, tileClassOf(group), (qb - qa) * (kb - ka));
        continue;
      }
      for (let qt = qa; qt < qb; qt++) {
        for (let kt = ka; kt < kb; kt++) {
          const rect = tileRect(qt, qt + 1, kt, kt + 1);
          const cls = classifyRect(mask, rect, context);
          if (cls === 'some') {
            add(cell, 'partial', 1);
            continue;
          }
          if (cls !== 'mixed') {
            add(cell, tileClassOf(cls), 1);
            continue;
          }
          if (budget <= 0) {
            exact = false;
            add(cell, 'partial', 1);
            continue;
          }
          const settled = settleTile(mask, rect, context);
          budget -= settled.pairs;
          add(cell, settled.cls, 1);
        }
      }
    }
  }
  const rowBounds = rowCuts.map((t) => Math.min(n, t * queryTile));
  const colBounds = colCuts.map((t) => Math.min(n, t * keyTile));
  return {
    n,
    queryTile,
    keyTile,
    queryTiles,
    keyTiles,
    rows,
    cols,
    rowBounds,
    colBounds,
    cellCounts,
    counts,
    exact,
  };
}

function tileClassOf(cls: 'yes' | 'no' | 'maybe'): TileClass {
  return cls === 'yes' ? 'full' : cls === 'no' ? 'empty' : 'data';
}

/**
 * An undecided tile, pair by pair: all allowed is full, none is empty, all decided by the data
 * is routed, anything else partial (the kernel looks at each element, and at the routing tables
 * for the data-dependent ones). Stops at the second kind of pair: that is partial already.
 * Returns the class and the pairs it looked at.
 */
function settleTile(mask: Mask, r: Rect, context: MaskContext): { cls: TileClass; pairs: number } {
  let first: PairClass | null = null;
  let pairs = 0;
  for (let i = r.pa; i <= r.pb; i++) {
    for (let j = r.ja; j <= r.jb; j++) {
      const pair = classifyPair(mask, i, j, context);
      pairs++;
      if (first === null) first = pair;
      else if (pair !== first) return { cls: 'partial', pairs };
    }
  }
  return { cls: first === 'yes' ? 'full' : first === 'no' ? 'empty' : 'data', pairs };
}
