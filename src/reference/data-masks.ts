// The data-dependent masks of language.md section 4 (topk, cluster, lsh) as plain functions
// of vectors: each one decides a block or bucket from numbers, so mask.ts only has to
// compare what they return. Scores are float64 dot products; ties go to the lower index.

import { gaussianMatrix } from '../random/index.js';
import { argmax, dot, meanOfRows, type Matrix } from './linalg.js';

/** Mean key of each block of `block` keys (the last block may be shorter). MoBA's block summary. */
export function keyBlockMeans(keys: Matrix, block: number, width: number): Float64Array[] {
  const count = Math.ceil(keys.length / block);
  return Array.from({ length: count }, (_, t) =>
    meanOfRows(keys, t * block, Math.min((t + 1) * block, keys.length), width),
  );
}

/**
 * MoBA's selection for one query: its own block plus the `k` candidate blocks with the
 * highest `query · mean`, ties to the lower block. Candidates are every other block, or
 * under `causal` only blocks that end before the own block (index below it).
 */
export function topkBlocks(
  query: ArrayLike<number>,
  means: Matrix,
  ownBlock: number,
  k: number,
  causal: boolean,
): Set<number> {
  const candidates: { block: number; score: number }[] = [];
  means.forEach((mean, block) => {
    if (block === ownBlock || (causal && block > ownBlock)) return;
    candidates.push({ block, score: dot(query, mean) });
  });
  candidates.sort((a, b) => b.score - a.score || a.block - b.block);
  return new Set([ownBlock, ...candidates.slice(0, k).map((c) => c.block)]);
}

/** Routing Transformer's cluster of `x`: `argmax_t x · mu_t`, ties to the lower `t`. */
export function clusterOf(x: ArrayLike<number>, centroids: Matrix): number {
  return argmax(centroids.map((mu) => dot(x, mu)));
}

/** Reformer's projection `R` `[D, buckets / 2]`, from the shared generator. */
export function lshProjection(seed: number, headDim: number, buckets: number): Float32Array {
  return gaussianMatrix(seed, headDim, buckets / 2);
}

/** Reformer's bucket `argmax([xR, -xR])`, ties to the lower index; `R` is row-major `[D, n/2]`. */
export function lshBucket(x: ArrayLike<number>, projection: Float32Array, buckets: number): number {
  const half = buckets / 2;
  const projected = new Float64Array(buckets);
  for (let c = 0; c < half; c++) {
    let sum = 0;
    for (let d = 0; d < x.length; d++)
      sum += (x[d] as number) * (projection[d * half + c] as number);
    projected[c] = sum;
    projected[half + c] = -sum;
  }
  return argmax(projected);
}
