// How the split-K decode kernels (emit-decode-split.ts) cut the keys, as size expressions the
// plan evaluates at run time, so one compiled module serves every key count:
//
//   splits        = min(MAX_SPLITS, ceilDiv(min(seqK, kvRows), KEYS_PER_SPLIT))
//   tilesPerSplit = ceilDiv(min(ceilDiv(seqK, TK), ceilDiv(kvRows, TK) + 2), splits)
//
// kvRows is seqK in a plain run and the store's rows in a KV cache (codegen/plan.ts), so a
// ring's step is cut by its window, not by the absolute length.
//
// Up to MAX_SPLITS * KEYS_PER_SPLIT keys (65,536 at TK 16) every split walks at most
// KEYS_PER_SPLIT keys (rounded up to whole key tiles), so one invocation runs ~5K loop
// iterations there, far under llvmpipe's budget of 65,535, and a step of one row over 16K keys
// has 64 splits per head: 512 invocations for 8 heads, enough to fill a CPU's threads or a
// GPU's cores many times. Past that the split count stays at MAX_SPLITS and each split
// grows, which the partial kernel's loop bound (PlanKernel.loopIterations) tracks honestly.

import { size, type SizeExpr } from '../plan.js';

/** Query rows up to which the plan takes the split-K path instead of the fused kernel. */
export const DECODE_MAX_ROWS = 16;
export const KEYS_PER_SPLIT = 256;
export const MAX_SPLITS = 256;

/** Keys per split rounded up to whole key tiles. */
function tilesPerSplitTarget(keyTile: number): number {
  return Math.max(1, Math.ceil(KEYS_PER_SPLIT / keyTile));
}

/**
 * Keys a row can reach: all of seqK in a plain run, at most the store's rows in a KV cache
 * (a ring holds the window, whatever the absolute length).
 */
const reachableKeys: SizeExpr = size.min('seqK', 'kvRows');

export function decodeSplits(keyTile: number): SizeExpr {
  const keys = tilesPerSplitTarget(keyTile) * keyTile;
  return size.max(1, size.min(MAX_SPLITS, size.ceilDiv(reachableKeys, keys)));
}

/**
 * Visited tiles per split. A row visits at most every tile of seqK, and in a ring at most
 * ceil(kvRows / TK) + 2 (the prefix's and the band's partial tiles); the partial kernel
 * cuts a row's list of visits, and its last split takes any left over.
 */
export function decodeTilesPerSplit(keyTile: number): SizeExpr {
  const visits = size.min(
    size.ceilDiv('seqK', keyTile),
    size.add(size.ceilDiv('kvRows', keyTile), 2),
  );
  return size.ceilDiv(visits, decodeSplits(keyTile));
}

/** Words of one partial record: DV accumulator floats, then m and l (vec4-padded at W 4). */
export function partialRecordWords(valueDim: number, vectorWidth: number): number {
  return vectorWidth === 4 ? valueDim + 4 : valueDim + 2;
}

/**
 * Scratch words of the partial records at run time. Rows past DECODE_MAX_ROWS take the
 * fused path and need none, so the count is 0 there instead of a buffer nobody writes.
 */
export function partialScratchWords(
  heads: number,
  valueDim: number,
  vectorWidth: number,
  keyTile: number,
): SizeExpr {
  const used = size.min(1, size.max(0, size.sub(DECODE_MAX_ROWS + 1, 'seqQ')));
  return size.mul(
    'batch',
    heads,
    'seqQ',
    used,
    decodeSplits(keyTile),
    partialRecordWords(valueDim, vectorWidth),
  );
}
