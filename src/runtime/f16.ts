// binary16 packing for `dtype: f16` storage: the caller passes and receives Float32Array; the
// device holds two halves per u32 word (low half first, as WGSL's unpack2x16float reads them).
// Rounding is to nearest, ties to even, the same as the CPU reference's roundToF16.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits of `x`; throws (naming `input`) when it is beyond the f16 range. */
export function toHalfBits(x: number, input: string, index: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) {
    throw new Error(`input '${input}': element ${index} is ${x}, which f16 cannot hold`);
  }
  const e = exponent - 127 + 15;
  if (e >= 0x1f) {
    throw new Error(
      `input '${input}': element ${index} is ${x}, beyond the f16 range (dtype: f16)`,
    );
  }
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const rounded = rest > halfway || (rest === halfway && (half & 1) === 1) ? half + 1 : half;
    return sign | rounded;
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  const rounded = rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? half + 1 : half;
  if (rounded >>> 10 >= 0x1f) {
    throw new Error(
      `input '${input}': element ${index} is ${x}, beyond the f16 range (dtype: f16)`,
    );
  }
  return sign | rounded;
}

export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
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
