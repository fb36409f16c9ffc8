// The fused softmax kernel of one head group, on the kernel IR: score, mask, softcap, alibi,
// online softmax (exp2, rescaled lazily: only when the running max grows) and the value
// product, in one pass over K/V. Each invocation owns one query row; a workgroup owns a query
// tile (softmax-rows.ts: a grid tile, or a tile of a kept-row list under head routing) and
// walks key tiles (softmax-walk.ts), visiting only the visit range of the tile (mask-exprs.ts),
// classifying each key tile, skipping empty ones and checking the mask per element only in
// partial ones. Variant `tiled` stages each K/V tile in workgroup memory so the workgroup's
// rows share one load (GPU-shaped); `rowwise` reads K/V straight from storage (CPU-shaped).

import type { Attention, BlockPlan, Group } from '../../ir/ir.js';
import { keyHeadsOf, rowIndex } from '../../kernel/blocks/layout.js';
import { LOWEST_SCORE, TANH_SAFE } from '../../kernel/blocks/online-softmax.js';
import { rowCodec, type RowCodec } from '../../kernel/blocks/row-codec.js';
import {
  add,
  call,
  construct,
  div,
  f32,
  ge,
  gt,
  index,
  int,
  KernelBuilder,
  lt,
  mul,
  select,
  T,
  u32,
  uniform,
  type BlockBuilder,
} from '../../kernel/build.js';
import type { Expr, HelperFunction, Kernel, Type, BufferSlot } from '../../kernel/ir.js';
import { routedRowsUniforms, routedTileBound } from '../wgsl/emit-head-routing.js';
import { softmaxLoopIterations } from '../wgsl/loop-budget.js';
import {
  keySlotUniforms,
  lseUniforms,
  softmaxKernelSetup,
  type FusedStep,
  type KernelTarget,
  type SoftmaxArrays,
  type SoftmaxBindings,
  type SoftmaxKernelSetup,
} from '../wgsl/softmax-kernel-setup.js';
import { auxWords, maskHelperParagraphs } from './softmax-mask.js';
import {
  findRoutedListFunction,
  gridRows,
  keyRowBases,
  routedRows,
  routedWeight,
} from './softmax-rows.js';
import { keyWalk, lseStore } from './softmax-walk.js';

export function softmaxKernel(
  attention: Attention,
  group: Group,
  step: FusedStep,
  bindings: SoftmaxBindings,
  arrays: SoftmaxArrays,
  target: KernelTarget = { nativeF16: false },
): Kernel {
  const { plan, mask } = step;
  const codec = rowCodec(attention.dtype, plan.vectorWidth, target.nativeF16);
  const setup = softmaxKernelSetup(group, step, arrays, codec.unitWords);
  const routed = arrays.headRouting ?? null;
  const lse = bindings.lse ?? null;
  if (routed && !bindings.aux) throw new Error('internal error: head routing without aux');
  if (lse && routed) throw new Error('internal error: the LSE output with head routing');
  const k = new KernelBuilder(plan.queryTile);
  k.header(
    `attnc fused softmax: attention ${attention.name}, group ${group.name}, variant ${plan.variant}`,
    `mask leaves: ${setup.leaves.map((l) => l.kind).join(', ')}`,
  );
  declareConstants(k, attention, group, plan);
  for (const u of setup.uniforms)
    k.uniform(
      u.name,
      u.name === 'total' && routed ? routedTileBound(routed, group.heads, plan.queryTile) : u.value,
    );
  if (routed) for (const u of routedRowsUniforms(routed)) k.uniform(u.name, u.value);
  for (const u of [
    ...setup.randomUniforms,
    ...lseUniforms(lse),
    ...keySlotUniforms(attention, group),
  ])
    k.uniform(u.name, u.value);
  declareBindings(k, bindings, codec);
  const tiled = plan.variant === 'tiled';
  if (tiled) declareTiles(k, attention, plan);
  if (routed && tiled) k.workgroupVar('wgRoute', T.u32, undefined, { blankBefore: 1 });
  helperParagraphs(step, setup, codec, bindings.aux, routed !== null).forEach((paragraph, n) =>
    paragraph.forEach((fn, m) =>
      k.function(m === 0 && (n > 0 || !tiled) ? { ...fn, blankBefore: 1 } : fn),
    ),
  );
  k.gridIndex(
    'workgroup',
    'linear',
    'total',
    'Dispatches fold (batch, head, query tile) into up to two dimensions.',
  );
  k.main((b) => {
    if (routed) routedRows(b, bindings.aux!.name, tiled);
    else gridRows(b);
    queryRow(b, attention, step, setup, bindings, codec);
    keyWalk(b, {
      mask,
      score: step.score,
      modified: setup.modified,
      tiles: tiled ? 'staged' : 'flat',
      codec,
      bindings,
      layout: attention.layout,
      keyHeads: keyHeadsOf(attention.groups.length),
      width: plan.vectorWidth,
      vectors: attention.headDim / plan.vectorWidth,
      valueVectors: attention.valueDim / plan.vectorWidth,
    });
    b.if(ge('i', uniform('seqQ')), (t) => t.return(), undefined, { oneLine: true });
    b.comment('A row with no allowed key gets 0, never 0/0.');
    const norm = select(f32(0), div(f32(1), 'l'), gt('l', f32(0)));
    const inv = b.let('inv', routed ? mul(norm, routedWeight(bindings.aux!.name)) : norm);
    overVectors(b, 'DVW', (body, d) =>
      body.store(bindings.o.name, add('oRow', d), codec.store(mul(index('acc', d), inv))),
    );
    if (lse) lseStore(b, lse);
  });
  k.loopIterations(
    softmaxLoopIterations({
      mask,
      plan,
      headDim: attention.headDim,
      valueDim: attention.valueDim,
      headRouting: routed !== null,
    }),
  );
  return k.build();
}

/** The group's shape and tile constants, then `extra` (a kernel's own), then NEG_BIG. */
export function declareConstants(
  k: KernelBuilder,
  attention: Attention,
  group: Group,
  plan: BlockPlan,
  extra: readonly (readonly [string, number])[] = [],
): void {
  const W = plan.vectorWidth;
  const constants: (readonly [string, number])[] = [
    ['D', attention.headDim],
    ['DV', attention.valueDim],
    ['DW', attention.headDim / W],
    ['DVW', attention.valueDim / W],
    ['HEADS', group.heads],
    ['GROUP_SIZE', group.heads / group.kvHeads],
    ['HEAD_OFFSET', group.headOffset],
    ['KV_HEAD_OFFSET', group.kvHeadOffset],
    ['TOTAL_HEADS', attention.heads],
    ['TOTAL_KV_HEADS', attention.kvHeads],
    ['TQ', plan.queryTile],
    ['TK', plan.keyTile],
    ...extra,
  ];
  for (const [name, value] of constants) k.const(name, T.u32, u32(value));
  k.const('NEG_BIG', T.f32, LOWEST_SCORE);
}

/** Declares a storage binding once: one buffer may pack several of q, k and v. */
export function declareStorage(k: KernelBuilder) {
  const declared = new Set<string>();
  return (b: BufferSlot, access: 'read' | 'read_write', element: Type): void => {
    if (declared.has(b.name)) return;
    declared.add(b.name);
    k.storage(b.binding, b.name, access, element);
  };
}

/** q, k, v (read), o, then aux and the LSE. */
export function declareBindings(
  k: KernelBuilder,
  bindings: SoftmaxBindings,
  codec: RowCodec,
): void {
  const declare = declareStorage(k);
  for (const b of [bindings.q, bindings.k, bindings.v]) declare(b, 'read', codec.stored);
  declare(bindings.o, 'read_write', codec.stored);
  if (bindings.aux) declare(bindings.aux, 'read', T.u32);
  if (bindings.lse) declare(bindings.lse.binding, 'read_write', T.f32);
}

/** The tiled variant's staged K/V tile and its tile-level values. */
function declareTiles(k: KernelBuilder, attention: Attention, plan: BlockPlan): void {
  const W = plan.vectorWidth;
  const vec = W === 4 ? T.vec(4, 'f32') : T.f32;
  k.workgroupVar('kTile', T.array(vec, int(plan.keyTile * (attention.headDim / W))));
  k.workgroupVar('vTile', T.array(vec, int(plan.keyTile * (attention.valueDim / W))));
  k.workgroupVar('wgClass', T.u32, [
    'Tile-level values pass through workgroupUniformLoad so barriers sit in uniform control flow.',
  ]);
  for (const name of ['wgFirst', 'wgSecond', 'wgEnd']) k.workgroupVar(name, T.u32);
}

/** Helper functions in paragraphs (a blank line between): routing, codec, tanh, mask. */
export function helperParagraphs(
  step: FusedStep,
  setup: SoftmaxKernelSetup,
  codec: RowCodec,
  auxBinding: BufferSlot | null,
  routed: boolean,
): HelperFunction[][] {
  const aux = auxBinding?.name;
  const hasSegment = setup.hasSegment && aux !== undefined;
  return [
    ...(routed ? [[findRoutedListFunction(aux!)]] : []),
    ...(codec.helpers.length > 0 ? [[...codec.helpers]] : []),
    ...(step.score.softcap !== null ? [[TANH_SAFE]] : []),
    ...maskHelperParagraphs({
      mask: step.mask,
      context: setup.context,
      randomBlocks: setup.randomLeaves.map((leaf) => leaf.block),
      segment: hasSegment,
      routed,
      word: (i) => {
        if (aux === undefined) throw new Error('internal error: mask tables without aux');
        return auxWords(aux)(i);
      },
    }),
  ];
}

/** `for (var d = 0u; d < count; d++) { ... }` on one line. */
export function overVectors(
  b: BlockBuilder,
  count: string,
  body: (b: BlockBuilder, d: Expr) => void,
): void {
  b.for('d', u32(0), (d) => lt(d, count), body, { oneLine: true });
}

/**
 * The row's addresses (the output row's with `outputRow`), its pre-scaled query, the
 * accumulators and the row's constants.
 */
export function queryRow(
  b: BlockBuilder,
  attention: Attention,
  step: FusedStep,
  setup: SoftmaxKernelSetup,
  bindings: { readonly q: BufferSlot; readonly aux: BufferSlot | null },
  codec: RowCodec,
  outputRow = true,
): void {
  const layout = attention.layout;
  const seqQ = uniform('seqQ');
  b.let(
    'qRow',
    add(uniform('qBase'), rowIndex(layout, 'TOTAL_HEADS', seqQ, 'DW', 'b', 'h', 'row')),
  );
  if (outputRow)
    b.let(
      'oRow',
      add(uniform('oBase'), rowIndex(layout, 'TOTAL_HEADS', seqQ, 'DVW', 'b', 'h', 'row')),
    );
  keyRowBases(b, attention);
  const vec = step.plan.vectorWidth === 4 ? T.vec(4, 'f32') : T.f32;
  b.var('qrow', undefined, T.array(vec, 'DW'));
  b.var('acc', undefined, T.array(vec, 'DVW'));
  overVectors(b, 'DW', (body, d) =>
    body.assign(
      index('qrow', d),
      mul(codec.load(index(bindings.q.name, add('qRow', d))), f32(setup.qFactor)),
    ),
  );
  const zero = step.plan.vectorWidth === 4 ? construct(vec, f32(0)) : f32(0);
  overVectors(b, 'DVW', (body, d) => body.assign(index('acc', d), zero));
  b.var('m', 'NEG_BIG');
  b.var('l', f32(0));
  if (step.score.bias === 'alibi') alibiSlope(b);
  const aux = bindings.aux?.name;
  const segRow =
    setup.hasSegment && aux ? index(aux, add(uniform('segQBase'), mul('b', seqQ), 'row')) : u32(0);
  b.let('segRow', segRow);
}

/** `slope`: the alibi slope of local head `hl`, 2^(-8 (hl + 1) / HEADS). */
export function alibiSlope(b: BlockBuilder): void {
  b.let(
    'slope',
    call('exp2', div(mul(f32(-8), construct(T.f32, add('hl', u32(1)))), construct(T.f32, 'HEADS'))),
  );
}
