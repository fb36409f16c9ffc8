// How the split-K decode kernels (kernels/decode-split.ts) cut the keys, as size expressions the
// plan evaluates at run time, so one compiled module serves every key count:
//
//   splits        = min(MAX_SPLITS, max(long, short))
//   long          = ceilDiv(keys, KEYS_PER_SPLIT)
//   short         = min(ceilDiv(keys, MIN_KEYS_PER_SPLIT), ceilDiv(FILL_INVOCATIONS, rows))
//   tilesPerSplit = ceilDiv(min(ceilDiv(seqK, TK), ceilDiv(kvRows, TK) + 2), splits)
//
// keys is min(seqK, kvRows): kvRows is seqK in a plain run and the store's rows in a KV cache
// (codegen/plan.ts), so a ring's step is cut by its window, not by the absolute length. rows
// is the partial kernel's invocations per split (batch * seqQ * its heads).
//
// Up to MAX_SPLITS * KEYS_PER_SPLIT keys (65,536 at TK 16) every split walks at most
// KEYS_PER_SPLIT keys (rounded up to whole key tiles), so one invocation runs ~5K loop
// iterations there, far under llvmpipe's budget of 65,535, and a step of one row over 16K keys
// has 64 splits per head: 512 invocations for 8 heads, enough to fill a CPU's threads or a
// GPU's cores many times. Past that the split count stays at MAX_SPLITS and each split
// grows, which the partial kernel's loop bound (PlanKernel.loopIterations) tracks honestly.
//
// A short step is cut finer (`short`): at 256 keys a split, a step of one row at 1K keys and
// 2 kv heads is 8 invocations, one workgroup of 8 on llvmpipe, so one CPU thread walked all
// of it while the others idled, and under 1K keys most of that workgroup's lanes were empty
// (measured: the attend at 256 keys took 0.28 ms of device time, 0.16 ms cut in 4). So a
// step takes up to FILL_INVOCATIONS invocations (4 of llvmpipe's workgroups), with splits of
// at least MIN_KEYS_PER_SPLIT keys (each split repeats the row's setup and adds a record to
// merge). From 4K keys (one row, 2 kv heads) `long` decides, as before, on every target: 64
// invocations there cost 5-10% more than 32 on 2 threads.

import { size, type SizeExpr } from '../plan.js';

/** Query rows up to which the plan takes the split-K path instead of the fused kernel. */
export const DECODE_MAX_ROWS = 16;
export const KEYS_PER_SPLIT = 256;
export const MAX_SPLITS = 256;
/** Keys a split walks at least when a short step is cut finer (4 tiles at TK 16). */
export const MIN_KEYS_PER_SPLIT = 64;
/** Invocations of the partial kernel a short step is cut into, where its keys allow. */
export const FILL_INVOCATIONS = 32;

/** Keys per split rounded up to whole key tiles. */
function tilesPerSplitTarget(keyTile: number): number {
  return Math.max(1, Math.ceil(KEYS_PER_SPLIT / keyTile));
}

/**
 * Keys a row can reach: all of seqK in a plain run, at most the store's rows in a KV cache
 * (a ring holds the window, whatever the absolute length).
 */
const reachableKeys: SizeExpr = size.min('seqK', 'kvRows');

/**
 * The split count; `rows` is the partial kernel's invocations per split: batch * seqQ * the
 * heads it runs an invocation for (kv heads, or query heads).
 */
export function decodeSplits(keyTile: number, rows: SizeExpr): SizeExpr {
  const long = size.ceilDiv(reachableKeys, tilesPerSplitTarget(keyTile) * keyTile);
  const minKeys = Math.max(1, Math.ceil(MIN_KEYS_PER_SPLIT / keyTile)) * keyTile;
  const short = size.min(
    size.ceilDiv(reachableKeys, minKeys),
    size.ceilDiv(FILL_INVOCATIONS, rows),
  );
  return size.max(1, size.min(MAX_SPLITS, size.max(long, short)));
}

/**
 * Visited tiles per split. A row visits at most every tile of seqK, and in a ring at most
 * ceil(kvRows / TK) + 2 (the prefix's and the band's partial tiles); the partial kernel
 * cuts a row's list of visits, and its last split takes any left over.
 */
export function decodeTilesPerSplit(keyTile: number, splits: SizeExpr): SizeExpr {
  const visits = size.min(
    size.ceilDiv('seqK', keyTile),
    size.add(size.ceilDiv('kvRows', keyTile), 2),
  );
  return size.ceilDiv(visits, splits);
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
  splits: SizeExpr,
): SizeExpr {
  const used = size.min(1, size.max(0, size.sub(DECODE_MAX_ROWS + 1, 'seqQ')));
  return size.mul('batch', heads, 'seqQ', used, splits, partialRecordWords(valueDim, vectorWidth));
}
