// Rounding to IEEE binary16, for `dtype: f16`: q, k, v and o are stored in f16, so the
// reference sees the same rounded inputs as the kernels and rounds its output the same way.
// (Math.f16round is not in Node 20.)

/** Nearest f16 value (ties to even), as a float64; overflow gives +-Infinity. */
export function roundToF16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const magnitude = Math.abs(x);
  if (magnitude >= 65520) return Math.sign(x) * Infinity;
  let exponent = Math.max(Math.floor(Math.log2(magnitude)), -14);
  if (exponent > -14 && Math.pow(2, exponent) > magnitude) exponent--;
  if (Math.pow(2, exponent + 1) <= magnitude) exponent++;
  const ulp = Math.pow(2, exponent - 10);
  return Math.sign(x) * roundHalfEven(magnitude / ulp) * ulp;
}

function roundHalfEven(y: number): number {
  const floor = Math.floor(y);
  const fraction = y - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** A copy of `data` with every element rounded to f16; throws on a value f16 cannot hold. */
export function roundArrayToF16(name: string, data: Float32Array): Float32Array {
  return data.map((x, index) => {
    const rounded = roundToF16(x);
    if (!Number.isFinite(rounded)) {
      throw new Error(
        `reference: input '${name}' holds ${x} at index ${index}, beyond the f16 range (dtype: f16)`,
      );
    }
    return rounded;
  });
}
