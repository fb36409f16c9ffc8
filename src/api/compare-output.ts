// How a device's output is judged against the CPU reference (`attnc run --verify` and the
// kernel variants' self-check). The error is relative: the largest absolute difference
// divided by the reference's largest magnitude. An absolute bound alone passes an all-zero
// output whenever the reference's values are themselves below the bound, which is what
// seeded random inputs give for long sequences; relative to the reference's scale, zeros
// are an error of 1.

export interface OutputComparison {
  /** Largest |output - reference|; Infinity when an output is NaN or infinite. */
  readonly maxAbsError: number;
  /** Largest |reference|. */
  readonly referenceMaxAbs: number;
  /**
   * maxAbsError / referenceMaxAbs; when the reference is all zeros, maxAbsError itself (there
   * is no scale to divide by, and any nonzero output is then wrong by that much).
   */
  readonly relativeError: number;
  /** The first index where the output differs most (-1 when output and reference agree). */
  readonly worstIndex: number;
}

export function compareOutput(output: Float32Array, expected: Float32Array): OutputComparison {
  if (output.length !== expected.length) {
    throw new Error(
      `output has ${output.length} elements but the reference has ${expected.length}`,
    );
  }
  let maxAbsError = 0;
  let referenceMaxAbs = 0;
  let worstIndex = -1;
  for (let i = 0; i < expected.length; i++) {
    referenceMaxAbs = Math.max(referenceMaxAbs, Math.abs(expected[i]!));
    const diff = Math.abs(output[i]! - expected[i]!);
    // A NaN or infinite output is the worst error there is.
    const error = Number.isFinite(diff) ? diff : Infinity;
    if (error > maxAbsError) {
      maxAbsError = error;
      worstIndex = i;
    }
  }
  const relativeError = referenceMaxAbs > 0 ? maxAbsError / referenceMaxAbs : maxAbsError;
  return { maxAbsError, referenceMaxAbs, relativeError, worstIndex };
}
