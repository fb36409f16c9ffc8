// Rotary position embedding (RoPE), "rotate half" form: within each head, element i and
// element i + D/2 are rotated together by the angle position * theta^(-2i/D). The tables
// are computed here once for both models (the CPU model in float64, tfjs from float32 copies).

/** cos and sin of every (position, i < D/2) angle, `[positions.length, D/2]` row-major. */
export function ropeTables(
  firstPosition: number,
  count: number,
  headDim: number,
  theta: number,
): { readonly cos: Float64Array; readonly sin: Float64Array } {
  const half = headDim / 2;
  const cos = new Float64Array(count * half);
  const sin = new Float64Array(count * half);
  for (let t = 0; t < count; t++) {
    const position = firstPosition + t;
    for (let i = 0; i < half; i++) {
      const angle = position * Math.pow(theta, (-2 * i) / headDim);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}
