// A loop over a row's vectors written so that Mesa's llvmpipe unrolls it. llvmpipe gives each
// invocation one budget of loop iterations for all its loops (docs/runtime.md, "llvmpipe's
// loop budget") but unrolls a loop of a constant trip count of at most UNROLLED_TRIPS, which
// then costs nothing. A per-key loop over a row of more vectors than that (head_dim > 128,
// vec4) would spend the budget on every key, so it is written as consecutive loops over
// UNROLLED_TRIPS vectors each, every one with constant bounds: all are unrolled, and the row
// costs nothing whatever its length. The copies are bounded: head_dim is at most 256
// (MAX_HEAD_DIM), so a row has at most 256 vectors, 8 loops.

import { lt, u32, type BlockBuilder } from '../build.js';
import type { Expr } from '../ir.js';

/**
 * Mesa unrolls a loop with a constant trip count of at most this many iterations, so it
 * costs nothing; a longer one is a loop (measured: 16 and 32 free, 50 and 64 not).
 */
export const UNROLLED_TRIPS = 32;

/**
 * `for (var d = 0u; d < count; d++) { body(d) }` where `count` (a constant's name) is
 * `trips`: up to UNROLLED_TRIPS that one loop, beyond it one loop per UNROLLED_TRIPS vectors
 * (`for (var d = 32u; d < 64u; d++)`, ..., the last one ending at `count`).
 */
export function forShortLoops(
  b: BlockBuilder,
  count: string,
  trips: number,
  body: (b: BlockBuilder, d: Expr) => void,
): void {
  for (let start = 0; start < trips || start === 0; start += UNROLLED_TRIPS) {
    const end = start + UNROLLED_TRIPS;
    b.for('d', u32(start), (d) => lt(d, end >= trips ? count : u32(end)), body, {
      oneLine: true,
    });
  }
}
