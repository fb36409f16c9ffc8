// The attention kernel of a head group whose mask has routed leaves (topk, cluster, lsh).
// One query row per invocation (both profiles: the routed key sets differ per row, so there
// is no tile to share), K/V read straight from storage. Each row first makes its routing
// decisions (topk: its k best candidate blocks from the block means; cluster/lsh: its
// bucket), then walks a list of *sources* of candidate keys:
//   - a static range (prefix [0, P) plus band [lo, hi), the closed forms of mask-wgsl.ts) for
//     the static terms of a union;
//   - per topk leaf: the own block and the selected blocks;
//   - per cluster/lsh leaf: the keys of the row's bucket (sorted list from the route step);
//   - per `random` leaf that is a term of a union (or of an intersection): the key blocks
//     drawn for the row's query block (the host-drawn table the static kernels read).
// `segment` is never a source: it filters, through the per-key check (seg_q/seg_k in aux).
// A key met by an earlier source is skipped (a key allowed by two union terms counts once),
// every key is checked against the whole mask, and all keys are clipped to the mask's hull.
// dtype f16: q/k/v/o hold four halves per vec2<u32>, unpacked on load and packed on store;
// routing and accumulation stay f32 (the unpacked values are the reference's rounded inputs).

import type { Attention, Group, Mask, MaskLeaf, Routing, Score } from '../../ir/ir.js';
import { maskLeaves } from '../../ir/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import type { SoftmaxBindings } from '../wgsl/softmax-kernel-setup.js';
import type { EmittedKernel } from '../wgsl/emitted-kernel.js';
import {
  emitKeyUpdate,
  PACK_ROW_WGSL,
  TANH_SAFE_WGSL,
  UNPACK_ROW_WGSL,
} from '../wgsl/kernel-ir-pieces.js';
import { f32Lit } from '../../kernel/f32-literal.js';
import {
  emitLseBinding,
  emitParamsStruct,
  emitTensorBindings,
  lseStore,
  lseUniforms,
} from '../wgsl/softmax-kernel-setup.js';
import { randomHasFunction } from '../kernels/softmax-mask.js';
import { allowedExpr, visitRange } from '../wgsl/mask-wgsl.js';
import type { Source } from './key-source.js';
import { routedLoopIterations } from './routed-loop-budget.js';
import { bucketTableOffsets, centroidCount } from './route-kernels.js';
import { bucketOfRow } from '../kernels/route-tables.js';
import { block, call, raw, T, uniform } from '../../kernel/build.js';
import { renderExpr, renderFunction, renderStatements } from '../../kernel/render-wgsl.js';
import {
  keptRowDeclarations,
  keptRowSelection,
  keptRowUniforms,
  type RoutedRowsArrays,
  routedTileBound,
} from '../wgsl/emit-head-routing.js';

export const ROUTED_QUERY_TILE = 64;

/**
 * topk with k up to this keeps its choice in a sorted private array of k blocks (one pass over
 * the candidates). A larger k would size that array, and the unrolled membership test, by k
 * (topk(10000000) took 51 s and 3.2 GB to compile, and no WGSL array holds it): those rows
 * instead find the k-th best score by a bitwise search over the candidates (33 passes) and
 * test membership against it, so the kernel is the same size for every k.
 */
export const TOPK_SORTED_MAX = 64;

const LOG2E = Math.LOG2E;

export interface RoutedArrays {
  readonly q: SizeExpr;
  readonly k: SizeExpr;
  readonly v: SizeExpr;
  readonly o: SizeExpr;
  /** seg_q and seg_k in aux, when the mask has a `segment` leaf. */
  readonly segQ: SizeExpr | null;
  readonly segK: SizeExpr | null;
  /** Per `random` leaf (leaf order): its table of drawn key blocks in aux. */
  readonly random: readonly SizeExpr[];
  /** Head routing: walk the kept-row lists instead of every row (emit-head-routing.ts). */
  readonly headRouting?: RoutedRowsArrays | null;
  /** Per routed leaf (leaf order): its table, and centroids (cluster) or R (lsh). */
  readonly routed: readonly {
    readonly table: SizeExpr;
    readonly centroids: SizeExpr | null;
    readonly projection: SizeExpr | null;
  }[];
}

type RoutedLeaf = Extract<MaskLeaf, { kind: 'routed' }>;
type RandomLeaf = Extract<MaskLeaf, { kind: 'random' }>;

export function hasRoutedLeaf(mask: Mask): boolean {
  return maskLeaves(mask).some((l) => l.kind === 'routed');
}

export type { Source } from './key-source.js';

/**
 * Sources whose keys cover every key `mask` allows. Union: the sources of every term, static
 * terms merged into one range (a `random` term is its own source: its drawn blocks, never the
 * whole key range). Intersection: the sources of one term (a routed leaf itself when there is
 * one, else a `random` leaf, else the term holding a routed leaf; the others only filter,
 * through the per-key mask check). A static intersection without a `random` term is one range
 * (the intersection of its terms' hulls).
 */
export function keySources(mask: Mask): Source[] {
  switch (mask.kind) {
    case 'routed':
      return [{ kind: 'routed', leaf: mask }];
    case 'random':
      return [{ kind: 'random', leaf: mask }];
    case 'union': {
      const parts = mask.terms.flatMap(keySources);
      const ranges = parts.flatMap((s) => (s.kind === 'range' ? [s.mask] : []));
      const others = parts.filter((s) => s.kind !== 'range');
      if (ranges.length === 0) return others;
      const merged: Mask =
        ranges.length === 1 ? ranges[0]! : { kind: 'union', terms: ranges, span: mask.span };
      return [{ kind: 'range', mask: merged }, ...others];
    }
    case 'intersect': {
      const leaf =
        mask.terms.find((t) => t.kind === 'routed') ??
        mask.terms.find((t) => t.kind === 'random') ??
        mask.terms.find(hasRoutedLeaf);
      return leaf ? keySources(leaf) : [{ kind: 'range', mask }];
    }
    default:
      return [{ kind: 'range', mask }];
  }
}

export function emitRoutedSoftmaxKernel(
  attention: Attention,
  group: Group,
  step: { readonly score: Score; readonly mask: Mask; readonly plan: { vectorWidth: 1 | 4 } },
  bindings: SoftmaxBindings,
  arrays: RoutedArrays,
): EmittedKernel {
  const { score, mask } = step;
  const W = step.plan.vectorWidth;
  const vec = W === 4 ? 'vec4<f32>' : 'f32';
  const f16 = attention.dtype === 'f16';
  if (f16 && W !== 4) throw new Error('internal error: f16 needs vector width 4');
  const stored = f16 ? 'vec2<u32>' : vec;
  const load = (e: string) => (f16 ? `unpackRow(${e})` : e);
  const store = (e: string) => (f16 ? `packRow(${e})` : e);
  const unitWords = f16 ? 2 : W;
  const zero = W === 4 ? 'vec4<f32>(0.0)' : '0.0';
  const dot = (a: string, b: string) => (W === 4 ? `dot(${a}, ${b})` : `${a} * ${b}`);
  const D = attention.headDim;
  const DV = attention.valueDim;
  const bhnd = attention.layout === 'bhnd';
  const TQ = ROUTED_QUERY_TILE;
  if (!bindings.aux) throw new Error('internal error: routed kernel without aux');
  const aux = bindings.aux.name;
  const leaves = maskLeaves(mask);
  const routedLeaves = leaves.filter((l): l is RoutedLeaf => l.kind === 'routed');
  const routedOf = new Map<Mask, number>(routedLeaves.map((l, n) => [l, n]));
  const randomLeaves = leaves.filter((l): l is RandomLeaf => l.kind === 'random');
  const randomOf = new Map<Mask, number>(randomLeaves.map((l, n) => [l, n]));
  const hasSegment = leaves.some((l) => l.kind === 'segment');
  const modified = score.softcap !== null || score.bias !== null;
  const qFactor = modified ? score.scale : score.scale * LOG2E;
  const cTotal = centroidCount(attention) ?? 0;

  const uniforms: { name: string; value: SizeExpr }[] = [
    { name: 'batch', value: 'batch' },
    { name: 'seqQ', value: 'seqQ' },
    { name: 'seqK', value: 'seqK' },
    { name: 'qTiles', value: size.ceilDiv('seqQ', TQ) },
    { name: 'total', value: size.mul('batch', group.heads, size.ceilDiv('seqQ', TQ)) },
    { name: 'qBase', value: size.ceilDiv(arrays.q, unitWords) },
    { name: 'kBase', value: size.ceilDiv(arrays.k, unitWords) },
    { name: 'vBase', value: size.ceilDiv(arrays.v, unitWords) },
    { name: 'oBase', value: size.ceilDiv(arrays.o, unitWords) },
  ];
  if (hasSegment)
    uniforms.push(
      { name: 'segQBase', value: need(arrays.segQ) },
      { name: 'segKBase', value: need(arrays.segK) },
    );
  randomLeaves.forEach((leaf, n) => {
    uniforms.push(
      { name: `random${n}Base`, value: need(arrays.random[n] ?? null) },
      { name: `random${n}PerBlock`, value: size.min(leaf.count, size.ceilDiv('seqK', leaf.block)) },
    );
  });
  routedLeaves.forEach((leaf, n) => {
    const a = arrays.routed[n];
    if (!a) throw new Error('internal error: routed table missing');
    const r = leaf.routing;
    if (r.kind === 'topk') {
      uniforms.push(
        { name: `r${n}Means`, value: a.table },
        { name: `r${n}Blocks`, value: size.ceilDiv('seqK', r.block) },
      );
    } else {
      const o = bucketTableOffsets(a.table, group);
      uniforms.push(
        { name: `r${n}Buckets`, value: o.keyBuckets },
        { name: `r${n}Ranges`, value: o.ranges },
      );
      if (r.kind === 'cluster') uniforms.push({ name: `r${n}Mu`, value: need(a.centroids) });
      else uniforms.push({ name: `r${n}R`, value: need(a.projection) });
    }
  });

  const headRouting = arrays.headRouting ?? null;
  if (headRouting) {
    const at = uniforms.findIndex((u) => u.name === 'total');
    uniforms[at] = { name: 'total', value: routedTileBound(headRouting, group.heads, TQ) };
    uniforms.push(...keptRowUniforms(headRouting));
  }
  const lse = bindings.lse ?? null;
  if (lse && headRouting) throw new Error('internal error: the LSE output with head routing');
  uniforms.push(...lseUniforms(lse));

  const L: string[] = [];
  const emit = (line = '') => L.push(line);
  emit(
    `// attnc routed softmax: attention ${attention.name}, group ${group.name}, one row per invocation`,
  );
  emit(
    `// mask leaves: ${leaves.map((l) => (l.kind === 'routed' ? l.routing.kind : l.kind)).join(', ')}`,
  );
  emit(`const D: u32 = ${D}u;`);
  emit(`const DW: u32 = ${D / W}u;`);
  emit(`const DVW: u32 = ${DV / W}u;`);
  emit(`const HEADS: u32 = ${group.heads}u;`);
  emit(`const GROUP_SIZE: u32 = ${group.heads / group.kvHeads}u;`);
  emit(`const HKVG: u32 = ${group.kvHeads}u;`);
  emit(`const HEAD_OFFSET: u32 = ${group.headOffset}u;`);
  emit(`const KV_HEAD_OFFSET: u32 = ${group.kvHeadOffset}u;`);
  emit(`const TOTAL_HEADS: u32 = ${attention.heads}u;`);
  emit(`const TOTAL_KV_HEADS: u32 = ${attention.kvHeads}u;`);
  emit(`const TQ: u32 = ${TQ}u;`);
  emit('const NEG_BIG: f32 = -3.0e38;');
  emit('const NONE: u32 = 0xffffffffu;');
  emit();
  emitParamsStruct(emit, uniforms);
  const declare = emitTensorBindings(emit, bindings, stored);
  // aux as vec4 words (every array is 16-byte aligned): topk reads block means four at a time.
  declare(bindings.aux, 'read', 'vec4<u32>');
  if (lse) emitLseBinding(emit, lse);
  emit(`fn auxAt(i: u32) -> u32 { return ${aux}[i >> 2u][i & 3u]; }`);
  emit();
  if (headRouting) keptRowDeclarations((i) => `auxAt(${i})`, false).forEach((l) => emit(l));
  if (f16) {
    [...UNPACK_ROW_WGSL, ...PACK_ROW_WGSL].forEach((line) => emit(line));
    emit();
  }
  randomLeaves.forEach((leaf, n) =>
    renderFunction(randomHasFunction(n, leaf.block, (i) => call('auxAt', i))).forEach((line) =>
      emit(line),
    ),
  );
  if (hasSegment)
    emit('fn segKey(b: u32, j: u32) -> u32 { return auxAt(P.segKBase + b * P.seqK + j); }');
  if (randomLeaves.length > 0 || hasSegment) emit();
  if (score.softcap !== null) {
    TANH_SAFE_WGSL.forEach((line) => emit(line));
    emit();
  }
  routedLeaves.forEach((leaf, n) => {
    const r = leaf.routing;
    if (r.kind !== 'topk' || r.k <= TOPK_SORTED_MAX) return;
    const qPtr = `q: ptr<function, array<${vec}, DW>>`;
    emit(`// topk leaf ${n}: a candidate block's score as a u32 ordered like the f32 (-0 as +0).`);
    emit(`fn topkKey${n}(${qPtr}, mb: u32) -> u32 {`);
    emit('  var s = 0.0;');
    emit(
      W === 4
        ? `  for (var d = 0u; d < DW; d++) { s += dot((*q)[d], bitcast<vec4<f32>>(${aux}[(mb >> 2u) + d])); }`
        : '  for (var d = 0u; d < D; d++) { s += (*q)[d] * bitcast<f32>(auxAt(mb + d)); }',
    );
    emit('  let u = bitcast<u32>(select(s, 0.0, s == 0.0));');
    emit('  return select(u | 0x80000000u, ~u, (u & 0x80000000u) != 0u);');
    emit('}');
    emit('// Block t is the own block, or among the k best: above the k-th key, or tied with it');
    emit('// and below the cut (ties keep the lower blocks, as the reference).');
    emit(
      `fn topkPick${n}(${qPtr}, means: u32, t: u32, own: u32, cands: u32, thr: u32, cut: u32) -> bool {`,
    );
    emit('  if (t == own) { return true; }');
    emit('  if (t >= cands) { return false; }');
    emit(`  let key = topkKey${n}(q, means + t * D);`);
    emit('  return key > thr || (key == thr && t < cut);');
    emit('}');
    emit();
  });
  const kStride = bhnd ? 'DW' : 'TOTAL_KV_HEADS * DW';
  const vStride = bhnd ? 'DVW' : 'TOTAL_KV_HEADS * DVW';

  emit(`@compute @workgroup_size(${TQ})`);
  emit('fn main(');
  emit('  @builtin(workgroup_id) wid: vec3<u32>,');
  emit('  @builtin(num_workgroups) nwg: vec3<u32>,');
  emit('  @builtin(local_invocation_index) lid: u32,');
  emit(') {');
  emit('  let linear = wid.x + wid.y * nwg.x;');
  emit('  if (linear >= P.total) { return; }');
  if (headRouting) {
    keptRowSelection((i) => `auxAt(${i})`, TQ, false).forEach((l) => emit(l));
    emit('  let i = routeRow;');
  } else {
    emit('  let qt = linear % P.qTiles;');
    emit('  let bh = linear / P.qTiles;');
    emit('  let hl = bh % HEADS;');
    emit('  let b = bh / HEADS;');
    emit('  let h = HEAD_OFFSET + hl;');
  }
  emit('  let hkl = hl / GROUP_SIZE;');
  emit('  let hk = KV_HEAD_OFFSET + hkl;');
  if (!headRouting) {
    emit('  let i = qt * TQ + lid;');
    emit('  if (i >= P.seqQ) { return; }  // no barriers in this kernel');
  }
  emit('  let p = i + P.seqK - P.seqQ;');
  emit('  let pa = p;');
  emit('  let pb = p;');
  if (bhnd) {
    emit('  let qRow = P.qBase + ((b * TOTAL_HEADS + h) * P.seqQ + i) * DW;');
    emit('  let oRow = P.oBase + ((b * TOTAL_HEADS + h) * P.seqQ + i) * DVW;');
    emit('  let kBase0 = P.kBase + (b * TOTAL_KV_HEADS + hk) * P.seqK * DW;');
    emit('  let vBase0 = P.vBase + (b * TOTAL_KV_HEADS + hk) * P.seqK * DVW;');
  } else {
    emit('  let qRow = P.qBase + ((b * P.seqQ + i) * TOTAL_HEADS + h) * DW;');
    emit('  let oRow = P.oBase + ((b * P.seqQ + i) * TOTAL_HEADS + h) * DVW;');
    emit('  let kBase0 = P.kBase + (b * P.seqK * TOTAL_KV_HEADS + hk) * DW;');
    emit('  let vBase0 = P.vBase + (b * P.seqK * TOTAL_KV_HEADS + hk) * DVW;');
  }
  emit('  let NK = i32(P.seqK);');
  emit(`  var qrow: array<${vec}, DW>;`);
  emit(`  var acc: array<${vec}, DVW>;`);
  emit(`  for (var d = 0u; d < DW; d++) { qrow[d] = ${load(`${bindings.q.name}[qRow + d]`)}; }`);
  // The raw query (routing reads it unscaled, like the reference), as scalars.
  const qScalar = (d: string) => (W === 4 ? `qrow[${d} / 4u][${d} % 4u]` : `qrow[${d}]`);

  // Routing decisions of this row.
  const hasExpr = new Map<number, string>();
  routedLeaves.forEach((leaf, n) => {
    const r = leaf.routing;
    emit(`  // routed leaf ${n}: ${describe(r)}`);
    if (r.kind === 'topk' && r.k > TOPK_SORTED_MAX) {
      emitTopkThreshold(emit, n, r.k, r.block, r.causal);
      hasExpr.set(
        n,
        `topkPick${n}(&qraw${n}, means${n}, j / ${r.block}u, own${n}, cands${n}, thr${n}, cut${n})`,
      );
    } else if (r.kind === 'topk') {
      const K = r.k;
      emit(`  let own${n} = p / ${r.block}u;`);
      emit(`  var sel${n}: array<u32, ${K}>;`);
      emit(`  var sco${n}: array<f32, ${K}>;`);
      emit(`  for (var x = 0u; x < ${K}u; x++) { sel${n}[x] = NONE; sco${n}[x] = 0.0; }`);
      emit(
        `  let cands${n} = ${r.causal ? `own${n}` : `P.r${n}Blocks`};  // ${r.causal ? 'causal: blocks before the own block' : 'every other block'}`,
      );
      emit(`  for (var t = 0u; t < cands${n}; t++) {`);
      emit(`    if (t == own${n}) { continue; }`);
      emit(`    let mb = P.r${n}Means + ((b * HKVG + hkl) * P.r${n}Blocks + t) * D;`);
      emit('    var s = 0.0;');
      emit(
        W === 4
          ? `    for (var d = 0u; d < DW; d++) { s += dot(qrow[d], bitcast<vec4<f32>>(${aux}[(mb >> 2u) + d])); }`
          : `    for (var d = 0u; d < D; d++) { s += qrow[d] * bitcast<f32>(auxAt(mb + d)); }`,
      );
      emit('    // Strictly greater: ties keep the lower block, as the reference.');
      emit(`    var pos = ${K}u;`);
      emit(
        `    while (pos > 0u && (sel${n}[pos - 1u] == NONE || s > sco${n}[pos - 1u])) { pos--; }`,
      );
      emit(`    if (pos < ${K}u) {`);
      emit(
        `      for (var x = ${K - 1}u; x > pos; x--) { sel${n}[x] = sel${n}[x - 1u]; sco${n}[x] = sco${n}[x - 1u]; }`,
      );
      emit(`      sel${n}[pos] = t;`);
      emit(`      sco${n}[pos] = s;`);
      emit('    }');
      emit('  }');
      const kb = `(j / ${r.block}u)`;
      hasExpr.set(
        n,
        `(${[`${kb} == own${n}`, ...Array.from({ length: K }, (_, x) => `${kb} == sel${n}[${x}u]`)].join(' || ')})`,
      );
    } else {
      emit(`  var qb${n}: u32;`);
      emit('  {');
      // The key kernels' bucket choice (kernels/route-tables.ts), rendered for this template.
      const choice = block((b) =>
        bucketOfRow(
          b,
          r,
          (d) => raw(T.f32, qScalar(renderExpr(d))),
          (t) => raw(T.u32, `P.r${n}Mu + (hk * ${cTotal}u + ${renderExpr(t)}) * D`),
          uniform(`r${n}R`),
          (at) => call('auxAt', at),
        ),
      );
      renderStatements(choice, 2).forEach((line) => emit(line));
      emit(`    qb${n} = bucket;`);
      emit('  }');
      emit(`  let kb${n} = P.r${n}Buckets + (b * HKVG + hkl) * P.seqK;`);
      emit(`  let rg${n} = P.r${n}Ranges + ((b * HKVG + hkl) * ${bucketsOf(r)}u + qb${n}) * 2u;`);
      emit(`  let first${n} = auxAt(rg${n});`);
      emit(`  let end${n} = first${n} + auxAt(rg${n} + 1u);`);
      hasExpr.set(n, `(auxAt(kb${n} + j) == qb${n})`);
    }
  });
  emit(`  for (var d = 0u; d < DW; d++) { qrow[d] *= ${f32Lit(qFactor)}; }`);
  emit(`  for (var d = 0u; d < DVW; d++) { acc[d] = ${zero}; }`);
  emit('  var m = NEG_BIG;');
  emit('  var l = 0.0;');
  if (score.bias === 'alibi') emit('  let slope = exp2(-8.0 * f32(hl + 1u) / f32(HEADS));');
  if (hasSegment) emit('  let segRow = auxAt(P.segQBase + b * P.seqQ + i);');

  const allowed = allowedExpr(mask, { rules: [], randomOf, routedOf }).replace(
    /routedHas(\d+)\(j\)/g,
    (_, n: string) => hasExpr.get(Number(n))!,
  );
  // Hull of the whole mask (routed leaves count as everything): clips every source.
  const hull = visitRange(mask);
  emit('  // Hull of the mask: every source is clipped to [clipLo, clipHi).');
  if (hull.prefix === null) {
    emit(`  let clipLo = u32(clamp(${hull.lo}, 0i, NK));`);
    emit(`  let clipHi = u32(clamp(${hull.hi}, 0i, NK));`);
  } else {
    emit('  let clipLo = 0u;');
    emit('  let clipHi = P.seqK;');
  }

  const sources = keySources(mask);
  const seen: string[] = [];
  // A key of a routed or random leaf that is the mask, or a term of the top-level union, is
  // allowed without a check.
  const implied = new Set<Mask>(mask.kind === 'union' ? mask.terms : [mask]);
  const body = (indent: string, source: Source) => {
    const e = (line: string) => emit(indent + line);
    if (seen.length > 0) e(`if (${seen.join(' || ')}) { continue; }  // met by an earlier source`);
    if (source.kind === 'range' || !implied.has(source.leaf)) e(`if (!${allowed}) { continue; }`);
    e(`let kRow = kBase0 + j * ${kStride};`);
    e(`let vRow = vBase0 + j * ${vStride};`);
    emitKeyUpdate(e, {
      score,
      modified,
      kAt: load(`${bindings.k.name}[kRow + d]`),
      vAt: load(`${bindings.v.name}[vRow + d]`),
      dot,
      vectors: D / W,
      valueVectors: DV / W,
    });
  };
  sources.forEach((source, index) => {
    if (source.kind === 'range') {
      const v = visitRange(source.mask);
      emit(`  // source ${index}: static range of ${source.mask.kind}`);
      emit(`  let pre${index} = min(${v.prefix ?? '0u'}, P.seqK);`);
      emit(`  let lo${index} = max(u32(clamp(${v.lo}, 0i, NK)), pre${index});`);
      emit(`  let hi${index} = max(u32(clamp(${v.hi}, 0i, NK)), lo${index});`);
      emit(`  for (var n = 0u; n < 2u; n++) {`);
      emit(`    let ja = max(select(lo${index}, 0u, n == 0u), clipLo);`);
      emit(`    let j1 = min(select(hi${index}, pre${index}, n == 0u), clipHi);`);
      emit('    for (var j = ja; j < j1; j++) {');
      body('      ', source);
      emit('    }');
      emit('  }');
      seen.push(`(j < pre${index} || (j >= lo${index} && j < hi${index}))`);
    } else if (source.kind === 'random') {
      const n = randomOf.get(source.leaf)!;
      const blk = `${source.leaf.block}u`;
      emit(
        `  // source ${index}: random leaf ${n}, the key blocks drawn for the row's query block`,
      );
      emit(`  let rnd${n} = P.random${n}Base + (p / ${blk}) * P.random${n}PerBlock;`);
      emit(`  for (var x = 0u; x < P.random${n}PerBlock; x++) {`);
      emit(`    let blk = auxAt(rnd${n} + x);`);
      emit(`    let ja = max(blk * ${blk}, clipLo);`);
      emit(`    let j1 = min(min(blk * ${blk} + ${blk}, P.seqK), clipHi);`);
      emit('    for (var j = ja; j < j1; j++) {');
      body('      ', source);
      emit('    }');
      emit('  }');
      seen.push(`randomHas${n}(p, j)`);
    } else {
      const n = routedOf.get(source.leaf)!;
      const r = source.leaf.routing;
      emit(`  // source ${index}: routed leaf ${n} (${describe(r)})`);
      if (r.kind === 'topk' && r.k > TOPK_SORTED_MAX) {
        const B = `${r.block}u`;
        emit(`  let tEnd${n} = min(P.r${n}Blocks, (clipHi + ${B} - 1u) / ${B});`);
        emit(`  for (var t = clipLo / ${B}; t < tEnd${n}; t++) {`);
        emit(`    if (!${hasExpr.get(n)!.replace(`j / ${B}`, 't')}) { continue; }`);
        emit(`    let ja = max(t * ${B}, clipLo);`);
        emit(`    let j1 = min(min(t * ${B} + ${B}, P.seqK), clipHi);`);
        emit('    for (var j = ja; j < j1; j++) {');
        body('      ', source);
        emit('    }');
        emit('  }');
      } else if (r.kind === 'topk') {
        emit(`  for (var x = 0u; x <= ${r.k}u; x++) {`);
        emit(`    let blk = select(sel${n}[max(x, 1u) - 1u], own${n}, x == 0u);`);
        emit('    if (blk == NONE) { continue; }');
        emit(`    let ja = max(blk * ${r.block}u, clipLo);`);
        emit(`    let j1 = min(min(blk * ${r.block}u + ${r.block}u, P.seqK), clipHi);`);
        emit('    for (var j = ja; j < j1; j++) {');
        body('      ', source);
        emit('    }');
        emit('  }');
      } else {
        emit(`  for (var e = first${n}; e < end${n}; e++) {`);
        emit(`    let j = auxAt(e);`);
        emit('    if (j >= clipHi) { break; }  // lists are sorted by position');
        emit('    if (j < clipLo) { continue; }');
        body('    ', source);
        emit('  }');
      }
      seen.push(hasExpr.get(n)!);
    }
  });
  emit('  // A row with no allowed key gets 0, never 0/0.');
  emit(`  let inv = select(0.0, 1.0 / l, l > 0.0)${headRouting ? ' * routeWeight' : ''};`);
  emit(
    `  for (var d = 0u; d < DVW; d++) { ${bindings.o.name}[oRow + d] = ${store('acc[d] * inv')}; }`,
  );
  if (lse) emit(`  ${lseStore(lse, 'i', 'm', 'l')}`);
  emit('}');
  const loopIterations = routedLoopIterations({
    mask,
    sources,
    topkSortedMax: TOPK_SORTED_MAX,
    headDim: D,
    valueDim: DV,
    vectorWidth: W,
    headRouting: headRouting !== null,
  });
  return { wgsl: L.join('\n') + '\n', workgroupSize: TQ, uniforms, loopIterations };
}

/**
 * The row's choice for a topk leaf with k > TOPK_SORTED_MAX, as (thr, cut): the k-th best
 * candidate key (the largest T with at least k keys >= T, found bit by bit) and the block
 * after the last tie kept. With k at least the candidates, every candidate is kept.
 */
function emitTopkThreshold(
  emit: (line?: string) => void,
  n: number,
  k: number,
  block: number,
  causal: boolean,
): void {
  const K = `${k}u`;
  const key = (t: string) => `topkKey${n}(&qraw${n}, means${n} + ${t} * D)`;
  emit(`  let own${n} = p / ${block}u;`);
  emit(
    `  let cands${n} = ${causal ? `own${n}` : `P.r${n}Blocks`};  // ${causal ? 'causal: blocks before the own block' : 'every other block'}`,
  );
  emit(`  let means${n} = P.r${n}Means + (b * HKVG + hkl) * P.r${n}Blocks * D;`);
  emit(`  var qraw${n} = qrow;  // routing reads the unscaled query`);
  emit(`  let others${n} = cands${n} - select(0u, 1u, own${n} < cands${n});`);
  emit(`  var thr${n} = 0u;`);
  emit(`  var cut${n} = NONE;`);
  emit(`  if (${K} < others${n}) {`);
  emit('    for (var bit = 32u; bit > 0u; bit--) {');
  emit(`      let c = thr${n} | (1u << (bit - 1u));`);
  emit('      var count = 0u;');
  emit(`      for (var t = 0u; t < cands${n} && count < ${K}; t++) {`);
  emit(`        if (t != own${n} && ${key('t')} >= c) { count++; }`);
  emit('      }');
  emit(`      if (count >= ${K}) { thr${n} = c; }`);
  emit('    }');
  emit('    var kept = 0u;');
  emit(`    for (var t = 0u; t < cands${n}; t++) {`);
  emit(`      if (t != own${n} && ${key('t')} > thr${n}) { kept++; }`);
  emit('    }');
  emit(`    for (var t = 0u; t < cands${n} && kept < ${K}; t++) {`);
  emit(`      if (t != own${n} && ${key('t')} == thr${n}) {`);
  emit('        kept++;');
  emit(`        cut${n} = t + 1u;`);
  emit('      }');
  emit('    }');
  emit('  }');
}

function bucketsOf(r: Routing): number {
  return r.kind === 'cluster' ? r.count : r.kind === 'lsh' ? r.buckets : 0;
}

function describe(r: Routing): string {
  switch (r.kind) {
    case 'topk':
      return `topk(${r.k}, block: ${r.block})${r.causal ? ' causal' : ''}`;
    case 'cluster':
      return `cluster(${r.count})`;
    case 'lsh':
      return `lsh(buckets: ${r.buckets}, seed: ${r.seed})`;
  }
}

function need(x: SizeExpr | null): SizeExpr {
  if (x === null) throw new Error('internal error: routing array missing from layout');
  return x;
}
