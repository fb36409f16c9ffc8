// The fuzzer's random source: one counter-based stream per input, so input `i` of seed `s`
// is the same text whichever worker draws it and whatever ran before it. Built on the
// project's own counter-based generator (src/random) rather than a second PRNG.

import { randomU32 } from '../../src/random/generator.js';

export class Rng {
  private counter = 0;

  constructor(
    private readonly seed: number,
    private readonly stream: number,
  ) {}

  /** The next u32. */
  u32(): number {
    return randomU32(this.seed, this.stream, this.counter++);
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    if (n <= 1) return 0;
    // Two draws give 53 bits, enough for any length or index used here.
    const x = this.u32() * 2 ** 21 + (this.u32() >>> 11);
    return Math.floor((x / 2 ** 53) * n);
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() < p * 2 ** 32;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[this.below(items.length)]!;
  }

  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of choices) total += w;
    let x = this.below(total);
    for (const [w, value] of choices) {
      if (x < w) return value;
      x -= w;
    }
    return choices[choices.length - 1]![1];
  }
}
