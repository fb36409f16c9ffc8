// The reference's entry point: the meaning of a CheckedAttention as a plain loop over
// batch, group and head. Each head is cut out of its layout, handed to the mechanism its
// group declares (softmax over a mask, kernelized, or low-rank), and written back; head
// routing then reweights each query row across heads.

import type { CheckedAttention, CheckedGroup } from '../check/checked.js';
import { roundArrayToF16, roundToF16 } from './f16.js';
import type { HeadInputs } from './head.js';
import { headRoutingWeights } from './head-routing.js';
import { type ReferenceInputs, validateInputs } from './inputs.js';
import { kernelizedAttention } from './kernelized.js';
import { readHeadRows, type TensorShape, writeHeadRows } from './layout.js';
import type { Matrix } from './linalg.js';
import { lowRankAttention } from './lowrank.js';
import { softmaxAttention, softmaxAttentionWithLse } from './softmax-attention.js';

/**
 * The output `o` (`[B, H, Nq, Dv]`, or `[B, Nq, H, Dv]` under `bnhd`) of `attention` on
 * `inputs`, computed in float64 and returned as float32. Throws a descriptive Error on a
 * missing input, a wrong shape or a non-finite value.
 */
export function referenceAttention(
  attention: CheckedAttention,
  inputs: ReferenceInputs,
): Float32Array {
  return evaluate(attention, inputs, false).o;
}

/**
 * `referenceAttention`'s output and the log-sum-exp of every query row's allowed scores,
 * `lse[b][h][i] = log sum_{j in A(p)} exp(s_pj)` (`[B, H, Nq]` whatever the layout, natural
 * log, f32; -Infinity for a row with no allowed key). It is each head's own softmax
 * normalizer: head routing scales o, not the LSE, and weighted partials merge the same way.
 * Throws for a kernelized or low-rank group, which has no softmax normalizer.
 */
export function referenceAttentionWithLse(
  attention: CheckedAttention,
  inputs: ReferenceInputs,
): { o: Float32Array; lse: Float32Array } {
  const { o, lse } = evaluate(attention, inputs, true);
  return { o, lse: lse! };
}

function evaluate(
  attention: CheckedAttention,
  inputs: ReferenceInputs,
  withLse: boolean,
): { o: Float32Array; lse: Float32Array | null } {
  validateInputs(attention, inputs);
  checkGroups(attention);
  const { batch, seqQ, seqK } = inputs;
  const { layout, headDim, valueDim } = attention;
  const f16 = attention.dtype === 'f16';
  const storage = (name: string, data: Float32Array): Float32Array =>
    f16 ? roundArrayToF16(name, data) : data;
  const q = storage('q', inputs.q);
  const k = storage('k', inputs.k);
  const v = storage('v', inputs.v);

  const qShape: TensorShape = { layout, batch, heads: attention.heads, seq: seqQ, width: headDim };
  const kShape: TensorShape = {
    layout,
    batch,
    heads: attention.kvHeads,
    seq: seqK,
    width: headDim,
  };
  const vShape: TensorShape = { ...kShape, width: valueDim };
  const oShape: TensorShape = { ...qShape, width: valueDim };
  const linformer =
    inputs.E !== undefined && inputs.F !== undefined && attention.maxSeq !== undefined
      ? { E: inputs.E, F: inputs.F, maxSeq: attention.maxSeq }
      : undefined;

  if (withLse) {
    for (const group of attention.groups) {
      const mechanism = group.kernel
        ? `kernel: ${group.kernel.kind}`
        : group.lowrank
          ? `lowrank: ${group.lowrank.kind}`
          : null;
      if (mechanism !== null) {
        throw new Error(
          `reference: the log-sum-exp is not defined for group '${group.name}' (${mechanism}): ` +
            'it has no softmax over the keys, so its rows cannot be merged by LSE',
        );
      }
    }
  }
  const lse = withLse ? new Float32Array(batch * attention.heads * seqQ) : null;

  // heads[b][h]: the output rows [Nq][Dv] of head h in batch b, still in float64.
  const heads: Float64Array[][][] = [];
  for (let b = 0; b < batch; b++) {
    const segQ = inputs.seg_q?.subarray(b * seqQ, (b + 1) * seqQ);
    const segK = inputs.seg_k?.subarray(b * seqK, (b + 1) * seqK);
    const outputs: Float64Array[][] = [];
    for (const group of attention.groups) {
      for (let localHead = 0; localHead < group.heads; localHead++) {
        const h = group.headOffset + localHead;
        const kvHead = group.kvHeadOffset + Math.floor(localHead / (group.heads / group.kvHeads));
        const queries = readHeadRows(q, qShape, b, h);
        const keys = readHeadRows(k, kShape, b, kvHead);
        const head: HeadInputs = {
          seqQ,
          seqK,
          valueDim,
          localHead,
          q: queries,
          k: keys,
          v: readHeadRows(v, vShape, b, kvHead),
          mask: {
            seqQ,
            seqK,
            q: queries,
            k: keys,
            centroids:
              inputs.centroids && kvRows(inputs.centroids, attention.kvHeads, kvHead, headDim),
            segQ,
            segK,
          },
          E: linformer
            ? linformerRows(linformer.E, attention.kvHeads, kvHead, linformer.maxSeq, seqK)
            : undefined,
          F: linformer
            ? linformerRows(linformer.F, attention.kvHeads, kvHead, linformer.maxSeq, seqK)
            : undefined,
        };
        if (lse) {
          const result = softmaxAttentionWithLse(group, head);
          outputs[h] = result.rows;
          lse.set(result.lse, (b * attention.heads + h) * seqQ);
        } else {
          outputs[h] = evaluateHead(group, head);
        }
      }
    }
    heads.push(outputs);
  }

  if (attention.headRouting !== undefined && inputs.router !== undefined) {
    applyHeadRouting(heads, inputs.router, attention.headRouting.k);
  }

  const out = new Float32Array(batch * attention.heads * seqQ * valueDim);
  heads.forEach((outputs, b) =>
    outputs.forEach((rows, h) => writeHeadRows(out, oShape, b, h, rows)),
  );
  return { o: f16 ? out.map(roundToF16) : out, lse };
}

/** Section 8: scales row i of every head by its routing weight (0 for a dropped head), in place. */
function applyHeadRouting(heads: Float64Array[][][], router: Float32Array, k: number): void {
  heads.forEach((outputs, b) => {
    const seqQ = outputs[0]?.length ?? 0;
    for (let i = 0; i < seqQ; i++) {
      const start = (b * seqQ + i) * outputs.length;
      const weights = headRoutingWeights(router.subarray(start, start + outputs.length), k);
      outputs.forEach((rows, h) => {
        const row = rows[i] as Float64Array;
        row.set(row.map((x) => (weights[h] as number) * x));
      });
    }
  });
}

/** One head's output rows `[Nq][Dv]` under its group's mechanism. */
function evaluateHead(group: CheckedGroup, head: HeadInputs): Float64Array[] {
  if (group.kernel !== undefined && group.lowrank !== undefined) {
    throw new Error(`reference: group '${group.name}' has both kernel and lowrank`);
  }
  if (group.kernel !== undefined) return kernelizedAttention(group, group.kernel, head);
  if (group.lowrank !== undefined) return lowRankAttention(group, group.lowrank, head);
  return softmaxAttention(group, head);
}

/**
 * Combinations the language gives no meaning to are refused rather than guessed: softcap and
 * bias only modify softmax scores over positions, and groups must tile the heads exactly.
 */
function checkGroups(attention: CheckedAttention): void {
  let heads = 0;
  let kvHeads = 0;
  for (const group of attention.groups) {
    if (group.headOffset !== heads || group.kvHeadOffset !== kvHeads) {
      throw new Error(
        `reference: group '${group.name}' does not start where the previous group ends`,
      );
    }
    if (group.kvHeads < 1 || group.heads % group.kvHeads !== 0) {
      throw new Error(
        `reference: group '${group.name}': kv_heads ${group.kvHeads} does not divide heads ${group.heads}`,
      );
    }
    const mechanism =
      group.kernel !== undefined ? 'kernel' : group.lowrank !== undefined ? 'lowrank' : undefined;
    if (mechanism !== undefined && (group.softcap !== undefined || group.bias !== undefined)) {
      throw new Error(
        `reference: group '${group.name}': softcap and bias are only defined for softmax attention, not ${mechanism}`,
      );
    }
    heads += group.heads;
    kvHeads += group.kvHeads;
  }
  if (heads !== attention.heads || kvHeads !== attention.kvHeads) {
    throw new Error(
      `reference: the groups hold ${heads} heads and ${kvHeads} kv heads, the attention declares ${attention.heads} and ${attention.kvHeads}`,
    );
  }
}

/** Rows of kv head `kvHead` in a `[Hkv, rows, width]` input (centroids), as float64. */
function kvRows(data: Float32Array, kvHeads: number, kvHead: number, width: number): Matrix {
  const rows = data.length / (kvHeads * width);
  return Array.from({ length: rows }, (_, r) => {
    const start = (kvHead * rows + r) * width;
    return Float64Array.from(data.subarray(start, start + width));
  });
}

/** `E` or `F` of kv head `kvHead`: `[r][Nk]`, the first Nk of its max_seq columns. */
function linformerRows(
  data: Float32Array,
  kvHeads: number,
  kvHead: number,
  maxSeq: number,
  seqK: number,
): Matrix {
  return kvRows(data, kvHeads, kvHead, maxSeq).map((row) => row.subarray(0, seqK));
}
