// Emits the fused softmax kernel of one head group: score, mask, softcap, alibi, online
// softmax (exp2, rescaled lazily: only when the running max grows) and the value product, in
// one pass over K/V. Each invocation owns one query row; a workgroup owns a query tile and
// walks key tiles, visiting only the visit range of the tile (mask-wgsl.ts), classifying each
// key tile, skipping empty ones and checking the mask per element only in partial ones.
// Variant `tiled` additionally stages each K/V tile in workgroup memory so the workgroup's
// rows share one load (GPU-shaped); `rowwise` reads K/V straight from storage (CPU-shaped).

import type { Attention, BlockPlan, Group, Mask, Score } from '../../ir/ir.js';
import type { SizeExpr } from '../plan.js';
import type { EmittedKernel } from './emitted-kernel.js';
import { visitRange } from './mask-wgsl.js';
import { emitKeyUpdate, rowCodec, TANH_SAFE_WGSL } from './kernel-ir-pieces.js';
import { f32Lit } from '../../kernel/f32-literal.js';
import {
  emitLseBinding,
  emitParamsStruct,
  emitTensorBindings,
  lseStore,
  lseUniforms,
  softmaxKernelSetup,
  type LseOutput,
  KEY_SLOT_UNIFORMS,
  KEY_SLOT_WGSL,
} from './softmax-kernel-setup.js';
import { emitMaskFunctions } from './emit-mask-functions.js';
import { softmaxLoopIterations } from './loop-budget.js';
import {
  type RoutedRowsArrays,
  routedRowDeclarations,
  routedRowSelection,
  routedRowsUniforms,
  routedTileBound,
  routedWeight,
} from './emit-head-routing.js';

export interface SoftmaxBindings {
  /** WGSL variable and binding of q, k, v (possibly one packed buffer), o and aux. */
  readonly q: { readonly name: string; readonly binding: number };
  readonly k: { readonly name: string; readonly binding: number };
  readonly v: { readonly name: string; readonly binding: number };
  readonly o: { readonly name: string; readonly binding: number };
  readonly aux: { readonly name: string; readonly binding: number } | null;
  /** The LSE output (compile option `lse`), else absent. */
  readonly lse?: LseOutput | null;
}

/** Word offsets of each array the kernel reads (from the plan's layout). */
export interface SoftmaxArrays {
  readonly q: SizeExpr;
  readonly k: SizeExpr;
  readonly v: SizeExpr;
  readonly o: SizeExpr;
  readonly segQ: SizeExpr | null;
  readonly segK: SizeExpr | null;
  readonly segRanges: SizeExpr | null;
  /** Per random leaf (leaf order). */
  readonly random: readonly SizeExpr[];
  /** Head routing: walk kept-row lists instead of query tiles (emit-head-routing.ts). */
  readonly headRouting?: RoutedRowsArrays | null;
}

/** What of the target profile the softmax emitters use beyond the block plan. */
export interface KernelTarget {
  /** dtype f16 rows declared as `vec4<f16>` (the profile has `shader-f16`). */
  readonly nativeF16: boolean;
}

export function emitSoftmaxKernel(
  attention: Attention,
  group: Group,
  step: { readonly score: Score; readonly mask: Mask; readonly plan: BlockPlan },
  bindings: SoftmaxBindings,
  arrays: SoftmaxArrays,
  target: KernelTarget = { nativeF16: false },
): EmittedKernel {
  const { plan, score, mask } = step;
  const W = plan.vectorWidth;
  const vec = W === 4 ? 'vec4<f32>' : 'f32';
  // dtype f16: four halves per 8 bytes in storage (packed u32s, or native f16), f32 in math.
  const codec = rowCodec(attention.dtype, W, target.nativeF16);
  const { stored, load, store, unitWords } = codec;
  const zero = W === 4 ? 'vec4<f32>(0.0)' : '0.0';
  const dot = (a: string, b: string) => (W === 4 ? `dot(${a}, ${b})` : `${a} * ${b}`);
  const D = attention.headDim;
  const DV = attention.valueDim;
  const bhnd = attention.layout === 'bhnd';
  const setup = softmaxKernelSetup(group, step, arrays, unitWords);
  const { leaves, randomLeaves, hasSegment, context, modified, qFactor, uniforms } = setup;
  const routed = arrays.headRouting ?? null;
  if (routed) {
    if (!bindings.aux) throw new Error('internal error: head routing without aux');
    const at = uniforms.findIndex((u) => u.name === 'total');
    uniforms[at] = { name: 'total', value: routedTileBound(routed, group.heads, plan.queryTile) };
    uniforms.push(...routedRowsUniforms(routed));
  }
  uniforms.push(...setup.randomUniforms);
  const lse = bindings.lse ?? null;
  if (lse && routed) throw new Error('internal error: the LSE output with head routing');
  uniforms.push(...lseUniforms(lse));
  uniforms.push(...KEY_SLOT_UNIFORMS);

  const L: string[] = [];
  const emit = (line = '') => L.push(line);
  for (const directive of codec.enable) emit(directive);
  emit(
    `// attnc fused softmax: attention ${attention.name}, group ${group.name}, variant ${plan.variant}`,
  );
  emit(`// mask leaves: ${leaves.map((l) => l.kind).join(', ')}`);
  emit(`const D: u32 = ${D}u;`);
  emit(`const DV: u32 = ${DV}u;`);
  emit(`const DW: u32 = ${D / W}u;`);
  emit(`const DVW: u32 = ${DV / W}u;`);
  emit(`const HEADS: u32 = ${group.heads}u;`);
  emit(`const GROUP_SIZE: u32 = ${group.heads / group.kvHeads}u;`);
  emit(`const HEAD_OFFSET: u32 = ${group.headOffset}u;`);
  emit(`const KV_HEAD_OFFSET: u32 = ${group.kvHeadOffset}u;`);
  emit(`const TOTAL_HEADS: u32 = ${attention.heads}u;`);
  emit(`const TOTAL_KV_HEADS: u32 = ${attention.kvHeads}u;`);
  emit(`const TQ: u32 = ${plan.queryTile}u;`);
  emit(`const TK: u32 = ${plan.keyTile}u;`);
  emit(`const NEG_BIG: f32 = -3.0e38;`);
  emit();
  emitParamsStruct(emit, uniforms);
  emit();
  const declare = emitTensorBindings(emit, bindings, stored);
  if (bindings.aux) declare(bindings.aux, 'read', 'u32');
  if (lse) emitLseBinding(emit, lse);
  emit();
  KEY_SLOT_WGSL.forEach((line) => emit(line));
  emit();
  if (plan.variant === 'tiled') {
    emit(`var<workgroup> kTile: array<${vec}, ${plan.keyTile * (D / W)}>;`);
    emit(`var<workgroup> vTile: array<${vec}, ${plan.keyTile * (DV / W)}>;`);
    emit(
      '// Tile-level values pass through workgroupUniformLoad so barriers sit in uniform control flow.',
    );
    emit('var<workgroup> wgClass: u32;');
    emit('var<workgroup> wgFirst: u32;');
    emit('var<workgroup> wgSecond: u32;');
    emit('var<workgroup> wgEnd: u32;');
  }
  emit();
  if (routed)
    for (const line of routedRowDeclarations(bindings.aux!.name, plan.variant === 'tiled'))
      emit(line);
  const kStride = bhnd ? 'DW' : 'TOTAL_KV_HEADS * DW';
  const vStride = bhnd ? 'DVW' : 'TOTAL_KV_HEADS * DVW';
  // Every helper takes the tile context explicitly; the hot loop lives in `main` with
  // function-local arrays, which llvmpipe keeps in registers better than private globals.
  const tileParams = 'pa: u32, pb: u32, b: u32, qt: u32';

  if (codec.helpers.length > 0) {
    codec.helpers.forEach((line) => emit(line));
    emit();
  }
  if (score.softcap !== null) {
    TANH_SAFE_WGSL.forEach((line) => emit(line));
    emit();
  }
  if (hasSegment && bindings.aux) {
    const aux = bindings.aux.name;
    emit(`fn segKey(b: u32, j: u32) -> u32 { return ${aux}[P.segKBase + b * P.seqK + j]; }`);
    emit();
    emit(
      '// Per-tile [min, max] segment ids (filled by the segment-ranges kernel) decide whole tiles.',
    );
    emit(`fn segmentClass(kt: u32, ${tileParams}) -> u32 {`);
    if (routed) {
      // Routed rows of a workgroup span the query tiles of [pa, pb]: merge their ranges.
      emit('  let offset = P.seqK - P.seqQ;');
      emit('  var qmin = 0xffffffffu; var qmax = 0u;');
      emit('  for (var t = (pa - offset) / TQ; t <= (pb - offset) / TQ; t++) {');
      emit(`    let qr = P.segRangesBase + (b * P.qTiles + t) * 2u;`);
      emit(`    qmin = min(qmin, ${aux}[qr]); qmax = max(qmax, ${aux}[qr + 1u]);`);
      emit('  }');
    }
    if (!routed) emit(`  let qr = P.segRangesBase + (b * P.qTiles + qt) * 2u;`);
    emit(`  let kr = P.segRangesBase + P.batch * P.qTiles * 2u + (b * P.kTiles + kt) * 2u;`);
    if (!routed) emit(`  let qmin = ${aux}[qr]; let qmax = ${aux}[qr + 1u];`);
    emit(`  let kmin = ${aux}[kr]; let kmax = ${aux}[kr + 1u];`);
    emit('  if (qmax < kmin || kmax < qmin) { return 0u; }');
    emit('  if (qmin == qmax && kmin == kmax && qmin == kmin) { return 2u; }');
    emit('  return 1u;');
    emit('}');
    emit();
  }
  emitMaskFunctions(
    emit,
    mask,
    context,
    randomLeaves.map((leaf) => leaf.block),
    bindings.aux?.name,
    tileParams,
  );

  const visit = visitRange(mask);
  const tiled = plan.variant === 'tiled';
  emit(`@compute @workgroup_size(${plan.queryTile})`);
  emit('fn main(');
  emit('  @builtin(workgroup_id) wid: vec3<u32>,');
  emit('  @builtin(num_workgroups) nwg: vec3<u32>,');
  emit('  @builtin(local_invocation_index) lid: u32,');
  emit(') {');
  emit('  // Dispatches fold (batch, head, query tile) into up to two dimensions.');
  emit('  let linear = wid.x + wid.y * nwg.x;');
  emit('  if (linear >= P.total) { return; }');
  if (routed) {
    for (const line of routedRowSelection(bindings.aux!.name, plan.variant === 'tiled')) emit(line);
  } else {
    emit('  let qt = linear % P.qTiles;');
    emit('  let bh = linear / P.qTiles;');
    emit('  let hl = bh % HEADS;');
    emit('  let b = bh / HEADS;');
    emit('  let h = HEAD_OFFSET + hl;');
    emit('  let hk = KV_HEAD_OFFSET + hl / GROUP_SIZE;');
    emit('  let offset = P.seqK - P.seqQ;');
    emit('  let i = qt * TQ + lid;');
    emit('  let row = min(i, P.seqQ - 1u);');
    emit('  let p = row + offset;');
    emit('  let pa = qt * TQ + offset;');
    emit('  let pb = min(qt * TQ + TQ, P.seqQ) - 1u + offset;');
  }
  if (bhnd) {
    emit('  let qRow = P.qBase + ((b * TOTAL_HEADS + h) * P.seqQ + row) * DW;');
    emit('  let oRow = P.oBase + ((b * TOTAL_HEADS + h) * P.seqQ + row) * DVW;');
    emit('  let kBase0 = P.kBase + (b * TOTAL_KV_HEADS + hk) * P.kvRows * DW;');
    emit('  let vBase0 = P.vBase + (b * TOTAL_KV_HEADS + hk) * P.kvRows * DVW;');
  } else {
    emit('  let qRow = P.qBase + ((b * P.seqQ + row) * TOTAL_HEADS + h) * DW;');
    emit('  let oRow = P.oBase + ((b * P.seqQ + row) * TOTAL_HEADS + h) * DVW;');
    emit('  let kBase0 = P.kBase + (b * P.kvRows * TOTAL_KV_HEADS + hk) * DW;');
    emit('  let vBase0 = P.vBase + (b * P.kvRows * TOTAL_KV_HEADS + hk) * DVW;');
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
  emit('  // Visit only the key tiles of [0, prefix) and [lo, hi) (closed forms of the mask).');
  emit('  let NK = i32(P.seqK);');
  emit(`  let prefixEnd = min(${visit.prefix ?? '0u'}, P.seqK);`);
  emit(`  let lo = u32(clamp(${visit.lo}, 0i, NK));`);
  emit(`  let hi = u32(clamp(${visit.hi}, 0i, NK));`);
  if (tiled) {
    emit('  if (lid == 0u) {');
    emit('    wgFirst = (prefixEnd + TK - 1u) / TK;');
    emit('    wgSecond = max(wgFirst, lo / TK);');
    emit('    wgEnd = max(wgSecond, (hi + TK - 1u) / TK);');
    emit('  }');
    emit('  let prefixTiles = workgroupUniformLoad(&wgFirst);');
    emit('  let bandFirst = workgroupUniformLoad(&wgSecond);');
    emit('  let bandEnd = workgroupUniformLoad(&wgEnd);');
  } else {
    emit('  let prefixTiles = (prefixEnd + TK - 1u) / TK;');
    emit('  let bandFirst = max(prefixTiles, lo / TK);');
    emit('  let bandEnd = max(bandFirst, (hi + TK - 1u) / TK);');
  }
  emit('  let visits = prefixTiles + bandEnd - bandFirst;');
  const kAt = tiled ? 'kTile[kRow + d]' : load(`${bindings.k.name}[kRow + d]`);
  const vAt = tiled ? 'vTile[vRow + d]' : load(`${bindings.v.name}[vRow + d]`);
  // One key's score, online-softmax update and value product; j is the key index.
  const keyBody = (indent: string) => {
    const e = (line: string) => emit(indent + line);
    if (tiled) {
      e('let kRow = (j - ja) * DW;');
      e('let vRow = (j - ja) * DVW;');
    } else {
      e('let slot = keySlot(j);');
      e(`let kRow = kBase0 + slot * ${kStride};`);
      e(`let vRow = vBase0 + slot * ${vStride};`);
    }
    emitKeyUpdate(e, { score, modified, kAt, vAt, dot, vectors: D / W, valueVectors: DV / W });
  };
  if (tiled) emitTiledKeyLoop();
  else emitFlatKeyLoop();

  // GPU-shaped: per visited tile, stage K/V in workgroup memory, then a key loop that
  // is emitted twice (full tiles never evaluate the mask, partial tiles do per element).
  function emitTiledKeyLoop(): void {
    emit('  for (var n = 0u; n < visits; n++) {');
    emit('    let kt = select(bandFirst + n - prefixTiles, n, n < prefixTiles);');
    emit('    let ja = kt * TK;');
    emit('    let j1 = min(ja + TK, P.seqK);');
    emit('    let jb = j1 - 1u;');
    emit('    if (lid == 0u) { wgClass = classify(kt, ja, jb, pa, pb, b, qt); }');
    emit('    let c = workgroupUniformLoad(&wgClass);');
    emit('    if (c == 0u) { continue; }');
    emit('    // Stage the K/V tile once for all the rows of the workgroup.');
    emit('    for (var x = lid; x < (j1 - ja) * DW; x += TQ) {');
    emit(
      `      kTile[x] = ${load(`${bindings.k.name}[kBase0 + keySlot(ja + x / DW) * ${kStride} + x % DW]`)};`,
    );
    emit('    }');
    emit('    for (var x = lid; x < (j1 - ja) * DVW; x += TQ) {');
    emit(
      `      vTile[x] = ${load(`${bindings.v.name}[vBase0 + keySlot(ja + x / DVW) * ${vStride} + x % DVW]`)};`,
    );
    emit('    }');
    emit('    workgroupBarrier();');
    emit('    if (c == 2u) {');
    emit('      for (var j = ja; j < j1; j++) {');
    keyBody('        ');
    emit('      }');
    emit('    } else {');
    emit('      for (var j = ja; j < j1; j++) {');
    emit('        if (!allowed(p, j, b, segRow)) { continue; }');
    keyBody('        ');
    emit('      }');
    emit('    }');
    emit('    workgroupBarrier();');
    emit('  }');
  }

  // CPU-like adapters: one flat loop over keys that steps to the next visited tile when
  // the current one ends. A key loop nested in a tile loop measured ~10% slower on
  // llvmpipe than this single loop (bench/ dense N=4096), for the same keys visited.
  function emitFlatKeyLoop(): void {
    emit('  var n = 0u;');
    emit('  var j = 0u;');
    emit('  var tileEnd = 0u;');
    emit('  var masked = false;');
    emit('  loop {');
    emit('    if (j >= tileEnd) {');
    emit('      if (n >= visits) { break; }');
    emit('      let kt = select(bandFirst + n - prefixTiles, n, n < prefixTiles);');
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
    keyBody('    ');
    emit('    j++;');
    emit('  }');
  }
  emit('  if (i >= P.seqQ) { return; }');
  emit('  // A row with no allowed key gets 0, never 0/0.');
  emit(
    `  let inv = select(0.0, 1.0 / l, l > 0.0)${routed ? ` * ${routedWeight(bindings.aux!.name)}` : ''};`,
  );
  emit(
    `  for (var d = 0u; d < DVW; d++) { ${bindings.o.name}[oRow + d] = ${store('acc[d] * inv')}; }`,
  );
  if (lse) emit(`  ${lseStore(lse, 'i', 'm', 'l')}`);
  emit('}');
  const loopIterations = softmaxLoopIterations({
    mask,
    plan,
    headDim: D,
    valueDim: DV,
    headRouting: routed !== null,
  });
  return { wgsl: L.join('\n') + '\n', workgroupSize: plan.queryTile, uniforms, loopIterations };
}
