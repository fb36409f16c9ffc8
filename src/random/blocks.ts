// The key blocks of `random(r, block: b, seed: s)`: for each query block, r distinct key
// blocks drawn by a partial Fisher-Yates shuffle. Distinctness is what the language
// promises ("r distinct key blocks"), so a shuffle rather than r independent draws.

import { randomU32 } from './generator.js';

/**
 * The `count` distinct key blocks (sorted ascending) that query block `queryBlock` attends to,
 * out of `keyBlockCount` blocks, under `seed`. When `count >= keyBlockCount` every block.
 *
 * Algorithm: a = [0, 1, ..., n-1]; for t = 0 .. count-1:
 *   u = randomU32(seed, queryBlock, t); swap a[t] and a[t + (u mod (n - t))];
 * the result is a[0 .. count) sorted ascending (the modulo bias is accepted).
 */
export function randomBlocks(
  seed: number,
  queryBlock: number,
  count: number,
  keyBlockCount: number,
): number[] {
  assertCount('count', count);
  assertCount('keyBlockCount', keyBlockCount);
  assertCount('queryBlock', queryBlock);
  const blocks = Array.from({ length: keyBlockCount }, (_, t) => t);
  if (count >= keyBlockCount) return blocks;
  for (let t = 0; t < count; t++) {
    const pick = t + (randomU32(seed, queryBlock, t) % (keyBlockCount - t));
    const chosen = blocks[pick] as number;
    blocks[pick] = blocks[t] as number;
    blocks[t] = chosen;
  }
  return blocks.slice(0, count).sort((a, b) => a - b);
}

function assertCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Error(`randomBlocks: ${name} must be an integer in [0, 2^32), got ${value}`);
  }
}
