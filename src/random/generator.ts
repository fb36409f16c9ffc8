// The counter-based generator behind every "documented deterministic generator" of the
// language (random masks, FAVOR+ features, LSH projections). Counter-based rather than
// stateful so that any draw can be recomputed on its own — by the CPU reference, by the
// kernels' host code, or by a reimplementation — from (seed, stream, counter) alone.
// Only 32-bit wrapping integer arithmetic (Math.imul, >>> 0) feeds the bits, so every
// platform gets the same numbers; docs/random.md states the algorithm byte for byte.

const GOLDEN_SEED = 0x9e3779b9;
const GOLDEN_STREAM = 0x85ebca6b;
const GOLDEN_COUNTER = 0xc2b2ae35;

/** 2^-24: a 24-bit integer times this is an exact float32 in [0, 1). */
const INV_2_24 = 1 / 16777216;

/** The murmur3 32-bit finalizer: a bijection on u32 with full avalanche. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The `counter`-th u32 of stream `stream` under `seed`:
 *   h = fmix32(seed + 0x9e3779b9)
 *   h = fmix32(h ^ (stream + 0x85ebca6b))
 *   h = fmix32(h ^ (counter + 0xc2b2ae35))
 * with every `+` wrapping mod 2^32. All three arguments are taken mod 2^32.
 */
export function randomU32(seed: number, stream: number, counter: number): number {
  let h = fmix32((seed + GOLDEN_SEED) >>> 0);
  h = fmix32(h ^ ((stream + GOLDEN_STREAM) >>> 0));
  h = fmix32(h ^ ((counter + GOLDEN_COUNTER) >>> 0));
  return h;
}

/** Uniform in [0, 1): the top 24 bits of `randomU32` times 2^-24 (exact in float32). */
export function randomUniform(seed: number, stream: number, counter: number): number {
  return (randomU32(seed, stream, counter) >>> 8) * INV_2_24;
}

/** Uniform in (0, 1]: (top 24 bits + 1) times 2^-24, safe to take the logarithm of. */
export function randomUniformOpen(seed: number, stream: number, counter: number): number {
  return ((randomU32(seed, stream, counter) >>> 8) + 1) * INV_2_24;
}

/**
 * The `index`-th standard normal of a stream, by Box-Muller on counters 2*index and
 * 2*index + 1 (the cosine branch only, so every normal costs exactly two draws):
 *   u1 = randomUniformOpen(seed, stream, 2 index), u2 = randomUniform(seed, stream, 2 index + 1)
 *   z  = fround(sqrt(-2 ln u1) * cos(2 pi u2))      (float64, then rounded to float32)
 */
export function randomGaussian(seed: number, stream: number, index: number): number {
  const counter = (index * 2) >>> 0;
  const u1 = randomUniformOpen(seed, stream, counter);
  const u2 = randomUniform(seed, stream, (counter + 1) >>> 0);
  return Math.fround(Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
}
