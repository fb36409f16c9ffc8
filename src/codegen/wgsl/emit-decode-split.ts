// Split-K decode kernels (flash-decoding) of one softmax group, for steps with few query rows
// (a decode step, a short chunk): the fused kernel gives each query row one invocation over
// the whole key range, so a step of one row runs one invocation per head. Here the key tiles
// are cut into `splits` ranges chosen at run time (decode-splits.ts); the partial kernel runs
// one invocation per (batch, head, row, split), walking its range's visited tiles with the
// same visit range, tile classification and per-key update as the fused kernel, and writes its
// running max, sum and accumulator to scratch; the merge kernel combines a row's splits into
// o (and the LSE). Both are WGSL templates sharing the fused kernel's pieces (mask functions,
// key update, row codecs), so the three cannot drift apart.

import type { Attention, BlockPlan, Group, Mask, Score } from '../../ir/ir.js';
import { keyRowWalk, keySlot } from '../../kernel/blocks/layout.js';
import { renderExpr } from '../../kernel/render-wgsl.js';
import { maskLeaves } from '../../ir/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import type { EmittedKernel } from './emitted-kernel.js';
import { visitRange } from './mask-wgsl.js';
import { emitKeyUpdate, rowCodec, TANH_SAFE_WGSL } from './kernel-ir-pieces.js';
import { f32Lit } from '../../kernel/f32-literal.js';
import {
  emitLseBinding,
  emitParamsStruct,
  KEY_SLOT_UNIFORMS,
  lseStore,
  lseUniforms,
  softmaxKernelSetup,
  type KernelTarget,
  type LseOutput,
  type SoftmaxArrays,
  type Uniform,
} from './softmax-kernel-setup.js';
import { auxWords, maskHelperParagraphs } from '../kernels/softmax-mask.js';
import { renderFunction } from '../../kernel/render-wgsl.js';
import { constantLoopCost, loopCost } from './loop-budget.js';
import { decodeSplits, decodeTilesPerSplit, partialRecordWords } from './decode-splits.js';

/** This kernel's wording of the segment-class comment (the fused kernel's is longer). */
const SEGMENT_CLASS_DOC = [
  'Per-tile [min, max] segment ids (the segment-ranges kernel) decide whole tiles.',
];

type Binding = { readonly name: string; readonly binding: number };

export interface DecodeBindings {
  readonly q: Binding;
  readonly k: Binding;
  readonly v: Binding;
  readonly aux: Binding | null;
  /** The scratch of partial results (read_write in the partial kernel, read in the merge). */
  readonly part: Binding;
  readonly o: Binding;
  readonly lse: LseOutput | null;
}

type FusedStep = { readonly score: Score; readonly mask: Mask; readonly plan: BlockPlan };

/**
 * Invocations per workgroup of both kernels: llvmpipe runs a workgroup's invocations as SIMD
 * lanes of 8 on one thread, so small workgroups spread a decode step over its threads; GPUs
 * get a full warp.
 */
export function decodeWorkgroup(plan: BlockPlan): number {
  return plan.variant === 'rowwise' ? 8 : 64;
}

function constants(attention: Attention, group: Group, plan: BlockPlan): string[] {
  const W = plan.vectorWidth;
  return [
    `const D: u32 = ${attention.headDim}u;`,
    `const DV: u32 = ${attention.valueDim}u;`,
    `const DW: u32 = ${attention.headDim / W}u;`,
    `const DVW: u32 = ${attention.valueDim / W}u;`,
    `const HEADS: u32 = ${group.heads}u;`,
    `const GROUP_SIZE: u32 = ${group.heads / group.kvHeads}u;`,
    `const HEAD_OFFSET: u32 = ${group.headOffset}u;`,
    `const KV_HEAD_OFFSET: u32 = ${group.kvHeadOffset}u;`,
    `const TOTAL_HEADS: u32 = ${attention.heads}u;`,
    `const TOTAL_KV_HEADS: u32 = ${attention.kvHeads}u;`,
    `const TQ: u32 = ${plan.queryTile}u;`,
    `const TK: u32 = ${plan.keyTile}u;`,
    `const REC: u32 = ${partialRecordWords(attention.valueDim, W) / W}u;`,
    `const NEG_BIG: f32 = -3.0e38;`,
  ];
}

/** The grid of both kernels: `x` from the folded workgroup id and the lane. */
function emitGridHead(emit: (line?: string) => void, workgroup: number): void {
  emit(`@compute @workgroup_size(${workgroup})`);
  emit('fn main(');
  emit('  @builtin(workgroup_id) wid: vec3<u32>,');
  emit('  @builtin(num_workgroups) nwg: vec3<u32>,');
  emit('  @builtin(local_invocation_index) lid: u32,');
  emit(') {');
  emit(`  let x = (wid.x + wid.y * nwg.x) * ${workgroup}u + lid;`);
  emit('  if (x >= P.total) { return; }');
}

/** The partial kernel: one invocation per (batch, head, row, split). */
export function emitDecodePartialKernel(
  attention: Attention,
  group: Group,
  step: FusedStep,
  bindings: DecodeBindings,
  arrays: SoftmaxArrays & { readonly part: SizeExpr },
  target: KernelTarget,
): EmittedKernel {
  const { plan, score, mask } = step;
  const W = plan.vectorWidth;
  const vec = W === 4 ? 'vec4<f32>' : 'f32';
  const codec = rowCodec(attention.dtype, W, target.nativeF16);
  const { stored, load, unitWords } = codec;
  const zero = W === 4 ? 'vec4<f32>(0.0)' : '0.0';
  const dot = (a: string, b: string) => (W === 4 ? `dot(${a}, ${b})` : `${a} * ${b}`);
  const bhnd = attention.layout === 'bhnd';
  const setup = softmaxKernelSetup(group, step, arrays, unitWords);
  const { leaves, randomLeaves, hasSegment, context, modified, qFactor } = setup;
  const splits = decodeSplits(plan.keyTile);
  const workgroup = decodeWorkgroup(plan);
  const uniforms: Uniform[] = setup.uniforms.map((u) =>
    u.name === 'total'
      ? { name: 'total', value: size.mul('batch', group.heads, 'seqQ', splits) }
      : u,
  );
  uniforms.push(...setup.randomUniforms);
  uniforms.push(
    { name: 'splits', value: splits },
    { name: 'tilesPerSplit', value: decodeTilesPerSplit(plan.keyTile) },
    { name: 'partBase', value: size.ceilDiv(arrays.part, W) },
    ...KEY_SLOT_UNIFORMS,
  );

  const L: string[] = [];
  const emit = (line = '') => L.push(line);
  for (const directive of codec.enable) emit(directive);
  emit(`// attnc split-K decode, partial: attention ${attention.name}, group ${group.name}`);
  emit(`// mask leaves: ${leaves.map((l) => l.kind).join(', ')}`);
  constants(attention, group, plan).forEach((line) => emit(line));
  emit();
  emitParamsStruct(emit, uniforms);
  emit();
  emit('@group(0) @binding(0) var<uniform> P: Params;');
  const declared = new Set<string>();
  const declare = (b: Binding, access: string, elem: string) => {
    if (declared.has(b.name)) return;
    declared.add(b.name);
    emit(`@group(0) @binding(${b.binding}) var<storage, ${access}> ${b.name}: array<${elem}>;`);
  };
  declare(bindings.q, 'read', stored);
  declare(bindings.k, 'read', stored);
  declare(bindings.v, 'read', stored);
  declare(bindings.part, 'read_write', vec);
  if (bindings.aux) declare(bindings.aux, 'read', 'u32');
  emit();
  // K/V rows through the kernel IR's one key addressing (kernel/blocks/layout.ts).
  const kWalk = keyRowWalk(attention.layout, 'TOTAL_KV_HEADS', 'DW', 'b', 'hk');
  const vWalk = keyRowWalk(attention.layout, 'TOTAL_KV_HEADS', 'DVW', 'b', 'hk');
  if (codec.helpers.length > 0) {
    codec.helpers.forEach((line) => emit(line));
    emit();
  }
  if (score.softcap !== null) {
    TANH_SAFE_WGSL.forEach((line) => emit(line));
    emit();
  }
  const aux = bindings.aux?.name;
  for (const paragraph of maskHelperParagraphs({
    mask,
    context,
    randomBlocks: randomLeaves.map((leaf) => leaf.block),
    segment: hasSegment && aux !== undefined,
    routed: false,
    word: (i) => {
      if (aux === undefined) throw new Error('internal error: mask tables without aux');
      return auxWords(aux)(i);
    },
  })) {
    paragraph
      .map((fn) => (fn.name === 'segmentClass' ? { ...fn, doc: SEGMENT_CLASS_DOC } : fn))
      .flatMap(renderFunction)
      .forEach((line) => emit(line));
    emit();
  }

  const visit = visitRange(mask);
  emitGridHead(emit, workgroup);
  emit('  // x = ((b * HEADS + hl) * seqQ + row) * splits + split');
  emit('  let split = x % P.splits;');
  emit('  let r = x / P.splits;');
  emit('  let row = r % P.seqQ;');
  emit('  let bh = r / P.seqQ;');
  emit('  let hl = bh % HEADS;');
  emit('  let b = bh / HEADS;');
  emit('  let h = HEAD_OFFSET + hl;');
  emit('  let hk = KV_HEAD_OFFSET + hl / GROUP_SIZE;');
  emit('  let p = row + P.seqK - P.seqQ;');
  emit('  // The mask functions see a query tile of this one row (exact, never wider).');
  emit('  let pa = p;');
  emit('  let pb = p;');
  emit('  let qt = row / TQ;');
  if (bhnd) {
    emit('  let qRow = P.qBase + ((b * TOTAL_HEADS + h) * P.seqQ + row) * DW;');
    emit(`  let kBase0 = P.kBase + ${renderExpr(kWalk.first)};`);
    emit(`  let vBase0 = P.vBase + ${renderExpr(vWalk.first)};`);
  } else {
    emit('  let qRow = P.qBase + ((b * P.seqQ + row) * TOTAL_HEADS + h) * DW;');
    emit(`  let kBase0 = P.kBase + ${renderExpr(kWalk.first)};`);
    emit(`  let vBase0 = P.vBase + ${renderExpr(vWalk.first)};`);
  }
  emit(`  var qrow: array<${vec}, DW>;`);
  emit(`  var acc: array<${vec}, DVW>;`);
  emit(
    `  for (var d = 0u; d < DW; d++) { qrow[d] = ${load(`${bindings.q.name}[qRow + d]`)} * ${f32Lit(qFactor)}; }`,
  );
  emit(`  for (var d = 0u; d < DVW; d++) { acc[d] = ${zero}; }`);
  emit('  var m = NEG_BIG;');
  emit('  var l = 0.0;');
  if (score.bias === 'alibi') emit('  let slope = exp2(-8.0 * f32(hl + 1u) / f32(HEADS));');
  emit(
    `  let segRow = ${hasSegment ? `${bindings.aux!.name}[P.segQBase + b * P.seqQ + row]` : '0u'};`,
  );
  emit('  // The row visits the key tiles of [0, prefix) and [lo, hi), as in the fused kernel;');
  emit('  // the splits cut that list of visits (not the whole key range, so a ring step of a');
  emit('  // long context costs its window), this invocation visits [first, end) of it, and the');
  emit('  // last split takes whatever a loose visit range left over.');
  emit('  let NK = i32(P.seqK);');
  emit(`  let prefixEnd = min(${visit.prefix ?? '0u'}, P.seqK);`);
  emit(`  let lo = u32(clamp(${visit.lo}, 0i, NK));`);
  emit(`  let hi = u32(clamp(${visit.hi}, 0i, NK));`);
  emit('  let prefixTiles = (prefixEnd + TK - 1u) / TK;');
  emit('  let bandFirst = max(prefixTiles, lo / TK);');
  emit('  let bandEnd = max(bandFirst, (hi + TK - 1u) / TK);');
  emit('  let rowVisits = prefixTiles + bandEnd - bandFirst;');
  emit('  let splitFirst = min(split * P.tilesPerSplit, rowVisits);');
  emit('  let splitEnd = min(splitFirst + P.tilesPerSplit, rowVisits);');
  emit('  let visits = select(splitEnd, rowVisits, split + 1u == P.splits);');
  emit('  var n = splitFirst;');
  emit('  let aTiles = prefixTiles;');
  emit('  var j = 0u;');
  emit('  var tileEnd = 0u;');
  emit('  var masked = false;');
  emit('  loop {');
  emit('    if (j >= tileEnd) {');
  emit('      if (n >= visits) { break; }');
  emit('      let kt = select(bandFirst + n - aTiles, n, n < aTiles);');
  emit('      n++;');
  emit('      j = kt * TK;');
  emit('      let j1 = min(j + TK, P.seqK);');
  emit('      let c = classify(kt, j, j1 - 1u, pa, pb, b, qt);');
  emit('      // An empty tile ends where it starts, so the next pass steps on.');
  emit('      tileEnd = select(j1, j, c == 0u);');
  emit('      masked = c == 1u;');
  emit('      continue;');
  emit('    }');
  emit('    if (masked) {');
  emit('      if (!allowed(p, j, b, segRow)) { j++; continue; }');
  emit('    }');
  emit(`    let slot = ${renderExpr(keySlot('j'))};`);
  emit(`    let kRow = ${renderExpr(kWalk.atSlot('kBase0', 'slot'))};`);
  emit(`    let vRow = ${renderExpr(vWalk.atSlot('vBase0', 'slot'))};`);
  emitKeyUpdate((line) => emit('    ' + line), {
    score,
    modified,
    kAt: load(`${bindings.k.name}[kRow + d]`),
    vAt: load(`${bindings.v.name}[vRow + d]`),
    dot,
    vectors: attention.headDim / W,
    valueVectors: attention.valueDim / W,
  });
  emit('    j++;');
  emit('  }');
  emit('  // The record: acc (DV floats), then the running max and sum (base 2).');
  emit('  let rec = P.partBase + x * REC;');
  const part = bindings.part.name;
  emit(`  for (var d = 0u; d < DVW; d++) { ${part}[rec + d] = acc[d]; }`);
  if (W === 4) emit(`  ${part}[rec + DVW] = vec4<f32>(m, l, 0.0, 0.0);`);
  else {
    emit(`  ${part}[rec + DVW] = m;`);
    emit(`  ${part}[rec + DVW + 1u] = l;`);
  }
  emit('}');
  return {
    wgsl: L.join('\n') + '\n',
    workgroupSize: workgroup,
    uniforms,
    loopIterations: partialLoopIterations(step, attention),
  };
}

/**
 * An upper bound of the partial kernel's loop iterations per invocation: at most
 * `tilesPerSplit` tiles, each a step and a classification (with the random leaves' scans),
 * at most `tilesPerSplit * TK` keys, each a step, the score and value loops and the random
 * leaves' per-key scans, and per row the q, acc and record loops.
 */
function partialLoopIterations(step: FusedStep, attention: Attention): SizeExpr {
  const { plan, mask } = step;
  const W = plan.vectorWidth;
  const DW = attention.headDim / W;
  const DVW = attention.valueDim / W;
  const random = maskLeaves(mask).filter(
    (leaf): leaf is Extract<Mask, { kind: 'random' }> => leaf.kind === 'random',
  );
  const randomPerKey = random.reduce((sum, leaf) => sum + loopCost(leaf.count), 0);
  const randomPerTile = random.reduce(
    (sum, leaf) =>
      sum + loopCost((Math.ceil(plan.queryTile / leaf.block) + 1) * loopCost(leaf.count)),
    0,
  );
  const tiles = decodeTilesPerSplit(plan.keyTile);
  const keys = size.min('seqK', size.mul(tiles, plan.keyTile));
  const perKey = 1 + constantLoopCost(DW) + 2 * constantLoopCost(DVW) + randomPerKey;
  const perRow = constantLoopCost(DW) + 2 * constantLoopCost(DVW) + 2;
  return size.add(size.mul(tiles, 1 + randomPerTile), size.mul(keys, perKey), perRow);
}

/** The merge kernel: one invocation per (batch, head, row) combines its splits' records. */
export function emitDecodeMergeKernel(
  attention: Attention,
  group: Group,
  plan: BlockPlan,
  bindings: DecodeBindings,
  arrays: { readonly part: SizeExpr; readonly o: SizeExpr },
  target: KernelTarget,
): EmittedKernel {
  const W = plan.vectorWidth;
  const vec = W === 4 ? 'vec4<f32>' : 'f32';
  const codec = rowCodec(attention.dtype, W, target.nativeF16);
  const { stored, store, unitWords } = codec;
  const zero = W === 4 ? 'vec4<f32>(0.0)' : '0.0';
  const bhnd = attention.layout === 'bhnd';
  const workgroup = decodeWorkgroup(plan);
  const lse = bindings.lse;
  const uniforms: Uniform[] = [
    { name: 'seqQ', value: 'seqQ' },
    { name: 'total', value: size.mul('batch', group.heads, 'seqQ') },
    { name: 'splits', value: decodeSplits(plan.keyTile) },
    { name: 'partBase', value: size.ceilDiv(arrays.part, W) },
    { name: 'oBase', value: size.ceilDiv(arrays.o, unitWords) },
    ...lseUniforms(lse),
  ];
  const L: string[] = [];
  const emit = (line = '') => L.push(line);
  for (const directive of codec.enable) emit(directive);
  emit(`// attnc split-K decode, merge: attention ${attention.name}, group ${group.name}`);
  constants(attention, group, plan).forEach((line) => emit(line));
  emit();
  emitParamsStruct(emit, uniforms);
  emit();
  emit('@group(0) @binding(0) var<uniform> P: Params;');
  const part = bindings.part.name;
  emit(`@group(0) @binding(${bindings.part.binding}) var<storage, read> ${part}: array<${vec}>;`);
  emit(
    `@group(0) @binding(${bindings.o.binding}) var<storage, read_write> ${bindings.o.name}: array<${stored}>;`,
  );
  if (lse) emitLseBinding(emit, lse);
  emit();
  if (codec.helpers.length > 0) {
    codec.helpers.forEach((line) => emit(line));
    emit();
  }
  const mAt = (rec: string) => (W === 4 ? `${part}[${rec} + DVW].x` : `${part}[${rec} + DVW]`);
  const lAt = (rec: string) => (W === 4 ? `${part}[${rec} + DVW].y` : `${part}[${rec} + DVW + 1u]`);
  emitGridHead(emit, workgroup);
  emit('  // x = (b * HEADS + hl) * seqQ + row, whose records are x * splits + split.');
  emit('  let row = x % P.seqQ;');
  emit('  let bh = x / P.seqQ;');
  emit('  let hl = bh % HEADS;');
  emit('  let b = bh / HEADS;');
  emit('  let h = HEAD_OFFSET + hl;');
  if (bhnd) emit('  let oRow = P.oBase + ((b * TOTAL_HEADS + h) * P.seqQ + row) * DVW;');
  else emit('  let oRow = P.oBase + ((b * P.seqQ + row) * TOTAL_HEADS + h) * DVW;');
  emit('  let first = P.partBase + x * P.splits * REC;');
  emit('  var m = NEG_BIG;');
  emit('  for (var s = 0u; s < P.splits; s++) { m = max(m, ' + mAt('first + s * REC') + '); }');
  emit(`  var acc: array<${vec}, DVW>;`);
  emit(`  for (var d = 0u; d < DVW; d++) { acc[d] = ${zero}; }`);
  emit('  var l = 0.0;');
  emit('  for (var s = 0u; s < P.splits; s++) {');
  emit('    let rec = first + s * REC;');
  emit('    // A split with no allowed key has l = 0 and acc = 0: it adds nothing.');
  emit(`    let c = exp2(${mAt('rec')} - m);`);
  emit(`    l += c * ${lAt('rec')};`);
  emit(`    for (var d = 0u; d < DVW; d++) { acc[d] += c * ${part}[rec + d]; }`);
  emit('  }');
  emit('  // A row with no allowed key gets 0, never 0/0.');
  emit('  let inv = select(0.0, 1.0 / l, l > 0.0);');
  emit(
    `  for (var d = 0u; d < DVW; d++) { ${bindings.o.name}[oRow + d] = ${store('acc[d] * inv')}; }`,
  );
  if (lse) emit(`  ${lseStore(lse, 'row', 'm', 'l')}`);
  emit('}');
  const DVW = attention.valueDim / W;
  const splits = decodeSplits(plan.keyTile);
  return {
    wgsl: L.join('\n') + '\n',
    workgroupSize: workgroup,
    uniforms,
    loopIterations: size.add(
      size.mul(2, splits),
      size.mul(splits, constantLoopCost(DVW)),
      4 + 2 * constantLoopCost(DVW),
    ),
  };
}
