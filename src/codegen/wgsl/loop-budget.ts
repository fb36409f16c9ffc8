// How many loop iterations one invocation of a fused softmax kernel (kernels/softmax.ts, rowwise
// and tiled) may run at given sizes, as a size expression the plan carries
// (`PlanKernel.loopIterations`). Mesa's llvmpipe gives each invocation one budget of 65,535
// loop iterations shared by all its loops and, once it is spent, ends every loop early with
// no error (test/runtime/llvmpipe-loop-budget.gpu.test.ts). No rearrangement of the loops
// inside one invocation avoids that, so the runtime refuses a run whose bound is over the
// device's budget instead of returning a wrong answer (docs/runtime.md, "llvmpipe's loop
// budget"). The bound must never be below what the kernel runs; it may be above.

import type { BlockPlan, Mask } from '../../ir/ir.js';
import { maskLeaves } from '../../ir/ir.js';
import { UNROLLED_TRIPS } from '../../kernel/blocks/short-loops.js';
import { size, type SizeExpr } from '../plan.js';

export { UNROLLED_TRIPS } from '../../kernel/blocks/short-loops.js';

/** A loop that runs `trips` times spends trips + 1 (its last test of the condition too). */
export function loopCost(trips: number): number {
  return trips + 1;
}

/** What a loop of `trips` constant trips spends of the budget. */
export function constantLoopCost(trips: number): number {
  return trips <= UNROLLED_TRIPS ? 0 : loopCost(trips);
}

/**
 * The visit range of one query tile (mask-exprs.ts's `visitRange`): a prefix [0, prefix) and
 * a band of key offsets [lo, hi] (inclusive) around each row, or null where it may reach the
 * whole key range (global rows, data-dependent leaves, a one-sided band).
 */
interface Reach {
  readonly prefix: number;
  readonly band: { readonly lo: number; readonly hi: number } | null;
}

function reachOf(mask: Mask): Reach | null {
  switch (mask.kind) {
    case 'none':
      return { prefix: 0, band: null };
    case 'all':
    case 'stride':
    case 'random':
    case 'segment':
    case 'routed':
    case 'global':
      return null;
    case 'band':
      return mask.lo === null || mask.hi === null
        ? null
        : { prefix: 0, band: { lo: mask.lo, hi: mask.hi } };
    case 'dilated': {
      const reach = mask.width * mask.dilation;
      return { prefix: 0, band: { lo: -reach, hi: reach } };
    }
    case 'sink':
      return { prefix: mask.count, band: null };
    case 'blocks':
      return { prefix: 0, band: { lo: -(mask.size - 1), hi: mask.size - 1 } };
    case 'union': {
      // visitRange takes the largest prefix and the hull of the bands.
      let prefix = 0;
      let band: Reach['band'] = null;
      for (const term of mask.terms) {
        const r = reachOf(term);
        if (r === null) return null;
        prefix = Math.max(prefix, r.prefix);
        if (r.band)
          band = band
            ? { lo: Math.min(band.lo, r.band.lo), hi: Math.max(band.hi, r.band.hi) }
            : r.band;
      }
      return { prefix, band };
    }
    case 'intersect':
      // visitRange intersects the terms' hulls, so it is no wider than the narrowest one.
      return null;
  }
}

/** Keys of one query tile's visit range (`queryRows` rows), or null: all of them. */
export function visitedKeysBound(mask: Mask, queryRows: number): number | null {
  if (mask.kind === 'intersect') {
    // A term with both a prefix and a band has the hull [0, p + hi]: no bound from it.
    const widths = mask.terms
      .filter((term) => {
        const r = term.kind === 'intersect' ? { prefix: 0, band: null } : reachOf(term);
        return r !== null && !(r.prefix > 0 && r.band !== null);
      })
      .map((term) => visitedKeysBound(term, queryRows))
      .filter((keys): keys is number => keys !== null);
    return widths.length === 0 ? null : Math.min(...widths);
  }
  const reach = reachOf(mask);
  if (reach === null) return null;
  const band = reach.band ? Math.max(0, reach.band.hi - reach.band.lo + queryRows) : 0;
  // A prefix and a band term of a hull (a band holding the prefix only when it is one).
  return reach.prefix + band;
}

/**
 * Key tiles of `tileKeys` keys that `classify` may find non-empty for one query tile, or
 * null: any. Per leaf the classification is exact on its range, a union is non-empty where
 * one term is, an intersection only where every term is.
 */
export function busyTilesBound(mask: Mask, queryRows: number, tileKeys: number): number | null {
  const around = (lo: number, hi: number) => Math.ceil((hi - lo + queryRows) / tileKeys) + 1;
  switch (mask.kind) {
    case 'none':
      return 0;
    case 'all':
    case 'stride':
    case 'random':
    case 'segment':
    case 'routed':
    case 'global':
      return null;
    case 'band':
      return mask.lo === null || mask.hi === null ? null : around(mask.lo, mask.hi);
    case 'dilated':
      return around(-mask.width * mask.dilation, mask.width * mask.dilation);
    case 'sink':
      return Math.ceil(mask.count / tileKeys);
    case 'blocks':
      return around(-(mask.size - 1), mask.size - 1);
    case 'union': {
      let total = 0;
      for (const term of mask.terms) {
        const tiles = busyTilesBound(term, queryRows, tileKeys);
        if (tiles === null) return null;
        total += tiles;
      }
      return total;
    }
    case 'intersect': {
      const bounds = mask.terms
        .map((term) => busyTilesBound(term, queryRows, tileKeys))
        .filter((tiles): tiles is number => tiles !== null);
      return bounds.length === 0 ? null : Math.min(...bounds);
    }
  }
}

export interface SoftmaxLoopShape {
  readonly mask: Mask;
  readonly plan: BlockPlan;
  readonly headDim: number;
  readonly valueDim: number;
  /** Head routing: a workgroup's rows are kept rows of any query tile, so no band applies. */
  readonly headRouting: boolean;
}

/**
 * An upper bound of the loop iterations one invocation of the rowwise or tiled softmax
 * kernel runs: per visited key tile one step, its classification and (tiled) the staging of
 * K/V; per key one step, the score and value loops when Mesa does not unroll them, and the
 * random leaves' table scans; per row the q, acc and output loops and the kept-row search.
 */
export function softmaxLoopIterations(shape: SoftmaxLoopShape): SizeExpr {
  const { plan, mask } = shape;
  const TQ = plan.queryTile;
  const TK = plan.keyTile;
  const W = plan.vectorWidth;
  const DW = shape.headDim / W;
  const DVW = shape.valueDim / W;
  // Every tile of the visit range takes a step and a classification; only the tiles found
  // non-empty stage K/V and walk their keys.
  const allTiles = size.ceilDiv('seqK', TK);
  const visited = shape.headRouting ? null : visitedKeysBound(mask, TQ);
  // The prefix and the band, neither aligned to tiles, touch at most ceil(n / TK) + 2 tiles.
  const visitTiles = visited === null ? allTiles : size.min(allTiles, Math.ceil(visited / TK) + 2);
  const busy = shape.headRouting ? null : busyTilesBound(mask, TQ, TK);
  const busyTiles = busy === null ? visitTiles : size.min(visitTiles, busy);
  const keys = size.min('seqK', size.mul(busyTiles, TK));
  const random = maskLeaves(mask).filter(
    (leaf): leaf is Extract<Mask, { kind: 'random' }> => leaf.kind === 'random',
  );
  // randomHas scans the row's drawn blocks per key; randomClass scans them per query block.
  const randomPerKey = random.reduce((sum, leaf) => sum + loopCost(leaf.count), 0);
  // With head routing a workgroup's rows may come from any query tile, so the per-tile scans
  // over its query blocks (random) and query tiles (segment) range over all of seqQ.
  const randomPerTile = shape.headRouting
    ? 0
    : random.reduce(
        (sum, leaf) => sum + loopCost((Math.ceil(TQ / leaf.block) + 1) * loopCost(leaf.count)),
        0,
      );
  const routedPerTile: SizeExpr[] = !shape.headRouting
    ? []
    : [
        ...random.map((leaf) =>
          size.mul(size.add(size.ceilDiv('seqQ', leaf.block), 2), loopCost(leaf.count)),
        ),
        ...(maskLeaves(mask).some((leaf) => leaf.kind === 'segment')
          ? [size.add(size.ceilDiv('seqQ', TQ), 1)]
          : []),
      ];
  // Tiled: per busy tile the K and V staging loops, the key loop's exit, and one more that
  // the measurements show (on llvmpipe 13 per tile at TK 16, D 64, where the loops make 12).
  const staging =
    plan.variant === 'tiled'
      ? loopCost(Math.ceil((TK * DW) / TQ)) + loopCost(Math.ceil((TK * DVW) / TQ)) + 2
      : 0;
  const perTile = 1 + randomPerTile;
  // The key step; the score's dot product, the lazy rescale and the value product are loops
  // of at most 32 constant trips (kernel/blocks/short-loops.ts) that Mesa unrolls, so they
  // cost nothing at any head_dim; masked tiles also run `allowed`.
  const perKey = 1 + randomPerKey;
  // q load, acc init and output store, the key loop's exit, and the kept-row binary search.
  const perRow =
    constantLoopCost(DW) + 2 * constantLoopCost(DVW) + 2 + (shape.headRouting ? 64 : 0);
  // Terms with a zero count dropped and unit factors left out, so plans stay readable.
  const terms: SizeExpr[] = [];
  const add = (count: SizeExpr, each: number) => {
    if (each === 0) return;
    if (typeof count === 'number') terms.push(count * each);
    else terms.push(each === 1 ? count : size.mul(count, each));
  };
  add(visitTiles, perTile);
  for (const scan of routedPerTile) terms.push(size.mul(visitTiles, scan));
  add(busyTiles, staging);
  add(keys, perKey);
  add(1, perRow);
  return size.add(...terms);
}

/** WebGPU's least subgroup size (`subgroupMinSize` is at least 4): the most lanes' strides. */
const MIN_SUBGROUP_SIZE = 4;

export interface SubgroupLoopShape {
  readonly mask: Mask;
  readonly plan: BlockPlan;
  readonly headDim: number;
  readonly valueDim: number;
  /** Storage units per row read (vec4, four halves, or one f32). */
  readonly unit: number;
  readonly workgroupSize: number;
}

/**
 * An upper bound of the loop iterations one invocation of the subgroup softmax kernel
 * (kernels/softmax-subgroup.ts) runs. Every loop there has a run-time start (`lid`, `lane`) or
 * end, so none is unrolled: per visited key tile its step, classification, the K/V staging
 * strided by the workgroup, and per row of the tile (a subgroup may own all TQ) the score,
 * weight and value loops, whose lane strides are at least the least subgroup size, 4.
 */
export function subgroupLoopIterations(shape: SubgroupLoopShape): SizeExpr {
  const { plan, mask, workgroupSize: WG } = shape;
  const TQ = plan.queryTile;
  const TK = plan.keyTile;
  const DU = shape.headDim / shape.unit;
  const DVU = shape.valueDim / shape.unit;
  const strided = (count: number) => loopCost(Math.ceil(count / WG));
  const lanes = (count: number) => Math.ceil(count / MIN_SUBGROUP_SIZE);
  const random = maskLeaves(mask).filter(
    (leaf): leaf is Extract<Mask, { kind: 'random' }> => leaf.kind === 'random',
  );
  const randomPerKey = random.reduce((sum, leaf) => sum + loopCost(leaf.count), 0);
  const randomPerTile = random.reduce(
    (sum, leaf) => sum + loopCost((Math.ceil(TQ / leaf.block) + 1) * loopCost(leaf.count)),
    0,
  );
  // One row of one tile: scores (a lane loop per key), weights, and per value lane a key loop.
  const perRow =
    1 +
    loopCost(TK) +
    TK * (loopCost(lanes(shape.headDim)) + randomPerKey) +
    loopCost(TK) +
    loopCost(lanes(shape.valueDim)) +
    lanes(shape.valueDim) * loopCost(TK);
  const perTile = 1 + randomPerTile + strided(TK * DU) + strided(TK * DVU) + 1 + TQ * perRow;
  const perInvocation = strided(TQ * DU) + strided(TQ * shape.valueDim) + strided(TQ) + 1;
  const tiles = size.ceilDiv('seqK', TK);
  return size.add(size.mul(tiles, perTile), perInvocation + strided(TQ * DVU));
}
