// The host-plan part of softmax groups, in the order of the group's program: their tables in
// `aux` (random blocks, segment tile ranges, routing tables), the segment-ranges and route
// kernels, and the fused kernel (tiled, rowwise, subgroup or routed). Without a routed mask or
// head routing, few query rows take the split-K decode kernels instead (a `when` on seqQ).
// Bindings, layout and dispatches go through the one plan builder (plan-builder.ts).

import type { Step } from '../ir/ir.js';
import { maskLeaves } from '../ir/ir.js';
import type { SizeExpr } from './plan.js';
import { size } from './plan.js';
import { bindBuffers, bufName, type Bound, type GroupPlanContext } from './plan-builder.js';
import { segmentRangesKernel } from './kernels/segment-ranges.js';
import { softmaxKernel } from './kernels/softmax.js';
import type { SoftmaxBindings } from './wgsl/softmax-kernel-setup.js';
import {
  decodeMergeKernel,
  decodePartialKernel,
  decodeWorkgroup,
  groupDecodeSplits,
  type DecodeBindings,
} from './kernels/decode-split.js';
import {
  DECODE_MAX_ROWS,
  KEYS_PER_SPLIT,
  partialRecordWords,
  partialScratchWords,
} from './wgsl/decode-splits.js';
import { subgroupSoftmaxKernel } from './kernels/softmax-subgroup.js';
import { routedSoftmaxKernel } from './kernels/routed-softmax.js';
import { hasRoutedLeaf } from './routing/key-source.js';
import { routeSteps, routingArrays } from './routing/route-kernels.js';

/** Arrays of `aux` every softmax group may read, laid out once per attention. */
export interface SoftmaxAux {
  readonly segQ: SizeExpr | null;
  readonly segK: SizeExpr | null;
  readonly centroids: SizeExpr | null;
  /** The log-sum-exp output `lse` (compile option), or null. */
  readonly lse: SizeExpr | null;
}

export interface SoftmaxPlanContext extends GroupPlanContext {
  readonly aux: SoftmaxAux;
}

type FusedStep = Extract<Step, { kind: 'fused-softmax' }>;

/** The group's kernels and steps; its tables are added to `aux`. */
export function buildSoftmaxGroup(ctx: SoftmaxPlanContext): void {
  const { group, plan } = ctx;
  const tables = layoutTables(ctx);
  for (const step of group.program) {
    switch (step.kind) {
      case 'draw-random-blocks': {
        const table = group.tables.find((t) => t.name === step.table);
        if (table?.kind !== 'random-blocks')
          throw new Error('internal error: random table missing');
        plan.steps.push({
          kind: 'fill-random-blocks',
          array: table.name,
          seed: table.seed,
          count: table.count,
          block: table.block,
        });
        break;
      }
      case 'segment-tile-ranges': {
        const table = group.tables.find((t) => t.name === step.table);
        if (table?.kind !== 'segment-ranges')
          throw new Error('internal error: segment table missing');
        const kernel = segmentRangesKernel(
          table.queryTile,
          table.keyTile,
          { name: 'aux', binding: 1 },
          { segQ: need(ctx.aux.segQ), segK: need(ctx.aux.segK), ranges: tables(table.name) },
        );
        const bound = bindBuffers([{ buffer: 'aux', write: true }]);
        plan.run(`${group.name}.segment_ranges`, kernel, bound.plan, 'invocations');
        break;
      }
      case 'route': {
        const table = group.tables.find((t) => t.name === step.table);
        if (table?.kind !== 'routing') throw new Error('internal error: routing table missing');
        plan.steps.push(
          ...routeSteps({
            ir: ctx.ir,
            group,
            table,
            kBuffer: ctx.tensors.k.buffer,
            kOffset: ctx.tensors.k.offset,
            tableOffset: tables(table.name),
            centroidsOffset: ctx.aux.centroids,
            projectionOffset: optionalArray(ctx, `${table.name}.R`),
            countsOffset: optionalArray(ctx, `${table.name}.counts`),
            pushKernel: (name, kernel, bindings) => plan.kernel(name, kernel, bindings),
            fold: (total) => plan.fold(total),
          }),
        );
        break;
      }
      case 'fused-softmax':
        fusedSoftmax(ctx, step, tables);
        break;
      default:
        throw new Error(`internal error: step ${step.kind} in softmax group ${group.name}`);
    }
  }
}

/** The group's tables in `aux`; returns the offset of one by name. */
function layoutTables(ctx: SoftmaxPlanContext): (name: string) => SizeExpr {
  const { ir, group, plan } = ctx;
  for (const table of group.tables) {
    switch (table.kind) {
      case 'random-blocks': {
        const blocks = size.ceilDiv('seqK', table.block);
        plan.layout.add(table.name, 'aux', size.mul(blocks, size.min(table.count, blocks)), 'u32');
        break;
      }
      case 'segment-ranges': {
        const tiles = size.add(
          size.ceilDiv('seqQ', table.queryTile),
          size.ceilDiv('seqK', table.keyTile),
        );
        plan.layout.add(table.name, 'aux', size.mul('batch', tiles, 2), 'u32');
        break;
      }
      case 'routing':
        for (const [name, length] of routingArrays(table, ir, group))
          plan.layout.add(name, 'aux', length, 'u32');
        break;
    }
  }
  return (name) => plan.layout.offsetOf(name);
}

/** Reads `aux` when the group has tables or the attention has head routing. */
function readsAux(ctx: SoftmaxPlanContext): boolean {
  return ctx.group.tables.length > 0 || ctx.headRouting !== null;
}

/** The fused kernel, and (few query rows) the split-K decode kernels beside it. */
function fusedSoftmax(
  ctx: SoftmaxPlanContext,
  step: FusedStep,
  tables: (name: string) => SizeExpr,
): void {
  const { ir, group, plan, tensors } = ctx;
  const { q, k, v, o } = tensors;
  const needsAux = readsAux(ctx);
  const lse = ctx.aux.lse;
  const bound = bindBuffers([
    { buffer: q.buffer, write: false },
    { buffer: k.buffer, write: false },
    { buffer: v.buffer, write: false },
    { buffer: o.buffer, write: true },
    ...(needsAux ? [{ buffer: 'aux', write: false }] : []),
    ...(lse !== null ? [{ buffer: 'lse', write: true }] : []),
  ]);
  const bindings: SoftmaxBindings = {
    q: bound.of(q.buffer),
    k: bound.of(k.buffer),
    v: bound.of(v.buffer),
    o: bound.of(o.buffer),
    aux: needsAux ? bound.of('aux') : null,
    lse: lse !== null ? { binding: bound.of('lse'), offset: lse } : null,
  };
  const random = maskLeaves(step.mask).flatMap((_, i) => {
    const rule = step.plan.rules[i];
    return rule?.kind === 'random-table' ? [tables(rule.table)] : [];
  });
  const segTable = group.tables.find((t) => t.kind === 'segment-ranges');
  const common = {
    q: q.offset,
    k: k.offset,
    v: v.offset,
    o: o.offset,
    segQ: ctx.aux.segQ,
    segK: ctx.aux.segK,
    random,
  };
  const routedArrays = {
    ...common,
    headRouting: ctx.headRouting,
    routed: step.plan.rules.flatMap((rule) =>
      rule.kind === 'routing'
        ? [
            {
              table: tables(rule.table),
              centroids: ctx.aux.centroids,
              projection: optionalArray(ctx, `${rule.table}.R`),
            },
          ]
        : [],
    ),
  };
  const kernel = hasRoutedLeaf(step.mask)
    ? routedSoftmaxKernel(ir, group, step, bindings, routedArrays)
    : (step.plan.variant === 'subgroup' ? subgroupSoftmaxKernel : softmaxKernel)(
        ir,
        group,
        step,
        bindings,
        {
          ...common,
          segRanges: segTable ? tables(segTable.name) : null,
          headRouting: ctx.headRouting,
        },
        { nativeF16: plan.target.nativeF16 },
      );
  // Few query rows take the split-K decode kernels instead (head routing always takes the
  // fused kernel).
  const decode = ctx.headRouting === null;
  const fusedWhen = decode ? { size: 'seqQ' as const, min: DECODE_MAX_ROWS + 1 } : undefined;
  plan.run(`${group.name}.softmax`, kernel, bound.plan, 'workgroups', fusedWhen);
  if (!decode) return;
  if (hasRoutedLeaf(step.mask)) routedDecodeKernels(ctx, step, routedArrays);
  else decodeKernels(ctx, step, segTable ? tables(segTable.name) : null, random);
}

/**
 * Splits of a routed group's decode step: its keys cut by position (routed-softmax.ts's split
 * form), one per 256 keys, at most ROUTED_MAX_SPLITS, since every split repeats the row's
 * routing decision. A `topk(k, block: b)` decision scores ceil(seqK / b) block means, its walk
 * is (k + 1) b keys: the splits are also at most walk / decision = (k + 1) b² / seqK, so a
 * long context with few chosen keys (where the decision dominates) keeps one split.
 */
const ROUTED_MAX_SPLITS = 16;
function routedSplits(mask: FusedStep['mask']): SizeExpr {
  const caps: SizeExpr[] = [
    ROUTED_MAX_SPLITS,
    size.ceilDiv(size.min('seqK', 'kvRows'), KEYS_PER_SPLIT),
  ];
  for (const leaf of maskLeaves(mask)) {
    if (leaf.kind === 'routed' && leaf.routing.kind === 'topk') {
      const r = leaf.routing;
      caps.push(size.ceilDiv((r.k + 1) * r.block * r.block, 'seqK'));
    }
  }
  return size.max(1, size.min(...caps));
}

/** Split-K decode of a routed group: the routed partial per key split, then the merge. */
function routedDecodeKernels(
  ctx: SoftmaxPlanContext,
  step: FusedStep,
  arrays: Parameters<typeof routedSoftmaxKernel>[4],
): void {
  const { ir, group, plan, tensors } = ctx;
  const { q, k, v, o } = tensors;
  const lse = ctx.aux.lse;
  const W = step.plan.vectorWidth;
  const splits = routedSplits(step.mask);
  plan.layout.buffer('part');
  const used = size.min(1, size.max(0, size.sub(DECODE_MAX_ROWS + 1, 'seqQ')));
  const part = plan.layout.add(
    `${group.name}.part`,
    'part',
    size.mul('batch', group.heads, 'seqQ', used, splits, partialRecordWords(ir.valueDim, W)),
    'f32',
  );
  const when = { size: 'seqQ' as const, max: DECODE_MAX_ROWS };
  const read = (buffer: string) => ({ buffer, write: false });
  const partialBound = bindBuffers([
    read(q.buffer),
    read(k.buffer),
    read(v.buffer),
    { buffer: 'part', write: true },
    read('aux'),
  ]);
  const mergeBound = bindBuffers([
    read('part'),
    { buffer: o.buffer, write: true },
    ...(lse !== null ? [{ buffer: 'lse', write: true }] : []),
  ]);
  const none = (buffer: string) => ({ name: bufName(buffer), binding: -1 });
  const partial = routedSoftmaxKernel(
    ir,
    group,
    step,
    {
      q: partialBound.of(q.buffer),
      k: partialBound.of(k.buffer),
      v: partialBound.of(v.buffer),
      o: none(o.buffer),
      aux: partialBound.of('aux'),
      lse: null,
    },
    arrays,
    {
      part: partialBound.of('part'),
      partBase: part,
      splits,
      workgroup: decodeWorkgroup(step.plan),
    },
  );
  const mergeBindings: DecodeBindings = {
    q: none(q.buffer),
    k: none(k.buffer),
    v: none(v.buffer),
    aux: null,
    part: mergeBound.of('part'),
    o: mergeBound.of(o.buffer),
    lse: lse !== null ? { binding: mergeBound.of('lse'), offset: lse } : null,
  };
  const merge = decodeMergeKernel(
    ir,
    group,
    step.plan,
    mergeBindings,
    { part, o: o.offset },
    { nativeF16: plan.target.nativeF16 },
    splits,
  );
  plan.run(`${group.name}.decode_partial`, partial, partialBound.plan, 'invocations', when);
  plan.run(`${group.name}.decode_merge`, merge, mergeBound.plan, 'invocations', when);
}

/** Split-K decode: partial results per key split into `part`, then merged into o. */
function decodeKernels(
  ctx: SoftmaxPlanContext,
  step: FusedStep,
  segRanges: SizeExpr | null,
  random: SizeExpr[],
): void {
  const { ir, group, plan, tensors } = ctx;
  const { q, k, v, o } = tensors;
  const lse = ctx.aux.lse;
  const needsAux = readsAux(ctx);
  plan.layout.buffer('part');
  const part = plan.layout.add(
    `${group.name}.part`,
    'part',
    partialScratchWords(
      group.heads,
      ir.valueDim,
      step.plan.vectorWidth,
      groupDecodeSplits(ir, group, step.plan),
    ),
    'f32',
  );
  const when = { size: 'seqQ' as const, max: DECODE_MAX_ROWS };
  const target = { nativeF16: plan.target.nativeF16 };
  const read = (buffer: string) => ({ buffer, write: false });
  const partialBound = bindBuffers([
    read(q.buffer),
    read(k.buffer),
    read(v.buffer),
    { buffer: 'part', write: true },
    ...(needsAux ? [read('aux')] : []),
  ]);
  const mergeBound = bindBuffers([
    read('part'),
    { buffer: o.buffer, write: true },
    ...(lse !== null ? [{ buffer: 'lse', write: true }] : []),
  ]);
  // Each kernel declares only what it binds (the merge no q, k, v; the partial no o); the
  // others get binding -1, which no kernel declares.
  const decodeBindings = (bound: Bound): DecodeBindings => {
    const at = (buffer: string) =>
      bound.has(buffer) ? bound.of(buffer) : { name: bufName(buffer), binding: -1 };
    return {
      q: at(q.buffer),
      k: at(k.buffer),
      v: at(v.buffer),
      aux: needsAux && bound.has('aux') ? bound.of('aux') : null,
      part: at('part'),
      o: at(o.buffer),
      lse: lse !== null && bound.has('lse') ? { binding: bound.of('lse'), offset: lse } : null,
    };
  };
  const arrays = { q: q.offset, k: k.offset, v: v.offset, o: o.offset };
  const partial = decodePartialKernel(
    ir,
    group,
    step,
    decodeBindings(partialBound),
    { ...arrays, segQ: ctx.aux.segQ, segK: ctx.aux.segK, segRanges, random, part },
    target,
  );
  const merge = decodeMergeKernel(
    ir,
    group,
    step.plan,
    decodeBindings(mergeBound),
    { part, o: o.offset },
    target,
  );
  plan.run(`${group.name}.decode_partial`, partial, partialBound.plan, 'invocations', when);
  plan.run(`${group.name}.decode_merge`, merge, mergeBound.plan, 'invocations', when);
}

/** The offset of an array some tables have (lsh's projection `R`), or null. */
function optionalArray(ctx: SoftmaxPlanContext, name: string): SizeExpr | null {
  return ctx.plan.layout.arrays.some((a) => a.name === name)
    ? ctx.plan.layout.offsetOf(name)
    : null;
}

function need(x: SizeExpr | null | undefined): SizeExpr {
  if (x === null || x === undefined) throw new Error('internal error: array missing from layout');
  return x;
}
