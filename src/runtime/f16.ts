// binary16 packing for `dtype: f16` storage: the caller passes and receives Float32Array; the
// device holds two halves per u32 word (low half first, as WGSL's unpack2x16float reads them).
// Rounding is to nearest, ties to even, the same as the CPU reference's roundToF16.

// The conversion itself is @petamoriken/float16's (Node 20 has no Float16Array); only the
// range check is ours, because the runtime refuses a value f16 cannot hold instead of
// silently storing infinity. (src/reference/f16.ts rounds on its own, on purpose: the
// reference must not share code with what it checks.)

import { getFloat16, setFloat16 } from '@petamoriken/float16';

const scratch = new DataView(new ArrayBuffer(2));
const EXPONENT_ALL_ONES = 0x7c00;

/** The binary16 bits of `x`; throws (naming `input`) when it is beyond the f16 range. */
export function toHalfBits(x: number, input: string, index: number): number {
  if (!Number.isFinite(x)) {
    throw new Error(`input '${input}': element ${index} is ${x}, which f16 cannot hold`);
  }
  setFloat16(scratch, 0, x, true);
  const bits = scratch.getUint16(0, true);
  if ((bits & EXPONENT_ALL_ONES) === EXPONENT_ALL_ONES) {
    throw new Error(
      `input '${input}': element ${index} is ${x}, beyond the f16 range (dtype: f16)`,
    );
  }
  return bits;
}

export function fromHalfBits(h: number): number {
  scratch.setUint16(0, h, true);
  return getFloat16(scratch, 0, true);
}

/** Packs floats into u32 words, two halves each (an odd count leaves the last high half 0). */
export function packHalves(data: Float32Array, input: string): Uint32Array {
  const words = new Uint32Array(Math.ceil(data.length / 2));
  for (let n = 0; n < data.length; n++) {
    const bits = toHalfBits(data[n]!, input, n);
    words[n >> 1]! |= n & 1 ? bits << 16 : bits;
  }
  return words;
}

export function unpackHalves(words: Uint32Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let n = 0; n < count; n++) {
    const word = words[n >> 1]!;
    out[n] = fromHalfBits(n & 1 ? word >>> 16 : word & 0xffff);
  }
  return out;
}
