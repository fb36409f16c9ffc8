// f16 halves a caller hands the KV cache (a Uint16Array of binary16 bits, for a spec with
// `dtype: f16`), widened exactly to f32 for the cache's stores that take floats (recurrent
// states, routed side tables, projected rows): every half is an f32 value, and the stores pack
// them again to the same halves where they keep f16.

import type { DeviceTensor } from '../device-tensor-args.js';
import { unpackHalves } from '../f16.js';
import type { CacheInput } from './cache-inputs.js';

/** The exact f32 values of binary16 bits. */
export function widenHalves(halves: Uint16Array): Float32Array {
  const words = new Uint32Array(Math.ceil(halves.length / 2));
  new Uint16Array(words.buffer).set(halves);
  return unpackHalves(words, halves.length);
}

/**
 * A float tensor as a store takes it: f32 host data or the device tensor unchanged, halves
 * widened. `what` names the tensor and the store for the error a Uint32Array (ids, not
 * floats) gets.
 */
export function floatInput(
  x: Float32Array | Uint16Array | Uint32Array | DeviceTensor,
  what: string,
): CacheInput {
  if (x instanceof Uint16Array) return widenHalves(x);
  if (x instanceof Uint32Array) {
    throw new Error(
      `${what}: a Uint32Array holds ids, not floats; pass a Float32Array, a Uint16Array of f16 halves (dtype: f16) or a device tensor`,
    );
  }
  return x;
}
