// Emits the `subgroup` variant of the fused softmax kernel (GPU-shaped, `enable subgroups;`).
// As in decode/flash kernels on GPUs, the lanes of one subgroup cooperate on a query row: each
// lane owns the strided slice `d = lane, lane + sgSize, ...` of D (for q·k) and of Dv (for the
// accumulator), the score is the `subgroupAdd` of the lane partials, so the online-softmax state
// (running max and sum) is the same in every lane and each lane rescales and accumulates only
// its own slice. The subgroup size is a run-time value (4 on SwiftShader, 32 on NVIDIA, 32/64 on
// AMD), so every per-lane loop strides by `@builtin(subgroup_size)` and each subgroup walks
// several rows of the query tile: the tile shape (TQ rows, TK keys) that block planning chose
// stays fixed whatever the subgroup size. Lanes are numbered 0..sgSize-1 with every lane active:
// the workgroup (128) is a multiple of every subgroup size (powers of two, 4..128), so subgroups
// are full; which invocations form a subgroup is not assumed (subgroups take numbered tickets).
//
// Memory: the workgroup stages each visited K/V tile in workgroup memory once (shared by all its
// subgroups, as in `tiled`); q rows (pre-scaled), accumulators and the per-row max/sum live in
// workgroup memory too, because a lane's share of a row depends on the run-time subgroup size.
// Per key tile a row's accumulator slice is rescaled once (tile max first, then p·v), not once
// per key. Masks use mask-wgsl.ts exactly as emit-softmax.ts does (visit range, tile class,
// `allowed(p, j)` in partial tiles). Control flow: barriers and subgroup operations sit only in
// workgroup-uniform control flow (tile values through workgroupUniformLoad; rows past the tile
// are computed on a clamped row and never stored), so no uniformity diagnostic is relaxed.

import type { Attention, BlockPlan, Group, Mask, Score } from '../../ir/ir.js';
import { SUBGROUP_WORKGROUP_SIZE } from '../../passes/plan-blocks.js';
import { f32Lit } from '../../kernel/f32-literal.js';
import {
  emitParamsStruct,
  emitLseBinding,
  emitTensorBindings,
  lseStore,
  lseUniforms,
  softmaxKernelSetup,
} from './softmax-kernel-setup.js';
import type { KernelTarget, SoftmaxArrays, SoftmaxBindings } from './softmax-kernel-setup.js';
import type { EmittedKernel } from './emitted-kernel.js';
import { visitRange } from './mask-wgsl.js';
import { auxWords, maskHelperParagraphs } from '../kernels/softmax-mask.js';
import { renderFunction } from '../../kernel/render-wgsl.js';
import { rowCodec, TANH_SAFE_WGSL } from './kernel-ir-pieces.js';
import { subgroupLoopIterations } from './loop-budget.js';

const LOG2E = Math.LOG2E;

export function emitSubgroupSoftmaxKernel(
  attention: Attention,
  group: Group,
  step: { readonly score: Score; readonly mask: Mask; readonly plan: BlockPlan },
  bindings: SoftmaxBindings,
  arrays: SoftmaxArrays,
  target: KernelTarget = { nativeF16: false },
): EmittedKernel {
  const { plan, score, mask } = step;
  if (plan.variant !== 'subgroup') throw new Error('internal error: not a subgroup plan');
  if (arrays.headRouting) throw new Error('internal error: head routing in subgroup kernel');
  const WG = SUBGROUP_WORKGROUP_SIZE;
  const D = attention.headDim;
  const DV = attention.valueDim;
  const bhnd = attention.layout === 'bhnd';
  // Storage is read in units: four halves (f16: packed u32s or native), vec4<f32>, or f32.
  // Workgroup memory holds plain f32 so that lanes can stride by single elements.
  const f16 = attention.dtype === 'f16';
  const U = f16 ? 4 : plan.vectorWidth;
  if (D % U !== 0 || DV % U !== 0) throw new Error('internal error: dims not a multiple of unit');
  const codec = rowCodec(attention.dtype, U, target.nativeF16);
  const { stored, unitWords, load, store } = codec;
  const setup = softmaxKernelSetup(group, step, arrays, unitWords);
  const { leaves, randomLeaves, hasSegment, context, modified, qFactor, uniforms } = setup;
  if (leaves.some((leaf) => leaf.kind === 'routed'))
    throw new Error('internal error: routed leaf in subgroup kernel');
  uniforms.push(...setup.randomUniforms);
  const lse = bindings.lse ?? null;
  uniforms.push(...lseUniforms(lse));

  const L: string[] = [];
  const emit = (line = '') => L.push(line);
  for (const directive of codec.enable) emit(directive);
  emit('enable subgroups;');
  emit();
  emit(
    `// attnc fused softmax: attention ${attention.name}, group ${group.name}, variant subgroup`,
  );
  emit(`// mask leaves: ${leaves.map((l) => l.kind).join(', ')}`);
  emit(`const D: u32 = ${D}u;`);
  emit(`const DV: u32 = ${DV}u;`);
  emit(`const DU: u32 = ${D / U}u;`);
  emit(`const DVU: u32 = ${DV / U}u;`);
  emit(`const HEADS: u32 = ${group.heads}u;`);
  emit(`const GROUP_SIZE: u32 = ${group.heads / group.kvHeads}u;`);
  emit(`const HEAD_OFFSET: u32 = ${group.headOffset}u;`);
  emit(`const KV_HEAD_OFFSET: u32 = ${group.kvHeadOffset}u;`);
  emit(`const TOTAL_HEADS: u32 = ${attention.heads}u;`);
  emit(`const TOTAL_KV_HEADS: u32 = ${attention.kvHeads}u;`);
  emit(`const TQ: u32 = ${plan.queryTile}u;`);
  emit(`const TK: u32 = ${plan.keyTile}u;`);
  emit(`const WG: u32 = ${WG}u;`);
  emit('const NEG_BIG: f32 = -3.0e38;');
  emit();
  emitParamsStruct(emit, uniforms);
  emit();
  const declare = emitTensorBindings(emit, bindings, stored);
  if (bindings.aux) declare(bindings.aux, 'read', 'u32');
  if (lse) emitLseBinding(emit, lse);
  emit();
  emit('// q rows (pre-scaled) and accumulators of the query tile; lanes own strided columns.');
  emit('var<workgroup> qTile: array<f32, TQ * D>;');
  emit('var<workgroup> accTile: array<f32, TQ * DV>;');
  emit('var<workgroup> rowMax: array<f32, TQ>;');
  emit('var<workgroup> rowSum: array<f32, TQ>;');
  emit('var<workgroup> kTile: array<f32, TK * D>;');
  emit('var<workgroup> vTile: array<f32, TK * DV>;');
  emit(
    '// Tile-level values pass through workgroupUniformLoad so barriers and subgroup operations',
  );
  emit('// sit in uniform control flow.');
  emit('var<workgroup> wgClass: u32;');
  emit('var<workgroup> wgFirst: u32;');
  emit('var<workgroup> wgSecond: u32;');
  emit('var<workgroup> wgEnd: u32;');
  emit('var<workgroup> wgSubgroups: u32;');
  emit('var<workgroup> wgTickets: atomic<u32>;');
  emit();
  const kStride = bhnd ? 'DU' : 'TOTAL_KV_HEADS * DU';
  const vStride = bhnd ? 'DVU' : 'TOTAL_KV_HEADS * DVU';

  if (codec.helpers.length > 0) {
    codec.helpers.forEach((line) => emit(line));
    emit();
  }
  if (score.softcap !== null) {
    TANH_SAFE_WGSL.forEach((line) => emit(line));
    emit();
  }
  // The mask's helpers are the IR kernel's (kernels/softmax-mask.ts), rendered.
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
    paragraph.flatMap(renderFunction).forEach((line) => emit(line));
    emit();
  }

  // Units of row `row` of q/o and of key 0 of k/v, by layout.
  const qRowUnit = (row: string) =>
    bhnd
      ? `P.qBase + ((b * TOTAL_HEADS + h) * P.seqQ + ${row}) * DU`
      : `P.qBase + ((b * P.seqQ + ${row}) * TOTAL_HEADS + h) * DU`;
  const oRowUnit = (row: string) =>
    bhnd
      ? `P.oBase + ((b * TOTAL_HEADS + h) * P.seqQ + ${row}) * DVU`
      : `P.oBase + ((b * P.seqQ + ${row}) * TOTAL_HEADS + h) * DVU`;
  /** Writes the unit `value` (f32 or vec4) to `tile[x * U ..]`. */
  const spread = (
    tile: string,
    x: string,
    value: string,
    factor: string | null,
    indent: string,
  ) => {
    const f = factor === null ? '' : ` * ${factor}`;
    if (U === 1) {
      emit(`${indent}${tile}[${x}] = ${value}${f};`);
      return;
    }
    emit(`${indent}let unit = ${value}${f};`);
    emit(`${indent}${tile}[${x} * 4u] = unit.x;`);
    emit(`${indent}${tile}[${x} * 4u + 1u] = unit.y;`);
    emit(`${indent}${tile}[${x} * 4u + 2u] = unit.z;`);
    emit(`${indent}${tile}[${x} * 4u + 3u] = unit.w;`);
  };

  const visit = visitRange(mask);
  emit(`@compute @workgroup_size(${WG})`);
  emit('fn main(');
  emit('  @builtin(workgroup_id) wid: vec3<u32>,');
  emit('  @builtin(num_workgroups) nwg: vec3<u32>,');
  emit('  @builtin(local_invocation_index) lid: u32,');
  emit('  @builtin(subgroup_invocation_id) lane: u32,');
  emit('  @builtin(subgroup_size) sgSize: u32,');
  emit(') {');
  emit('  // Dispatches fold (batch, head, query tile) into up to two dimensions.');
  emit('  let linear = wid.x + wid.y * nwg.x;');
  emit('  if (linear >= P.total) { return; }');
  emit('  let qt = linear % P.qTiles;');
  emit('  let bh = linear / P.qTiles;');
  emit('  let hl = bh % HEADS;');
  emit('  let b = bh / HEADS;');
  emit('  let h = HEAD_OFFSET + hl;');
  emit('  let hk = KV_HEAD_OFFSET + hl / GROUP_SIZE;');
  emit('  let offset = P.seqK - P.seqQ;');
  emit('  let pa = qt * TQ + offset;');
  emit('  let pb = min(qt * TQ + TQ, P.seqQ) - 1u + offset;');
  if (bhnd) {
    emit('  let kBase0 = P.kBase + (b * TOTAL_KV_HEADS + hk) * P.seqK * DU;');
    emit('  let vBase0 = P.vBase + (b * TOTAL_KV_HEADS + hk) * P.seqK * DVU;');
  } else {
    emit('  let kBase0 = P.kBase + (b * P.seqK * TOTAL_KV_HEADS + hk) * DU;');
    emit('  let vBase0 = P.vBase + (b * P.seqK * TOTAL_KV_HEADS + hk) * DVU;');
  }
  emit('  // Number the subgroups 0..count-1 with a ticket per subgroup: nothing is assumed about');
  emit('  // how invocations map to subgroups.');
  emit('  var ticket = 0u;');
  emit('  if (subgroupElect()) { ticket = atomicAdd(&wgTickets, 1u); }');
  emit('  let sg = subgroupBroadcastFirst(ticket);');
  emit('  // The query tile (rows past seqQ repeat the last row and are never stored).');
  emit('  for (var x = lid; x < TQ * DU; x += WG) {');
  emit('    let row = min(qt * TQ + x / DU, P.seqQ - 1u);');
  spread(
    'qTile',
    'x',
    load(`${bindings.q.name}[${qRowUnit('row')} + x % DU]`),
    f32Lit(qFactor),
    '    ',
  );
  emit('  }');
  emit('  for (var x = lid; x < TQ * DV; x += WG) { accTile[x] = 0.0; }');
  emit('  for (var x = lid; x < TQ; x += WG) { rowMax[x] = NEG_BIG; rowSum[x] = 0.0; }');
  emit('  workgroupBarrier();');
  emit('  // Visit only the key tiles of [0, prefix) and [lo, hi) (closed forms of the mask).');
  emit('  if (lid == 0u) {');
  emit('    let NK = i32(P.seqK);');
  emit(`    let prefixEnd = min(${visit.prefix ?? '0u'}, P.seqK);`);
  emit(`    let lo = u32(clamp(${visit.lo}, 0i, NK));`);
  emit(`    let hi = u32(clamp(${visit.hi}, 0i, NK));`);
  emit('    wgFirst = (prefixEnd + TK - 1u) / TK;');
  emit('    wgSecond = max(wgFirst, lo / TK);');
  emit('    wgEnd = max(wgSecond, (hi + TK - 1u) / TK);');
  emit('    wgSubgroups = atomicLoad(&wgTickets);');
  emit('  }');
  emit('  let prefixTiles = workgroupUniformLoad(&wgFirst);');
  emit('  let bandFirst = workgroupUniformLoad(&wgSecond);');
  emit('  let bandEnd = workgroupUniformLoad(&wgEnd);');
  emit('  let subgroups = workgroupUniformLoad(&wgSubgroups);');
  emit('  // Subgroup sg owns rows sg, sg + subgroups, ... of the tile.');
  emit('  let rowsPerSubgroup = (TQ + subgroups - 1u) / subgroups;');
  if (score.bias === 'alibi') emit('  let slope = exp2(-8.0 * f32(hl + 1u) / f32(HEADS));');
  emit('  // Scores of one row for the current key tile (the same in every lane), then weights.');
  emit('  var sc: array<f32, TK>;');
  emit('  let visits = prefixTiles + bandEnd - bandFirst;');
  emit('  for (var n = 0u; n < visits; n++) {');
  emit('    let kt = select(bandFirst + n - prefixTiles, n, n < prefixTiles);');
  emit('    let ja = kt * TK;');
  emit('    let j1 = min(ja + TK, P.seqK);');
  emit('    let jb = j1 - 1u;');
  emit('    if (lid == 0u) { wgClass = classify(kt, ja, jb, pa, pb, b, qt); }');
  emit('    let c = workgroupUniformLoad(&wgClass);');
  emit('    if (c == 0u) { continue; }');
  emit('    // Stage the K/V tile once for all the subgroups of the workgroup.');
  emit('    for (var x = lid; x < (j1 - ja) * DU; x += WG) {');
  spread(
    'kTile',
    'x',
    load(`${bindings.k.name}[kBase0 + (ja + x / DU) * ${kStride} + x % DU]`),
    null,
    '      ',
  );
  emit('    }');
  emit('    for (var x = lid; x < (j1 - ja) * DVU; x += WG) {');
  spread(
    'vTile',
    'x',
    load(`${bindings.v.name}[vBase0 + (ja + x / DVU) * ${vStride} + x % DVU]`),
    null,
    '      ',
  );
  emit('    }');
  emit('    workgroupBarrier();');
  emit('    let nk = j1 - ja;');
  emit('    for (var t = 0u; t < rowsPerSubgroup; t++) {');
  emit('      let r = sg + t * subgroups;');
  emit('      let mine = r < TQ;');
  emit('      let rc = min(r, TQ - 1u);');
  emit('      let p = min(qt * TQ + rc, P.seqQ - 1u) + offset;');
  emit(
    `      let segRow = ${hasSegment ? `${bindings.aux!.name}[P.segQBase + b * P.seqQ + p - offset]` : '0u'};`,
  );
  emit('      let qRow = rc * D;');
  emit('      var tileMax = NEG_BIG;');
  // Scores twice: full tiles never evaluate the mask, partial tiles do per key.
  const scoreLoop = (masked: boolean, indent: string) => {
    const e = (line: string) => emit(indent + line);
    e('for (var jj = 0u; jj < nk; jj++) {');
    e('  var part = 0.0;');
    e('  for (var d = lane; d < D; d += sgSize) { part += qTile[qRow + d] * kTile[jj * D + d]; }');
    e('  var s = subgroupAdd(part);');
    if (score.softcap !== null)
      e(`  s = ${f32Lit(score.softcap)} * tanhSafe(s * ${f32Lit(1 / score.softcap)});`);
    if (score.bias === 'alibi') e('  s -= slope * f32(abs(i32(p) - i32(ja + jj)));');
    if (modified) e(`  s *= ${f32Lit(LOG2E)};`);
    if (masked) e('  s = select(NEG_BIG, s, allowed(p, ja + jj, b, segRow));');
    e('  sc[jj] = s;');
    e('  tileMax = max(tileMax, s);');
    e('}');
  };
  emit('      if (c == 2u) {');
  scoreLoop(false, '        ');
  emit('      } else {');
  scoreLoop(true, '        ');
  emit('      }');
  emit('      // Lane 0 alone reads and writes the row max and sum; the other lanes get them by');
  emit('      // broadcast, so no lane can read a value lane 0 already replaced (lanes of a');
  emit('      // subgroup need not run in lockstep).');
  emit('      var state = vec2<f32>(NEG_BIG, 0.0);');
  emit('      if (mine && lane == 0u) { state = vec2<f32>(rowMax[rc], rowSum[rc]); }');
  emit('      state = subgroupBroadcast(state, 0u);');
  emit('      if (mine) {');
  emit('        // One rescale per tile; a masked key (NEG_BIG) weighs 0, and a first tile');
  emit('        // rescales by exp2(-huge) = 0, never inf - inf.');
  emit('        let mOld = state.x;');
  emit('        let mNew = max(mOld, tileMax);');
  emit('        let rescale = exp2(mOld - mNew);');
  emit('        var sum = 0.0;');
  emit('        for (var jj = 0u; jj < nk; jj++) {');
  emit('          let w = select(0.0, exp2(sc[jj] - mNew), sc[jj] > NEG_BIG);');
  emit('          sc[jj] = w;');
  emit('          sum += w;');
  emit('        }');
  emit('        for (var d = lane; d < DV; d += sgSize) {');
  emit('          var a = accTile[rc * DV + d] * rescale;');
  emit('          for (var jj = 0u; jj < nk; jj++) { a += sc[jj] * vTile[jj * DV + d]; }');
  emit('          accTile[rc * DV + d] = a;');
  emit('        }');
  emit('        if (lane == 0u) {');
  emit('          rowMax[rc] = mNew;');
  emit('          rowSum[rc] = state.y * rescale + sum;');
  emit('        }');
  emit('      }');
  emit('    }');
  emit('    workgroupBarrier();');
  emit('  }');
  emit('  workgroupBarrier();');
  emit('  // The whole workgroup stores the tile; a row with no allowed key gets 0, never 0/0.');
  emit('  for (var x = lid; x < TQ * DVU; x += WG) {');
  emit('    let r = x / DVU;');
  emit('    let i = qt * TQ + r;');
  emit('    if (i < P.seqQ) {');
  emit('      let l = rowSum[r];');
  emit('      let inv = select(0.0, 1.0 / l, l > 0.0);');
  if (lse) emit(`      if (x % DVU == 0u) { ${lseStore(lse, 'i', 'rowMax[r]', 'l')} }`);
  const accUnit =
    U === 4
      ? 'vec4<f32>(accTile[x * 4u], accTile[x * 4u + 1u], accTile[x * 4u + 2u], accTile[x * 4u + 3u])'
      : 'accTile[x]';
  emit(`      ${bindings.o.name}[${oRowUnit('i')} + x % DVU] = ${store(`${accUnit} * inv`)};`);
  emit('    }');
  emit('  }');
  emit('}');
  const loopIterations = subgroupLoopIterations({
    mask,
    plan,
    headDim: D,
    valueDim: DV,
    unit: U,
    workgroupSize: WG,
  });
  return { wgsl: L.join('\n') + '\n', workgroupSize: WG, uniforms, loopIterations };
}
