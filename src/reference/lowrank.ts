// Low-rank attention, language.md section 7 (non-causal, full mask only).
// linformer: project keys and values to r rows with the run-time E and F, then softmax.
// nystrom: segment-mean landmarks and the three softmaxes of the Nystromformer, with the
// pseudo-inverse by its Newton-Schulz-style iteration, exactly as the paper's code does it.

import type { CheckedGroup, LowRank } from '../check/checked.js';
import type { HeadInputs } from './head.js';
import {
  combine,
  dot,
  identity,
  type Matrix,
  matmul,
  maskedSoftmax,
  meanOfRows,
  transpose,
  weightedSum,
} from './linalg.js';

export function lowRankAttention(
  group: CheckedGroup,
  method: LowRank,
  head: HeadInputs,
): Float64Array[] {
  switch (method.kind) {
    case 'linformer':
      return linformerAttention(group, head);
    case 'nystrom':
      return nystromAttention(group, method.landmarks, method.iters, head);
    default:
      return unreachable(method);
  }
}

function linformerAttention(group: CheckedGroup, head: HeadInputs): Float64Array[] {
  if (head.E === undefined || head.F === undefined) {
    throw new Error(`reference: linformer needs the inputs 'E' and 'F'`);
  }
  const headDim = (head.q[0] as Float64Array).length;
  const projectedKeys = head.E.map((weights) => weightedSum(weights, head.k, headDim));
  const projectedValues = head.F.map((weights) => weightedSum(weights, head.v, head.valueDim));
  return head.q.map((query) => {
    const scores = projectedKeys.map((key) => group.scale * dot(query, key));
    return weightedSum(maskedSoftmax(scores), projectedValues, head.valueDim);
  });
}

/** Landmark `t` is the mean of rows `[floor(t N / m), floor((t+1) N / m))`. */
export function segmentMeans(rows: Matrix, landmarks: number, width: number): Float64Array[] {
  const n = rows.length;
  if (n < landmarks) {
    throw new Error(`reference: nystrom(${landmarks}) needs at least ${landmarks} rows, got ${n}`);
  }
  return Array.from({ length: landmarks }, (_, t) =>
    meanOfRows(rows, Math.floor((t * n) / landmarks), Math.floor(((t + 1) * n) / landmarks), width),
  );
}

/** Row-wise `softmax(scale a b^T)`. */
function softmaxScores(a: Matrix, b: Matrix, scale: number): Float64Array[] {
  return a.map((x) => maskedSoftmax(b.map((y) => scale * dot(x, y))));
}

/**
 * The Nystromformer's iterative pseudo-inverse of a square `a`:
 *   Z0 = a^T / (max column sum of a * max row sum of a)
 *   Z <- 0.25 Z (13 I - a Z (15 I - a Z (7 I - a Z)))      `iters` times
 */
export function nystromPseudoInverse(a: Matrix, iters: number): Float64Array[] {
  const n = a.length;
  const rowSums = a.map((row) => row.reduce((s, x) => s + Math.abs(x), 0));
  const colSums = Array.from({ length: n }, (_, c) =>
    a.reduce((s, row) => s + Math.abs(row[c] as number), 0),
  );
  const norm = Math.max(...colSums) * Math.max(...rowSums);
  let z = transpose(a, n).map((row) => row.map((x) => x / norm));
  const eye = identity(n);
  for (let step = 0; step < iters; step++) {
    const az = matmul(a, z, n);
    const inner = matmul(az, combine(7, eye, -1, az), n);
    const middle = matmul(az, combine(15, eye, -1, inner), n);
    z = matmul(z, combine(13, eye, -1, middle), n).map((row) => row.map((x) => 0.25 * x));
  }
  return z;
}

function nystromAttention(
  group: CheckedGroup,
  landmarks: number,
  iters: number,
  head: HeadInputs,
): Float64Array[] {
  const headDim = (head.q[0] as Float64Array).length;
  const queryLandmarks = segmentMeans(head.q, landmarks, headDim);
  const keyLandmarks = segmentMeans(head.k, landmarks, headDim);
  const kernel1 = softmaxScores(head.q, keyLandmarks, group.scale);
  const kernel2 = softmaxScores(queryLandmarks, keyLandmarks, group.scale);
  const kernel3 = softmaxScores(queryLandmarks, head.k, group.scale);
  const landmarkValues = matmul(kernel3, head.v, head.valueDim);
  const mixed = matmul(nystromPseudoInverse(kernel2, iters), landmarkValues, head.valueDim);
  return matmul(kernel1, mixed, head.valueDim);
}

function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
