// Specs with every integer and number that reaches the kernels at the largest value the
// language (or a compile limit) allows, shared by the WGSL validation test (Dawn's null
// backend), the size-bound test (no GPU) and the llvmpipe runs.

import { INT_MAX, SEED_MAX } from '../../src/check/values.js';
import {
  MAX_ROUTED_HEADS,
  MAX_SCORE_CONSTANT,
  MIN_SCORE_CONSTANT,
} from '../../src/lower/compile-limits.js';
import { FAVOR_FEATURES, NYSTROM_ITERS, NYSTROM_LANDMARKS } from '../../src/check/mechanisms.js';

const M = INT_MAX;
const spec = (body: string, heads = 2, headDim = 8) =>
  `attention a { heads: ${heads}; head_dim: ${headDim}; ${body} }`;

/** [what, spec text]: each compiles without diagnostics. */
export const EXTREME_SPECS: readonly (readonly [string, string])[] = [
  ['window(max)', spec(`mask: window(${M})`)],
  ['window(left: max)', spec(`mask: window(left: ${M})`)],
  ['window(right: max)', spec(`mask: window(right: ${M})`)],
  ['window(left: max, right: max)', spec(`mask: window(left: ${M}, right: ${M})`)],
  ['window(max) causal', spec(`causal: true; mask: window(${M})`)],
  ['dilated(max, 1)', spec(`mask: dilated(${M}, 1)`)],
  ['dilated(1, max)', spec(`mask: dilated(1, ${M})`)],
  ['window(1) | global(max, 3)', spec(`mask: window(1) | global(${M}, 3)`)],
  ['global(max)', spec(`mask: global(${M})`)],
  ['global(first: max)', spec(`mask: global(first: ${M})`)],
  ['stride(max)', spec(`mask: stride(${M})`)],
  ['sink(max)', spec(`mask: sink(${M})`)],
  ['window(1) | sink(max)', spec(`mask: window(1) | sink(${M})`)],
  ['blocks(max)', spec(`mask: blocks(${M})`)],
  ['window(2) & blocks(max)', spec(`mask: window(2) & blocks(${M})`)],
  ['segment & window(max)', spec(`mask: segment & window(${M})`)],
  [
    'window | stride & sink | blocks, all max',
    spec(`mask: window(${M}) | (stride(${M}) & sink(${M})) | blocks(${M})`),
  ],
  [
    'random(max, block: max, seed: max)',
    spec(`mask: random(${M}, block: ${M}, seed: ${SEED_MAX})`),
  ],
  [
    'random(max, block: 1) & window(left: max)',
    spec(`mask: random(${M}, block: 1) & window(left: ${M})`),
  ],
  ['topk(max)', spec(`mask: topk(${M})`)],
  ['topk(max, block: 1) causal', spec(`causal: true; mask: topk(${M}, block: 1)`)],
  ['topk(1, block: max) | window(1)', spec(`mask: window(1) | topk(1, block: ${M})`)],
  ['topk(max) | sink(max) causal', spec(`causal: true; mask: topk(${M}, block: 16) | sink(${M})`)],
  ['cluster(max) & window(max)', spec(`mask: cluster(${M}) & window(${M})`)],
  [
    'lsh(max even, seed: max) | window(max) causal',
    spec(`causal: true; mask: lsh(buckets: ${M - 1}, seed: ${SEED_MAX}) | window(${M})`),
  ],
  ['heads: max', spec('', M)],
  ['heads: max, kv_heads: 1, alibi', spec('kv_heads: 1; bias: alibi', M)],
  ['head_dim and value_dim 256', spec('value_dim: 256', 2, 256)],
  ['head_dim 256, f16', spec('value_dim: 256; dtype: f16', 2, 256)],
  [
    `head_routing over ${MAX_ROUTED_HEADS} heads, top(all)`,
    spec(`head_routing: top(${MAX_ROUTED_HEADS})`, MAX_ROUTED_HEADS),
  ],
  [
    `scale, softcap ${MAX_SCORE_CONSTANT}, alibi`,
    spec(`scale: ${MAX_SCORE_CONSTANT}; softcap: ${MAX_SCORE_CONSTANT}; bias: alibi`),
  ],
  [
    `scale, softcap ${MIN_SCORE_CONSTANT}`,
    spec(`scale: ${MIN_SCORE_CONSTANT}; softcap: ${MIN_SCORE_CONSTANT}`),
  ],
  ['favor(max, seed: max)', spec(`kernel: favor(${FAVOR_FEATURES.max}, seed: ${SEED_MAX})`)],
  ['favor(max) causal', spec(`causal: true; kernel: favor(${FAVOR_FEATURES.max})`)],
  ['relu, heads: max', spec('kernel: relu', M)],
  ['linformer(max), max_seq: max', spec(`max_seq: ${M}; lowrank: linformer(${M})`)],
  [
    'nystrom(max, iters: max)',
    spec(`lowrank: nystrom(${NYSTROM_LANDMARKS.max}, iters: ${NYSTROM_ITERS.max})`),
  ],
  ['max_seq: max, window(max)', spec(`max_seq: ${M}; mask: window(${M})`)],
  [
    'groups at max',
    `attention a { head_dim: 8; group s { heads: ${M}; mask: window(${M}) }; group k { heads: ${M}; kernel: elu1 } }`,
  ],
];
