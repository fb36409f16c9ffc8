// Kernelized (linear) attention, language.md section 6:
//   o_p = sum_j phi(q_p)·phi(k_j) v_j / (sum_j phi(q_p)·phi(k_j) + 1e-6), j in A(p).
// Computed in the factored form the kernels use — a state S = sum phi(k_j) v_j^T and
// z = sum phi(k_j), grown key by key so the causal case reads a prefix — in float64.
// The tests compare it with the explicit quadratic formula.

import type { CheckedGroup, FeatureMap, MaskNode } from '../check/checked.js';
import { gaussianMatrix } from '../random/index.js';
import { type HeadInputs, queryPosition } from './head.js';
import { dot } from './linalg.js';

export const LINEAR_EPSILON = 1e-6;

/** A feature map ready to apply: FAVOR+'s W is drawn once per use, not per vector. */
export type FeatureFunction = (x: ArrayLike<number>) => Float64Array;

export function featureFunction(map: FeatureMap, headDim: number): FeatureFunction {
  switch (map.kind) {
    case 'elu1':
      return (x) => Float64Array.from(x, (v) => (v > 0 ? v + 1 : Math.exp(v)));
    case 'relu':
      return (x) => Float64Array.from(x, (v) => Math.max(v, 0));
    case 'favor': {
      const m = map.features;
      const w = gaussianMatrix(map.seed, m, headDim);
      const inputScale = Math.pow(headDim, -0.25);
      return (x) => {
        const scaled = Float64Array.from(x, (v) => v * inputScale);
        const halfNorm = dot(scaled, scaled) / 2;
        return Float64Array.from({ length: m }, (_, t) => {
          const row = w.subarray(t * headDim, (t + 1) * headDim);
          return Math.exp(dot(row, scaled) - halfNorm) / Math.sqrt(m);
        });
      };
    }
    default:
      return unreachable(map);
  }
}

/**
 * Whether a linear attention's mask is `full` or `causal` (the only two the language allows);
 * any other primitive is a checker bug and throws.
 */
export function linearMaskIsCausal(mask: MaskNode): boolean {
  switch (mask.kind) {
    case 'full':
      return false;
    case 'causal':
      return true;
    case 'intersect':
      return mask.terms.some(linearMaskIsCausal);
    case 'union':
      return mask.terms.every(linearMaskIsCausal);
    default:
      throw new Error(
        `reference: kernelized attention needs a full or causal mask, got '${mask.kind}'`,
      );
  }
}

export function kernelizedAttention(
  group: CheckedGroup,
  map: FeatureMap,
  head: HeadInputs,
): Float64Array[] {
  const causal = group.causal || linearMaskIsCausal(group.mask);
  const headDim = (head.q[0] as Float64Array).length;
  const phi = featureFunction(map, headDim);
  const keyFeatures = head.k.map((key) => phi(key));
  const featureDim = (keyFeatures[0] as Float64Array).length;
  const state = Array.from({ length: featureDim }, () => new Float64Array(head.valueDim));
  const normalizer = new Float64Array(featureDim);
  let included = 0;
  const include = (j: number): void => {
    const f = keyFeatures[j] as Float64Array;
    const value = head.v[j] as Float64Array;
    for (let t = 0; t < featureDim; t++) {
      const ft = f[t] as number;
      normalizer[t] = (normalizer[t] as number) + ft;
      const row = state[t] as Float64Array;
      for (let d = 0; d < head.valueDim; d++)
        row[d] = (row[d] as number) + ft * (value[d] as number);
    }
  };
  if (!causal) for (; included < head.seqK; included++) include(included);

  const out: Float64Array[] = [];
  for (let i = 0; i < head.seqQ; i++) {
    if (causal) for (; included <= queryPosition(head, i); included++) include(included);
    const f = phi(head.q[i] as Float64Array);
    const denominator = dot(f, normalizer) + LINEAR_EPSILON;
    const row = new Float64Array(head.valueDim);
    for (let t = 0; t < featureDim; t++) {
      const ft = f[t] as number;
      const s = state[t] as Float64Array;
      for (let d = 0; d < head.valueDim; d++) row[d] = (row[d] as number) + ft * (s[d] as number);
    }
    out.push(row.map((x) => x / denominator));
  }
  return out;
}

function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
