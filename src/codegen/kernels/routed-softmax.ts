// The attention kernel of a head group whose mask has routed leaves (topk, cluster, lsh), on
// the kernel IR. One query row per invocation (both profiles: the routed key sets differ per
// row, so there is no tile to share), K/V read straight from storage. Each row first makes
// its routing decisions (routed-leaves.ts), then walks a list of *sources* of candidate keys
// (routing/key-source.ts):
//   - a static range (prefix [0, P) plus band [lo, hi), the closed forms of mask-exprs.ts) for
//     the static terms of a union;
//   - per routed leaf: its keys (topk: the own and selected blocks; cluster/lsh: the sorted
//     key list of the row's bucket);
//   - per `random` leaf that is a term of a union (or of an intersection): the key blocks
//     drawn for the row's query block (the host-drawn table the static kernels read).
// `segment` is never a source: it filters, through the per-key check (seg_q/seg_k in aux).
// A key met by an earlier source is skipped (a key allowed by two union terms counts once),
// every key is checked against the whole mask, and all keys are clipped to the mask's hull.
// The per-key update, row codecs, mask helpers and row addressing are the fused kernel's
// blocks; dtype f16 is packed (routing and accumulation stay f32).

import type { Attention, Group, Mask, MaskLeaf, Score } from '../../ir/ir.js';
import { maskLeaves } from '../../ir/ir.js';
import { findKeptList, selectKeptRow } from '../../kernel/blocks/kept-rows.js';
import { keyHeadsOf, keyRowWalk, keySlot, rowIndex } from '../../kernel/blocks/layout.js';
import { keyUpdate, LOWEST_SCORE, TANH_SAFE } from '../../kernel/blocks/online-softmax.js';
import { rowCodec, type RowCodec } from '../../kernel/blocks/row-codec.js';
import {
  add,
  and,
  binary,
  block,
  call,
  construct,
  div,
  eq,
  f32,
  ge,
  gt,
  hexU32,
  i32,
  index,
  KernelBuilder,
  lt,
  max,
  min,
  mod,
  mul,
  not,
  or,
  paren,
  ref,
  select,
  sub,
  T,
  u32,
  uniform,
  type BlockBuilder,
} from '../../kernel/build.js';
import type { Expr, HelperFunction, Kernel, BufferSlot } from '../../kernel/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import {
  keySources,
  ROUTED_QUERY_TILE,
  TOPK_SORTED_MAX,
  type Source,
} from '../routing/key-source.js';
import { routedLoopIterations } from '../routing/routed-loop-budget.js';
import { bucketTableOffsets, centroidCount } from '../routing/route-kernels.js';
import { keptRowUniforms, routedTileBound } from '../wgsl/emit-head-routing.js';
import {
  keySlotUniforms,
  lseUniforms,
  type SoftmaxArrays,
  type SoftmaxBindings,
} from '../wgsl/softmax-kernel-setup.js';
import { allowedExpr, visitRange } from './mask-exprs.js';
import { randomHasFunction, segmentKeyFunction } from './softmax-mask.js';
import { declareStorage, overVectors } from './softmax.js';
import { lseStore } from './softmax-walk.js';
import { partialRecord } from './decode-split.js';
import { partialRecordWords } from '../wgsl/decode-splits.js';
import { constantLoopCost } from '../wgsl/loop-budget.js';
import { queryType, routedLeafCode, type RoutedLeafCode } from './routed-leaves.js';
import { keyRowBases } from './softmax-rows.js';

/** The fused kernel's arrays (no segment-range tables: rows are checked per key), and: */
export interface RoutedArrays extends Omit<SoftmaxArrays, 'segRanges'> {
  /** Per routed leaf (leaf order): its table, and centroids (cluster) or R (lsh). */
  readonly routed: readonly {
    readonly table: SizeExpr;
    readonly centroids: SizeExpr | null;
    readonly projection: SizeExpr | null;
  }[];
}

type RoutedLeaf = Extract<MaskLeaf, { kind: 'routed' }>;
type RandomLeaf = Extract<MaskLeaf, { kind: 'random' }>;
type RoutedStep = {
  readonly score: Score;
  readonly mask: Mask;
  readonly plan: { vectorWidth: 1 | 4 };
};

/** What the kernel's parts share about the group's mask. */
interface RoutedMask {
  readonly leaves: readonly MaskLeaf[];
  readonly routed: readonly RoutedLeaf[];
  readonly random: readonly RandomLeaf[];
  readonly randomOf: ReadonlyMap<Mask, number>;
  readonly hasSegment: boolean;
  /** Per routed leaf (leaf order): its decision, key test and key walk. */
  readonly code: readonly RoutedLeafCode[];
}

const auxAt = (i: Expr | string) => call('auxAt', i);

/**
 * The split-K partial form of the kernel (few query rows, no head routing): one invocation per
 * (batch, head, row, split), each making the row's routing decisions and walking every key
 * source clipped to its split's positions [split * splitKeys, (split + 1) * splitKeys), then
 * writing a partial record (decode-split.ts's, merged by its merge kernel) instead of o.
 */
export interface RoutedSplit {
  readonly part: BufferSlot;
  /** Word offset of the records in `part`. */
  readonly partBase: SizeExpr;
  readonly splits: SizeExpr;
  /** Invocations per workgroup. */
  readonly workgroup: number;
}

export function routedSoftmaxKernel(
  attention: Attention,
  group: Group,
  step: RoutedStep,
  bindings: SoftmaxBindings,
  arrays: RoutedArrays,
  split: RoutedSplit | null = null,
): Kernel {
  const W = step.plan.vectorWidth;
  const codec = rowCodec(attention.dtype, W, false);
  const aux = bindings.aux;
  if (!aux) throw new Error('internal error: routed kernel without aux');
  const lse = bindings.lse ?? null;
  const headRouting = arrays.headRouting ?? null;
  if (lse && headRouting) throw new Error('internal error: the LSE output with head routing');
  if (split && (lse || headRouting))
    throw new Error('internal error: a split-K routed partial writes records, not o or lse');
  const leaves = maskLeaves(step.mask);
  const routed = leaves.filter((l): l is RoutedLeaf => l.kind === 'routed');
  const random = leaves.filter((l): l is RandomLeaf => l.kind === 'random');
  const shape = { width: W, aux: aux.name, centroids: centroidCount(attention) ?? 0 };
  const mask: RoutedMask = {
    leaves,
    routed,
    random,
    randomOf: new Map<Mask, number>(random.map((l, n) => [l, n])),
    hasSegment: leaves.some((l) => l.kind === 'segment'),
    code: routed.map((leaf, n) => routedLeafCode(leaf, n, shape)),
  };
  const k = new KernelBuilder(split ? split.workgroup : ROUTED_QUERY_TILE);
  k.header(
    split
      ? `attnc split-K decode, routed partial: attention ${attention.name}, group ${group.name}`
      : `attnc routed softmax: attention ${attention.name}, group ${group.name}, one row per invocation`,
    `mask leaves: ${leaves.map((l) => (l.kind === 'routed' ? l.routing.kind : l.kind)).join(', ')}`,
  );
  declareConstants(k, attention, group, W);
  if (split) k.const('REC', T.u32, u32(partialRecordWords(attention.valueDim, W) / W));
  // partBase in vectors of the records.
  const splitVectors = split && { ...split, partBase: size.ceilDiv(split.partBase, W) };
  for (const u of routedUniforms(attention, group, arrays, mask, codec.unitWords, splitVectors))
    k.uniform(u.name, u.value);
  for (const u of lseUniforms(lse)) k.uniform(u.name, u.value);
  const declare = declareStorage(k);
  for (const b of [bindings.q, bindings.k, bindings.v]) declare(b, 'read', codec.stored);
  if (split) declare(split.part, 'read_write', W === 4 ? T.vec(4, 'f32') : T.f32);
  else declare(bindings.o, 'read_write', codec.stored);
  // aux as vec4 words (every array is 16-byte aligned): topk reads block means four at a time.
  declare(aux, 'read', T.vec(4, 'u32'));
  if (lse) declare(lse.binding, 'read_write', T.f32);
  helperParagraphs(aux.name, step.score, codec, mask, headRouting !== null).forEach(
    (paragraph, n) =>
      paragraph.forEach((fn, m) => k.function(m === 0 && n > 0 ? { ...fn, blankBefore: 1 } : fn)),
  );
  if (split) k.gridIndex('invocation', 'x', 'total');
  else k.gridIndex('workgroup', 'linear', 'total');
  k.main((b) => {
    queryRow(b, attention, bindings, codec, headRouting !== null, W, split !== null);
    rowDecisions(b, step, mask, W);
    walkSources(b, attention, step, bindings, codec, mask, split !== null);
    if (split) {
      partialRecord(split.part.name, W).store(b, 'x');
      return;
    }
    b.comment('A row with no allowed key gets 0, never 0/0.');
    const norm = select(f32(0), div(f32(1), 'l'), gt('l', f32(0)));
    const inv = b.let('inv', headRouting ? mul(norm, 'routeWeight') : norm);
    overVectors(b, 'DVW', (body, d) =>
      body.store(bindings.o.name, add('oRow', d), codec.store(mul(index('acc', d), inv))),
    );
    if (lse) lseStore(b, lse);
  });
  const iterations = routedLoopIterations({
    mask: step.mask,
    sources: keySources(step.mask),
    topkSortedMax: TOPK_SORTED_MAX,
    headDim: attention.headDim,
    valueDim: attention.valueDim,
    vectorWidth: W,
    headRouting: headRouting !== null,
  });
  // The record's accumulator loop, in the split-K partial.
  k.loopIterations(
    split ? size.add(iterations, constantLoopCost(attention.valueDim / W)) : iterations,
  );
  return k.build();
}

function declareConstants(k: KernelBuilder, attention: Attention, group: Group, W: 1 | 4) {
  const constants: [string, number][] = [
    ['D', attention.headDim],
    ['DW', attention.headDim / W],
    ['DVW', attention.valueDim / W],
    ['HEADS', group.heads],
    ['GROUP_SIZE', group.heads / group.kvHeads],
    ['HKVG', group.kvHeads],
    ['HEAD_OFFSET', group.headOffset],
    ['KV_HEAD_OFFSET', group.kvHeadOffset],
    ['TOTAL_HEADS', attention.heads],
    ['TOTAL_KV_HEADS', attention.kvHeads],
    ['TQ', ROUTED_QUERY_TILE],
  ];
  for (const [name, value] of constants) k.const(name, T.u32, u32(value));
  k.const('NEG_BIG', T.f32, LOWEST_SCORE);
  k.const('NONE', T.u32, hexU32(0xffffffff));
}

function routedUniforms(
  attention: Attention,
  group: Group,
  arrays: RoutedArrays,
  mask: RoutedMask,
  unitWords: number,
  split: RoutedSplit | null,
): { name: string; value: SizeExpr }[] {
  const TQ = ROUTED_QUERY_TILE;
  const headRouting = arrays.headRouting ?? null;
  const uniforms: { name: string; value: SizeExpr }[] = [
    { name: 'batch', value: 'batch' },
    { name: 'seqQ', value: 'seqQ' },
    { name: 'seqK', value: 'seqK' },
    ...(split
      ? [
          { name: 'total', value: size.mul('batch', group.heads, 'seqQ', split.splits) },
          { name: 'splits', value: split.splits },
          { name: 'splitKeys', value: size.ceilDiv('seqK', split.splits) },
          { name: 'partBase', value: split.partBase },
        ]
      : [
          { name: 'qTiles', value: size.ceilDiv('seqQ', TQ) },
          {
            name: 'total',
            value: headRouting
              ? routedTileBound(headRouting, group.heads, TQ)
              : size.mul('batch', group.heads, size.ceilDiv('seqQ', TQ)),
          },
        ]),
    ...(['q', 'k', 'v', 'o'] as const).map((a) => ({
      name: `${a}Base`,
      value: size.ceilDiv(arrays[a], unitWords),
    })),
  ];
  if (mask.hasSegment)
    uniforms.push(
      { name: 'segQBase', value: need(arrays.segQ) },
      { name: 'segKBase', value: need(arrays.segK) },
    );
  mask.random.forEach((leaf, n) => {
    uniforms.push(
      { name: `random${n}Base`, value: need(arrays.random[n] ?? null) },
      { name: `random${n}PerBlock`, value: size.min(leaf.count, size.ceilDiv('seqK', leaf.block)) },
    );
  });
  mask.routed.forEach((leaf, n) => uniforms.push(...routedLeafUniforms(leaf, n, arrays, group)));
  if (headRouting) uniforms.push(...keptRowUniforms(headRouting));
  // Keys by position through keySlot: k itself in a plain run, a KV cache's store in a decode.
  uniforms.push(...keySlotUniforms(attention, group));
  return uniforms;
}

function routedLeafUniforms(leaf: RoutedLeaf, n: number, arrays: RoutedArrays, group: Group) {
  const a = arrays.routed[n];
  if (!a) throw new Error('internal error: routed table missing');
  const r = leaf.routing;
  if (r.kind === 'topk')
    return [
      { name: `r${n}Means`, value: a.table },
      { name: `r${n}Blocks`, value: size.ceilDiv('seqK', r.block) },
    ];
  const o = bucketTableOffsets(a.table, group);
  return [
    { name: `r${n}Buckets`, value: o.keyBuckets },
    { name: `r${n}Ranges`, value: o.ranges },
    r.kind === 'cluster'
      ? { name: `r${n}Mu`, value: need(a.centroids) }
      : { name: `r${n}R`, value: need(a.projection) },
  ];
}

/** Helper functions in paragraphs: aux, kept rows, codec, mask tables, tanh, routed leaves. */
function helperParagraphs(
  aux: string,
  score: Score,
  codec: RowCodec,
  mask: RoutedMask,
  headRouting: boolean,
): HelperFunction[][] {
  const auxAtFunction: HelperFunction = {
    name: 'auxAt',
    params: [{ name: 'i', type: T.u32 }],
    returns: T.u32,
    oneLine: true,
    body: block((b) =>
      b.return(index(index(aux, binary('>>', 'i', u32(2))), binary('&', 'i', u32(3)))),
    ),
  };
  const tables = [
    ...mask.random.map((leaf, n) => randomHasFunction(n, leaf.block, auxAt)),
    ...(mask.hasSegment ? [segmentKeyFunction(auxAt)] : []),
  ];
  return [
    [auxAtFunction],
    ...(headRouting ? [[findKeptList(auxAt)]] : []),
    ...(codec.helpers.length > 0 ? [[...codec.helpers]] : []),
    ...(tables.length > 0 ? [tables] : []),
    ...(score.softcap !== null ? [[TANH_SAFE]] : []),
    ...mask.code.filter((c) => c.helpers.length > 0).map((c) => [...c.helpers]),
  ];
}

/** The row (grid tile or kept-row list), its addresses and its unscaled query. */
function queryRow(
  b: BlockBuilder,
  attention: Attention,
  bindings: SoftmaxBindings,
  codec: RowCodec,
  headRouting: boolean,
  W: 1 | 4,
  split = false,
): void {
  if (split) {
    b.comment('x = ((b * HEADS + hl) * seqQ + i) * splits + split.');
    b.let('split', mod('x', uniform('splits')));
    const r = b.let('r', div('x', uniform('splits')));
    b.let('i', mod(r, uniform('seqQ')));
    const bh = b.let('bh', div(r, uniform('seqQ')));
    b.let('hl', mod(bh, 'HEADS'));
    b.let('b', div(bh, 'HEADS'));
    b.let('h', add('HEAD_OFFSET', 'hl'));
  } else if (headRouting) {
    selectKeptRow(b, auxAt, ROUTED_QUERY_TILE);
    b.let('i', 'routeRow');
  } else {
    b.let('qt', mod('linear', uniform('qTiles')));
    const bh = b.let('bh', div('linear', uniform('qTiles')));
    const hl = b.let('hl', mod(bh, 'HEADS'));
    b.let('b', div(bh, 'HEADS'));
    b.let('h', add('HEAD_OFFSET', hl));
  }
  const hkl = b.let('hkl', div('hl', 'GROUP_SIZE'));
  b.let('hk', add('KV_HEAD_OFFSET', hkl));
  if (!headRouting && !split) {
    const i = b.let('i', add(mul('qt', 'TQ'), 'lid'));
    b.comment('No barriers in this kernel: an invocation past the rows returns.');
    b.returnIf(ge(i, uniform('seqQ')));
  }
  const p = b.let('p', sub(add('i', uniform('seqK')), uniform('seqQ')));
  b.let('pa', p);
  b.let('pb', p);
  const layout = attention.layout;
  const seqQ = uniform('seqQ');
  const seqK = uniform('seqK');
  b.let('qRow', add(uniform('qBase'), rowIndex(layout, 'TOTAL_HEADS', seqQ, 'DW', 'b', 'h', 'i')));
  b.let('oRow', add(uniform('oBase'), rowIndex(layout, 'TOTAL_HEADS', seqQ, 'DVW', 'b', 'h', 'i')));
  keyRowBases(b, attention);
  b.let('NK', construct(T.i32, seqK));
  b.var('qrow', undefined, queryType(W));
  b.var('acc', undefined, T.array(W === 4 ? T.vec(4, 'f32') : T.f32, 'DVW'));
  overVectors(b, 'DW', (body, d) =>
    body.assign(index('qrow', d), codec.load(index(bindings.q.name, add('qRow', d)))),
  );
}

/** The routing decisions, then the scaled query, the accumulators and the row's constants. */
function rowDecisions(b: BlockBuilder, step: RoutedStep, mask: RoutedMask, W: 1 | 4): void {
  mask.routed.forEach((leaf, n) => {
    b.comment(`routed leaf ${n}: ${describe(leaf)}`);
    mask.code[n]!.decide(b);
  });
  const { score } = step;
  const modified = score.softcap !== null || score.bias !== null;
  const qFactor = modified ? score.scale : score.scale * Math.LOG2E;
  overVectors(b, 'DW', (body, d) => body.compound(index('qrow', d), '*=', f32(qFactor)));
  const zero = W === 4 ? construct(T.vec(4, 'f32'), f32(0)) : f32(0);
  overVectors(b, 'DVW', (body, d) => body.assign(index('acc', d), zero));
  b.var('m', 'NEG_BIG');
  b.var('l', f32(0));
  if (score.bias === 'alibi')
    b.let(
      'slope',
      call(
        'exp2',
        div(mul(f32(-8), construct(T.f32, add('hl', u32(1)))), construct(T.f32, 'HEADS')),
      ),
    );
  if (mask.hasSegment)
    b.let('segRow', auxAt(add(uniform('segQBase'), mul('b', uniform('seqQ')), 'i')));
}

function describe(leaf: RoutedLeaf): string {
  const r = leaf.routing;
  switch (r.kind) {
    case 'topk':
      return `topk(${r.k}, block: ${r.block})${r.causal ? ' causal' : ''}`;
    case 'cluster':
      return `cluster(${r.count})`;
    case 'lsh':
      return `lsh(buckets: ${r.buckets}, seed: ${r.seed})`;
  }
}

/** Each source's keys, clipped to the mask's hull, skipping keys an earlier source met. */
function walkSources(
  b: BlockBuilder,
  attention: Attention,
  step: RoutedStep,
  bindings: SoftmaxBindings,
  codec: RowCodec,
  mask: RoutedMask,
  split: boolean,
): void {
  const routedHas = new Map<Mask, Expr>(
    mask.routed.map((leaf, n) => [leaf, mask.code[n]!.has(ref('j'))]),
  );
  const allowed = allowedExpr(step.mask, { rules: [], randomOf: mask.randomOf, routedHas });
  const hull = visitRange(step.mask);
  b.comment('Hull of the mask: every source is clipped to [clipLo, clipHi).');
  const clamped = (x: Expr) => construct(T.u32, call('clamp', x, i32(0), 'NK'));
  const lo = hull.prefix === null ? clamped(hull.lo) : u32(0);
  const hi = hull.prefix === null ? clamped(hull.hi) : uniform('seqK');
  if (split) {
    b.comment("A split's keys: the hull within [split * splitKeys, (split + 1) * splitKeys).");
    const first = b.let('splitLo', mul('split', uniform('splitKeys')));
    b.let('clipLo', max(lo, first));
    b.let('clipHi', min(hi, add(first, uniform('splitKeys'))));
  } else {
    b.let('clipLo', lo);
    b.let('clipHi', hi);
  }
  const seen: Expr[] = [];
  // A key of a routed or random leaf that is the mask, or a term of the top-level union, is
  // allowed without a check.
  const implied = new Set<Mask>(step.mask.kind === 'union' ? step.mask.terms : [step.mask]);
  const W = step.plan.vectorWidth;
  keySources(step.mask).forEach((source, n) => {
    const earlier = [...seen];
    const key = (body: BlockBuilder) => {
      if (earlier.length > 0) {
        body.comment('Met by an earlier source.');
        body.if(or(...(earlier as [Expr, ...Expr[]])), (c) => c.continue(), undefined, {
          oneLine: true,
        });
      }
      if (source.kind === 'range' || !implied.has(source.leaf))
        body.if(not(allowed), (c) => c.continue(), undefined, { oneLine: true });
      keyStep(body, attention, step, bindings, codec, W);
    };
    seen.push(walkSource(b, source, n, mask, key));
  });
}

/** Walks one source; returns its test of key j (what later sources skip). */
function walkSource(
  b: BlockBuilder,
  source: Source,
  n: number,
  mask: RoutedMask,
  key: (body: BlockBuilder) => void,
): Expr {
  const j = ref('j');
  if (source.kind === 'range') {
    const v = visitRange(source.mask);
    b.comment(`source ${n}: static range of ${source.mask.kind}`);
    const NK = 'NK';
    const clamped = (x: Expr) => construct(T.u32, call('clamp', x, i32(0), NK));
    const pre = b.let(`pre${n}`, min(v.prefix ?? u32(0), uniform('seqK')));
    const lo = b.let(`lo${n}`, max(clamped(v.lo), pre));
    const hi = b.let(`hi${n}`, max(clamped(v.hi), lo));
    b.range('n', u32(2), (pass, x) => {
      const first = eq(x, u32(0));
      const ja = pass.let('ja', max(select(lo, u32(0), first), 'clipLo'));
      const j1 = pass.let('j1', min(select(hi, pre, first), 'clipHi'));
      pass.for(
        'j',
        ja,
        (jj) => lt(jj, j1),
        (body) => key(body),
      );
    });
    return paren(or(lt(j, pre), paren(and(ge(j, lo), lt(j, hi)))));
  }
  if (source.kind === 'random') {
    const r = mask.randomOf.get(source.leaf)!;
    const blk = u32(source.leaf.block);
    b.comment(`source ${n}: random leaf ${r}, the key blocks drawn for the row's query block`);
    const perBlock = uniform(`random${r}PerBlock`);
    const rnd = b.let(
      `rnd${r}`,
      add(uniform(`random${r}Base`), mul(paren(div('p', blk)), perBlock)),
    );
    b.range('x', perBlock, (body, x) => {
      const block0 = body.let('blk', auxAt(add(rnd, x)));
      const ja = body.let('ja', max(mul(block0, blk), 'clipLo'));
      const j1 = body.let('j1', min(min(add(mul(block0, blk), blk), uniform('seqK')), 'clipHi'));
      body.for(
        'j',
        ja,
        (jj) => lt(jj, j1),
        (inner) => key(inner),
      );
    });
    return call(`randomHas${r}`, 'p', j);
  }
  const r = mask.routed.indexOf(source.leaf);
  b.comment(`source ${n}: routed leaf ${r} (${describe(source.leaf)})`);
  mask.code[r]!.walk(b, key);
  return mask.code[r]!.has(j);
}

/** One key's score, online-softmax update and value product (j is the key index). */
function keyStep(
  b: BlockBuilder,
  attention: Attention,
  step: RoutedStep,
  bindings: SoftmaxBindings,
  codec: RowCodec,
  W: 1 | 4,
): void {
  const keyHeads = keyHeadsOf(attention.groups.length);
  const kWalk = keyRowWalk(attention.layout, keyHeads, 'DW', 'b');
  const vWalk = keyRowWalk(attention.layout, keyHeads, 'DVW', 'b');
  // k and v share the key's row (its slot in a KV cache ring).
  const slot = b.let('slot', keySlot('j'));
  const kRow = b.let('kRow', kWalk.atSlot('kBase0', slot));
  const vRow = b.let('vRow', vWalk.atSlot('vBase0', slot));
  const at = (binding: string, row: Expr) => codec.load(index(binding, add(row, 'd')));
  const { score } = step;
  keyUpdate(b, {
    score,
    modified: score.softcap !== null || score.bias !== null,
    kAt: at(bindings.k.name, kRow),
    vAt: at(bindings.v.name, vRow),
    dot: (a, c) => (W === 4 ? call('dot', a, c) : mul(a, c)),
    vectors: attention.headDim / W,
    valueVectors: attention.valueDim / W,
  });
}

function need(x: SizeExpr | null): SizeExpr {
  if (x === null) throw new Error('internal error: routing array missing from layout');
  return x;
}
