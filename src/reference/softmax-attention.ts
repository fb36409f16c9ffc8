// Softmax attention over a mask (language.md section 4): per query row, materialize the
// allowed set, score every key in float64 (scale, then softcap, then bias), softmax over the
// allowed keys, and average the values. An empty allowed set yields a zero row.

import type { CheckedGroup } from '../check/checked.js';
import { type HeadInputs, queryPosition } from './head.js';
import { dot, maskedSoftmax, weightedSum } from './linalg.js';
import { MaskEvaluator } from './mask.js';

/** ALiBi's slope of head `h` of a group of `heads` heads: `2^(-8 (h+1) / H)`. */
export function alibiSlope(h: number, heads: number): number {
  return Math.pow(2, (-8 * (h + 1)) / heads);
}

/** The score `s_pj` of language.md: `scale q·k`, then softcap, then bias. */
export function score(group: CheckedGroup, head: HeadInputs, i: number, j: number): number {
  let s = group.scale * dot(head.q[i] as Float64Array, head.k[j] as Float64Array);
  if (group.softcap !== undefined) s = group.softcap * Math.tanh(s / group.softcap);
  if (group.bias === 'alibi') {
    s -= alibiSlope(head.localHead, group.heads) * Math.abs(queryPosition(head, i) - j);
  }
  return s;
}

export function softmaxAttention(group: CheckedGroup, head: HeadInputs): Float64Array[] {
  return softmaxAttentionWithLse(group, head).rows;
}

/**
 * The output rows and, per row, the log-sum-exp of its allowed scores
 * `lse_p = log sum_{j in A(p)} exp(s_pj)` (natural log; -Infinity for a row with no allowed
 * key), which lets outputs over disjoint key sets be merged (src/reference/log-sum-exp.ts).
 */
export function softmaxAttentionWithLse(
  group: CheckedGroup,
  head: HeadInputs,
): { rows: Float64Array[]; lse: Float64Array } {
  const evaluator = new MaskEvaluator(head.mask);
  const rows: Float64Array[] = [];
  const lse = new Float64Array(head.seqQ);
  for (let i = 0; i < head.seqQ; i++) {
    const allowed = evaluator.row(group.mask, group.causal, i);
    const scores = Float64Array.from(allowed, (_, j) =>
      allowed[j] === true ? score(group, head, i, j) : 0,
    );
    rows.push(weightedSum(maskedSoftmax(scores, allowed), head.v, head.valueDim));
    lse[i] = logSumExp(scores, allowed);
  }
  return { rows, lse };
}

/** `log sum exp` over the allowed scores, max-subtracted; -Infinity when none is allowed. */
function logSumExp(scores: Float64Array, allowed: readonly boolean[]): number {
  let max = -Infinity;
  for (let j = 0; j < scores.length; j++) if (allowed[j] === true) max = Math.max(max, scores[j]!);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let j = 0; j < scores.length; j++)
    if (allowed[j] === true) sum += Math.exp(scores[j]! - max);
  return max + Math.log(sum);
}
