// How many loop iterations one invocation (one query row) of the routed softmax kernel
// (kernels/routed-softmax.ts) may run, as the size expression the plan carries
// (`PlanKernel.loopIterations`; docs/runtime.md, "llvmpipe's loop budget"). A row first makes
// its routing decisions (topk: a pass over the key blocks' means, or 34 for k > 64; cluster
// and lsh: its bucket), then walks each key source (the static range, the drawn random
// blocks, the chosen topk blocks, the bucket's key list) with the per-key update. The bound
// must never be below what the kernel runs; it may be above.

import type { Mask, MaskLeaf } from '../../ir/ir.js';
import { maskLeaves } from '../../ir/ir.js';
import { size, type SizeExpr } from '../plan.js';
import { constantLoopCost, loopCost, visitedKeysBound } from '../wgsl/loop-budget.js';
import type { Source } from './key-source.js';

export interface RoutedLoopShape {
  readonly mask: Mask;
  /** The kernel's key sources (`keySources(mask)`), in visiting order. */
  readonly sources: readonly Source[];
  /** topk with a larger k finds a threshold instead of a sorted choice (TOPK_SORTED_MAX). */
  readonly topkSortedMax: number;
  readonly headDim: number;
  readonly valueDim: number;
  readonly vectorWidth: 1 | 4;
  /** Head routing: the row comes from the kept-row lists (a search of at most 64 steps). */
  readonly headRouting: boolean;
}

type RoutedLeaf = Extract<MaskLeaf, { kind: 'routed' }>;

/** count x each, without a unit factor (plans stay readable). */
function times(count: SizeExpr, each: number): SizeExpr {
  return each === 1 ? count : size.mul(count, each);
}

export function routedLoopIterations(shape: RoutedLoopShape): SizeExpr {
  const { mask } = shape;
  const DW = shape.headDim / shape.vectorWidth;
  const DVW = shape.valueDim / shape.vectorWidth;
  const leaves = maskLeaves(mask);
  // One block mean's score against the query (topkKey, or the sorted pass's dot product).
  const meanScore = constantLoopCost(DW);
  const terms: SizeExpr[] = [];
  // Per row: q load and scale, acc init, output store; the kept-row search.
  terms.push(2 * constantLoopCost(DW) + 2 * constantLoopCost(DVW) + 4);
  if (shape.headRouting) terms.push(64);

  // The checks a key may run, each at most twice (`allowed`, and `seen` of a later source):
  // randomHas scans the row's drawn blocks, topkPick scores the key's block.
  let perKeyCheck = 0;
  for (const leaf of leaves) {
    if (leaf.kind === 'random') perKeyCheck += 2 * loopCost(leaf.count);
    if (
      leaf.kind === 'routed' &&
      leaf.routing.kind === 'topk' &&
      leaf.routing.k > shape.topkSortedMax
    )
      perKeyCheck += 2 * meanScore;
  }
  const perKey = 1 + perKeyCheck;

  // The routing decisions, once per row.
  for (const leaf of leaves) {
    if (leaf.kind !== 'routed') continue;
    terms.push(decisionCost(leaf, shape, meanScore));
  }

  // The key sources: their loops' steps and exits, and per key the update.
  for (const source of shape.sources) {
    if (source.kind === 'range') {
      // Two passes (prefix, band) over disjoint key ranges: a band's width, or every key.
      const visited = visitedKeysBound(source.mask, 1);
      const keys = visited === null ? 'seqK' : size.min('seqK', visited);
      terms.push(3 + 2, times(keys, perKey));
    } else if (source.kind === 'random') {
      const { count, block } = source.leaf;
      // Drawn blocks are distinct: at most count * block keys, and no more than seqK.
      terms.push(2 * loopCost(count), times(size.min('seqK', count * block), perKey));
    } else {
      const r = source.leaf.routing;
      if (r.kind === 'topk' && r.k > shape.topkSortedMax) {
        // Every key block of the hull: a step, its pick (one mean's score), the key loop's exit.
        const blocks = size.add(size.ceilDiv('seqK', r.block), 1);
        terms.push(size.mul(blocks, 2 + meanScore), times('seqK', perKey));
      } else if (r.kind === 'topk') {
        // The own block and the k chosen ones, distinct.
        terms.push(2 * loopCost(r.k + 1), times(size.min('seqK', (r.k + 1) * r.block), perKey));
      } else {
        // The bucket's sorted key list: at most every key.
        terms.push(1, times('seqK', perKey));
      }
    }
  }
  // Constants summed into one term, so plans stay readable.
  const constant = terms.reduce<number>((sum, t) => (typeof t === 'number' ? sum + t : sum), 0);
  return size.add(constant, ...terms.filter((t) => typeof t !== 'number'));
}

/** The loop iterations of one routed leaf's decision for a row. */
function decisionCost(leaf: RoutedLeaf, shape: RoutedLoopShape, meanScore: number): SizeExpr {
  const r = leaf.routing;
  if (r.kind === 'topk') {
    const candidates = size.ceilDiv('seqK', r.block);
    if (r.k > shape.topkSortedMax) {
      // 32 bit passes, the kept count and the tie cut: each a pass over the candidates.
      return size.add(size.mul(34, size.add(candidates, 1), 1 + meanScore), 33);
    }
    // Init; per candidate a step, its score, the insertion search and the shift (k + 1 each).
    return size.add(
      loopCost(r.k),
      size.mul(size.add(candidates, 1), 1 + meanScore + 2 * loopCost(r.k)),
    );
  }
  // bucketOfRow: per centroid (cluster) or projection column (lsh) a scalar dot product.
  const columns = r.kind === 'cluster' ? r.count : r.buckets / 2;
  return loopCost(columns) * (1 + constantLoopCost(shape.headDim));
}
