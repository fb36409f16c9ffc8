// Merging attention outputs computed over disjoint key sets by their log-sum-exp: the
// cascade of split prefixes and the split-K (flash-decoding) merge. With o_t and lse_t the
// output and LSE of one row over key set t, the row over the union of the sets is
//   lse = log sum_t exp(lse_t),   o = sum_t exp(lse_t - lse) o_t,
// computed here in float64, max-subtracted. Parts with lse = -Infinity (no allowed key) weigh
// nothing; a row empty in every part stays a zero row with lse = -Infinity.

import type { Layout } from '../check/checked.js';
import { rowOffset, type TensorShape } from './layout.js';

/** One part: o in the attention's layout, lse `[B, H, Nq]`. */
export interface AttentionPartial {
  readonly o: Float32Array;
  readonly lse: Float32Array;
}

export interface PartialShape {
  readonly layout: Layout;
  readonly batch: number;
  readonly heads: number;
  readonly seqQ: number;
  readonly valueDim: number;
}

export function mergeByLse(
  shape: PartialShape,
  parts: readonly AttentionPartial[],
): AttentionPartial {
  const { batch, heads, seqQ, valueDim } = shape;
  const rows = batch * heads * seqQ;
  const elements = rows * valueDim;
  parts.forEach((part, t) => {
    if (part.o.length !== elements || part.lse.length !== rows) {
      throw new Error(
        `mergeByLse: part ${t} has ${part.o.length} output elements and ${part.lse.length} LSE ` +
          `values; [B, H, Nq, Dv] = [${batch}, ${heads}, ${seqQ}, ${valueDim}] needs ${elements} and ${rows}`,
      );
    }
  });
  const oShape: TensorShape = { layout: shape.layout, batch, heads, seq: seqQ, width: valueDim };
  const o = new Float32Array(elements);
  const lse = new Float32Array(rows);
  const acc = new Float64Array(valueDim);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < seqQ; i++) {
        const r = (b * heads + h) * seqQ + i;
        const at = rowOffset(oShape, b, h, i);
        let max = -Infinity;
        for (const part of parts) max = Math.max(max, part.lse[r]!);
        if (max === -Infinity) {
          lse[r] = -Infinity;
          continue;
        }
        acc.fill(0);
        let sum = 0;
        for (const part of parts) {
          const w = Math.exp(part.lse[r]! - max);
          if (w === 0) continue;
          sum += w;
          for (let c = 0; c < valueDim; c++) acc[c]! += w * part.o[at + c]!;
        }
        for (let c = 0; c < valueDim; c++) o[at + c] = acc[c]! / sum;
        lse[r] = max + Math.log(sum);
      }
    }
  }
  return { o, lse };
}
