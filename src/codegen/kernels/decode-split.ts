// Split-K decode kernels (flash-decoding) of one softmax group, for steps with few query rows
// (a decode step, a short chunk), on the kernel IR: the fused kernel gives each query row one
// invocation over the whole key range, so a step of one row runs one invocation per head.
// Here the key tiles are cut into `splits` ranges chosen at run time (decode-splits.ts). The
// partial kernel is an instance of the fused kernel's blocks: a row source of one
// (batch, head, row, split) per invocation (softmax-rows.ts), the same query row, mask
// helpers, tile classification and per-key online-softmax update, and the rowwise key walk
// over the split's share of the visited tiles (softmax-walk.ts); it writes its running max,
// sum and accumulator to scratch. The merge kernel combines a row's splits into o (and the
// LSE).

import type { Attention, BlockPlan, Group, Mask } from '../../ir/ir.js';
import { maskLeaves } from '../../ir/ir.js';
import { keyHeadsOf, rowIndex } from '../../kernel/blocks/layout.js';
import { rowCodec } from '../../kernel/blocks/row-codec.js';
import {
  add,
  call,
  construct,
  div,
  f32,
  gt,
  index,
  KernelBuilder,
  lt,
  max,
  member,
  mod,
  mul,
  paren,
  select,
  sub,
  T,
  u32,
  uniform,
  type BlockBuilder,
  type Operand,
} from '../../kernel/build.js';
import type { Expr, Kernel, BufferSlot } from '../../kernel/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import { constantLoopCost, loopCost } from '../wgsl/loop-budget.js';
import {
  keySlotUniforms,
  lseUniforms,
  softmaxKernelSetup,
  type FusedStep,
  type KernelTarget,
  type LseOutput,
  type SoftmaxArrays,
} from '../wgsl/softmax-kernel-setup.js';
import { decodeSplits, decodeTilesPerSplit, partialRecordWords } from '../wgsl/decode-splits.js';
import {
  declareConstants,
  declareStorage,
  helperParagraphs,
  overVectors,
  queryRow,
} from './softmax.js';
import { kvHeadSplitRows, splitRows } from './softmax-rows.js';
import { kvHeadLoopCosts, kvHeadQueryRows, overHeads, servesKvHead } from './decode-split-heads.js';
import { keyWalk, lseStore } from './softmax-walk.js';

export interface DecodeBindings {
  readonly q: BufferSlot;
  readonly k: BufferSlot;
  readonly v: BufferSlot;
  readonly aux: BufferSlot | null;
  /** The scratch of partial results (read_write in the partial kernel, read in the merge). */
  readonly part: BufferSlot;
  readonly o: BufferSlot;
  readonly lse: LseOutput | null;
}

/**
 * Invocations per workgroup of both kernels: llvmpipe runs a workgroup's invocations as SIMD
 * lanes of 8 on one thread, so small workgroups spread a decode step over its threads; GPUs
 * get a full warp.
 */
export function decodeWorkgroup(plan: BlockPlan): number {
  return plan.variant === 'rowwise' ? 8 : 64;
}

/**
 * The group's split count at run time (decode-splits.ts): its partial kernel has one
 * invocation per (batch, row, split) and kv head, or query head where one invocation does not
 * serve a kv head's query heads.
 */
export function groupDecodeSplits(attention: Attention, group: Group, plan: BlockPlan): SizeExpr {
  const perKvHead = servesKvHead(
    group.heads / group.kvHeads,
    attention.headDim,
    attention.valueDim,
    plan.vectorWidth,
  );
  const heads = perKvHead ? group.kvHeads : group.heads;
  return decodeSplits(plan.keyTile, size.mul('batch', 'seqQ', heads));
}

/**
 * One partial record in the scratch, `REC` vectors from `rec`: the accumulator (DVW vectors),
 * then the running max and sum in base 2 (one vec4 (m, l, 0, 0) at width 4, two floats at
 * width 1). The partial kernel writes it, the merge kernel reads it.
 */
export function partialRecord(part: string, width: 1 | 4) {
  const totals = (rec: Expr) => add(rec, 'DVW');
  const total = (rec: Expr, n: 0 | 1) =>
    width === 4
      ? member(index(part, totals(rec)), n === 0 ? 'x' : 'y')
      : index(part, n === 0 ? totals(rec) : add(totals(rec), u32(1)));
  return {
    /** Where vector `d` of the accumulator lies. */
    accAt: (rec: Expr, d: Expr) => add(rec, d),
    max: (rec: Expr) => total(rec, 0),
    sum: (rec: Expr) => total(rec, 1),
    /** The row's acc, m and l as record number `record` (from `P.partBase`). */
    store(b: BlockBuilder, record: Operand): void {
      b.comment('The record: acc (DV floats), then the running max and sum (base 2).');
      const rec = b.let('rec', add(uniform('partBase'), mul(record, 'REC')));
      overVectors(b, 'DVW', (body, d) => body.store(part, add(rec, d), index('acc', d)));
      this.storeTotals(b, rec);
    },
    storeTotals(b: BlockBuilder, rec: Expr, m: Expr | string = 'm', l: Expr | string = 'l'): void {
      if (width === 4) b.store(part, totals(rec), construct(T.vec(4, 'f32'), m, l, f32(0), f32(0)));
      else {
        b.store(part, totals(rec), m);
        b.store(part, add(totals(rec), u32(1)), l);
      }
    },
  };
}

const vectorType = (width: 1 | 4) => (width === 4 ? T.vec(4, 'f32') : T.f32);

/**
 * The partial kernel: one invocation per (batch, head, row, split), the heads of a kv head
 * side by side (splitRows), its record at the merge kernel's index `record`.
 */
export function decodePartialKernel(
  attention: Attention,
  group: Group,
  step: FusedStep,
  bindings: DecodeBindings,
  arrays: SoftmaxArrays & { readonly part: SizeExpr },
  target: KernelTarget,
): Kernel {
  const { plan, mask } = step;
  const W = plan.vectorWidth;
  const codec = rowCodec(attention.dtype, W, target.nativeF16);
  const setup = softmaxKernelSetup(group, step, arrays, codec.unitWords);
  const splits = groupDecodeSplits(attention, group, plan);
  const groupSize = group.heads / group.kvHeads;
  const perKvHead = servesKvHead(groupSize, attention.headDim, attention.valueDim, W);
  const k = new KernelBuilder(decodeWorkgroup(plan));
  k.header(
    `attnc split-K decode, partial: attention ${attention.name}, group ${group.name}`,
    `mask leaves: ${setup.leaves.map((l) => l.kind).join(', ')}`,
  );
  declareConstants(k, attention, group, plan, [['REC', recordVectors(attention, plan)]]);
  const invocations = perKvHead
    ? size.mul('batch', group.kvHeads, 'seqQ', splits)
    : size.mul('batch', group.heads, 'seqQ', splits);
  for (const u of [...setup.uniforms, ...setup.randomUniforms])
    k.uniform(u.name, u.name === 'total' ? invocations : u.value);
  k.uniform('splits', splits);
  k.uniform('tilesPerSplit', decodeTilesPerSplit(plan.keyTile, splits));
  k.uniform('partBase', size.ceilDiv(arrays.part, W));
  for (const u of keySlotUniforms(attention, group)) k.uniform(u.name, u.value);
  const declare = declareStorage(k);
  for (const b of [bindings.q, bindings.k, bindings.v]) declare(b, 'read', codec.stored);
  declare(bindings.part, 'read_write', vectorType(W));
  if (bindings.aux) declare(bindings.aux, 'read', T.u32);
  helperParagraphs(step, setup, codec, bindings.aux, false).forEach((paragraph, n) =>
    paragraph.forEach((fn, m) => k.function(m === 0 && n > 0 ? { ...fn, blankBefore: 1 } : fn)),
  );
  k.gridIndex('invocation', 'x', 'total');
  k.main((b) => {
    if (perKvHead) {
      kvHeadSplitRows(b);
      kvHeadQueryRows(b, attention, step, setup, bindings, codec);
    } else {
      splitRows(b);
      queryRow(b, attention, step, setup, bindings, codec, false);
    }
    keyWalk(b, {
      mask,
      score: step.score,
      modified: setup.modified,
      tiles: 'split',
      codec,
      bindings,
      layout: attention.layout,
      keyHeads: keyHeadsOf(attention.groups.length),
      width: W,
      vectors: attention.headDim / W,
      valueVectors: attention.valueDim / W,
      heads: perKvHead ? 'kvHead' : 'one',
    });
    const record = partialRecord(bindings.part.name, W);
    if (perKvHead) {
      b.comment('The records: acc (DV floats), then the running max and sum (base 2).');
      overHeads(b, (head, g) => {
        const rec = head.let(
          'rec',
          add(uniform('partBase'), mul(paren(add('record0', mul(g, 'recordStride'))), 'REC')),
        );
        overVectors(head, 'DVW', (body, d) =>
          body.store(bindings.part.name, record.accAt(rec, d), index(index('accs', g), d)),
        );
        record.storeTotals(head, rec, index('ms', g), index('ls', g));
      });
    } else record.store(b, 'record');
  });
  k.loopIterations(partialLoopIterations(step, attention, perKvHead ? groupSize : 1, splits));
  return k.build();
}

/** Vectors of one partial record (`REC`). */
function recordVectors(attention: Attention, plan: BlockPlan): number {
  return partialRecordWords(attention.valueDim, plan.vectorWidth) / plan.vectorWidth;
}

/**
 * An upper bound of the partial kernel's loop iterations per invocation: at most
 * `tilesPerSplit` tiles, each a step and a classification (with the random leaves' scans),
 * at most `tilesPerSplit * TK` keys, each a step, the score and value loops (with GROUP_SIZE
 * heads an invocation, the loop over the heads: decode-split-heads.ts) and the random leaves'
 * per-key scans, and per row (per head) the q, acc and record loops.
 */
function partialLoopIterations(
  step: FusedStep,
  attention: Attention,
  groupSize: number,
  splits: SizeExpr,
): SizeExpr {
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
  const tiles = decodeTilesPerSplit(plan.keyTile, splits);
  const keys = size.min('seqK', size.mul(tiles, plan.keyTile));
  const rowLoops = constantLoopCost(DW) + 2 * constantLoopCost(DVW);
  const heads =
    groupSize > 1
      ? kvHeadLoopCosts(groupSize, attention.headDim, attention.valueDim, W)
      : { perKey: rowLoops, perRow: rowLoops + 2 };
  const perKey = 1 + heads.perKey + randomPerKey;
  const perRow = heads.perRow;
  return size.add(size.mul(tiles, 1 + randomPerTile), size.mul(keys, perKey), perRow);
}

/** The merge kernel: one invocation per (batch, head, row) combines its splits' records. */
export function decodeMergeKernel(
  attention: Attention,
  group: Group,
  plan: BlockPlan,
  bindings: DecodeBindings,
  arrays: { readonly part: SizeExpr; readonly o: SizeExpr },
  target: KernelTarget,
  /** The partial kernel's split count (routed groups cut by positions: routed-softmax.ts). */
  splits: SizeExpr = groupDecodeSplits(attention, group, plan),
): Kernel {
  const W = plan.vectorWidth;
  const codec = rowCodec(attention.dtype, W, target.nativeF16);
  const lse = bindings.lse;
  const k = new KernelBuilder(decodeWorkgroup(plan));
  k.header(`attnc split-K decode, merge: attention ${attention.name}, group ${group.name}`);
  declareConstants(k, attention, group, plan, [['REC', recordVectors(attention, plan)]]);
  k.uniform('seqQ', 'seqQ');
  k.uniform('total', size.mul('batch', group.heads, 'seqQ'));
  k.uniform('splits', splits);
  k.uniform('partBase', size.ceilDiv(arrays.part, W));
  k.uniform('oBase', size.ceilDiv(arrays.o, codec.unitWords));
  for (const u of lseUniforms(lse)) k.uniform(u.name, u.value);
  const declare = declareStorage(k);
  declare(bindings.part, 'read', vectorType(W));
  declare(bindings.o, 'read_write', codec.stored);
  if (lse) declare(lse.binding, 'read_write', T.f32);
  for (const fn of codec.helpers) k.function(fn);
  k.gridIndex('invocation', 'x', 'total');
  k.main((b) => {
    b.comment('x = (b * HEADS + hl) * seqQ + row, whose records are x * splits + split.');
    const row = b.let('row', mod('x', uniform('seqQ')));
    const bh = b.let('bh', div('x', uniform('seqQ')));
    const hl = b.let('hl', mod(bh, 'HEADS'));
    b.let('b', div(bh, 'HEADS'));
    b.let('h', add('HEAD_OFFSET', hl));
    const oRow = b.let(
      'oRow',
      add(
        uniform('oBase'),
        rowIndex(attention.layout, 'TOTAL_HEADS', uniform('seqQ'), 'DVW', 'b', 'h', row),
      ),
    );
    mergeSplits(b, bindings.part.name, W);
    b.comment('A row with no allowed key gets 0, never 0/0.');
    const inv = b.let('inv', select(f32(0), div(f32(1), 'l'), gt('l', f32(0))));
    overVectors(b, 'DVW', (body, d) =>
      body.store(bindings.o.name, add(oRow, d), codec.store(mul(index('acc', d), inv))),
    );
    if (lse) lseStore(b, lse, 'row');
  });
  const DVW = attention.valueDim / W;
  k.loopIterations(
    size.add(
      size.mul(2, splits),
      size.mul(splits, constantLoopCost(DVW)),
      4 + 2 * constantLoopCost(DVW),
    ),
  );
  return k.build();
}

/** m, l and acc of the row from its splits' records: the largest max, then rescaled sums. */
function mergeSplits(b: BlockBuilder, part: string, width: 1 | 4): void {
  const record = partialRecord(part, width);
  const first = b.let('first', add(uniform('partBase'), mul('x', uniform('splits'), 'REC')));
  const m = b.var('m', 'NEG_BIG');
  const overSplits = (body: (b: BlockBuilder, s: Expr) => void, oneLine = false) =>
    b.for('s', u32(0), (s) => lt(s, uniform('splits')), body, { oneLine });
  overSplits((body, s) => body.assign(m, max(m, record.max(add(first, mul(s, 'REC'))))), true);
  b.var('acc', undefined, T.array(vectorType(width), 'DVW'));
  const zero = width === 4 ? construct(T.vec(4, 'f32'), f32(0)) : f32(0);
  overVectors(b, 'DVW', (body, d) => body.assign(index('acc', d), zero));
  const l = b.var('l', f32(0));
  overSplits((body, s) => {
    const rec = body.let('rec', add(first, mul(s, 'REC')));
    body.comment('A split with no allowed key has l = 0 and acc = 0: it adds nothing.');
    const c = body.let('c', call('exp2', sub(record.max(rec), m)));
    body.compound(l, '+=', mul(c, record.sum(rec)));
    overVectors(body, 'DVW', (inner, d) =>
      inner.compound(index('acc', d), '+=', mul(c, index(part, record.accAt(rec, d)))),
    );
  });
}
