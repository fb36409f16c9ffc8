// compileAttention: checked spec + device profile -> kernels and host plan. This module owns
// the memory layout decisions (which arrays share a buffer) and the step order; the WGSL text
// itself comes from codegen/wgsl. Pure and deterministic: no device is touched.

import { planCacheOf } from './plan-cache.js';
import type { CheckedAttention } from '../check/checked.js';
import type { Attention, Group } from '../ir/ir.js';
import { maskLeaves } from '../ir/ir.js';
import { lowerAttention, UnsupportedFeatureError } from '../lower/lower.js';
import { runPipeline } from '../passes/pipeline.js';
import type { ScheduleOverrides } from '../passes/schedule.js';
import type { DeviceProfile } from '../target/profile.js';
import type {
  TensorDType,
  HostPlan,
  PlanArray,
  PlanBinding,
  PlanBuffer,
  PlanInput,
  PlanKernel,
  PlanStep,
  SizeExpr,
} from './plan.js';
import { size } from './plan.js';
import { buildLinearGroup, isLinearTable, linearStorageBindings } from './plan-linear.js';
import { buildLowRankGroup, lowRankConstraints, lowRankInputs } from './plan-lowrank.js';
import { segmentRangesKernel } from './kernels/segment-ranges.js';
import { readyKernel, type CompiledKernel, type KernelSource } from './kernel-source.js';
import {
  emitHeadRoutingKernels,
  layoutHeadRouting,
  type RoutedRowsArrays,
  type RoutingKernel,
} from './wgsl/emit-head-routing.js';
import { LOWRANK_WORKGROUP } from './kernels/lowrank-blocks.js';
import { softmaxKernel } from './kernels/softmax.js';
import type { SoftmaxBindings } from './wgsl/softmax-kernel-setup.js';
import {
  emitDecodeMergeKernel,
  emitDecodePartialKernel,
  type DecodeBindings,
} from './wgsl/emit-decode-split.js';
import { DECODE_MAX_ROWS, partialScratchWords } from './wgsl/decode-splits.js';
import { emitSubgroupSoftmaxKernel } from './wgsl/emit-softmax-subgroup.js';
import {
  emitRoutedSoftmaxKernel,
  hasRoutedLeaf,
  ROUTED_QUERY_TILE,
} from './routing/emit-routed-softmax.js';
import { routeSteps, routingArrays, routingInputs } from './routing/route-kernels.js';

export interface CompiledAttention {
  readonly name: string;
  /** Name of the profile it was compiled for. */
  readonly profile: string;
  /** The optimized IR the kernels came from (for `attnc explain`). */
  readonly ir: Attention;
  readonly plan: HostPlan;
  /** Every kernel of the plan, in plan order, with its kernel IR where it has one. */
  readonly kernels: readonly CompiledKernel[];
}

/**
 * One compiled attention with its checked description, which the CPU reference and the
 * generated TypeScript module need besides the kernels and plan (`compile()` returns these).
 */
export type CompiledModule = CompiledAttention & { readonly attention: CheckedAttention };

export interface CompileOptions {
  /** Run the IR verifier after every pass (tests do). */
  readonly verify?: boolean;
  /**
   * Softmax schedules by group name (or `'*'`) instead of the profile's choice; one the
   * profile cannot run throws a ScheduleError (passes/schedule.ts).
   */
  readonly schedules?: ScheduleOverrides;
  /**
   * Also output the log-sum-exp of every query row (`lse`, `[B, H, Nq]` f32), so results over
   * disjoint key ranges can be merged. Softmax groups only; without it the kernels are the
   * same text as ever.
   */
  readonly lse?: boolean;
}

export function compileAttention(
  checked: CheckedAttention,
  profile: DeviceProfile,
  options: CompileOptions = {},
): CompiledAttention {
  const lowered = lowerAttention(checked);
  if (!lowered.ok) throw new UnsupportedFeatureError(lowered.unsupported);
  const context = options.schedules ? { profile, schedules: options.schedules } : { profile };
  const ir = runPipeline(lowered.attention, context, { verify: options.verify ?? false });
  const { plan, kernels } = buildHostPlan(ir, profile, { lse: options.lse ?? false });
  return { name: ir.name, profile: profile.name, ir, plan, kernels };
}

/** One array's place in the layout: regions appended to buffers, 16-byte aligned. */
class Layout {
  readonly buffers: PlanBuffer[] = [];
  readonly arrays: PlanArray[] = [];
  private readonly ends = new Map<string, SizeExpr>();

  buffer(name: string): void {
    if (!this.ends.has(name)) this.ends.set(name, 0);
  }

  /** `length` in elements; f16 elements take half a word. */
  add(name: string, buffer: string, elements: SizeExpr, element: TensorDType): SizeExpr {
    const length = element === 'f16' ? size.ceilDiv(elements, 2) : elements;
    const offset = this.ends.get(buffer);
    if (offset === undefined) throw new Error(`internal error: unknown buffer ${buffer}`);
    this.arrays.push({ name, buffer, offset, length, element });
    this.ends.set(
      buffer,
      offset === 0 ? size.alignUp(length, 4) : size.add(offset, size.alignUp(length, 4)),
    );
    return offset;
  }

  finish(): PlanBuffer[] {
    for (const [name, end] of this.ends)
      this.buffers.push({ name, kind: 'storage', size: size.mul(end, 4) });
    return this.buffers;
  }
}

/** Throws, naming the group, where the LSE output has no meaning or no kernels yet. */
function checkLseOutput(ir: Attention): void {
  for (const group of ir.groups) {
    const m = group.mechanism;
    if (m.kind === 'softmax') continue;
    const what =
      m.kind === 'linear' ? `kernelized (${m.featureMap.kind})` : `low-rank (${m.method.kind})`;
    throw new Error(
      `compile option lse: group '${group.name}' of '${ir.name}' is ${what}; the log-sum-exp is ` +
        'defined only for softmax groups, whose rows are normalized by a sum over the keys',
    );
  }
  if (ir.headRouting) {
    throw new Error(
      `compile option lse: '${ir.name}' has head_routing, whose kernels walk compacted rows; ` +
        'the LSE output does not support it yet',
    );
  }
}

export function buildHostPlan(
  ir: Attention,
  profile: DeviceProfile,
  options: { readonly lse?: boolean } = {},
): { plan: HostPlan; kernels: CompiledKernel[] } {
  const withLse = options.lse === true;
  if (withLse) checkLseOutput(ir);
  const bhnd = ir.layout === 'bhnd';
  const H = ir.heads;
  const Hkv = ir.kvHeads;
  const qShape: SizeExpr[] = bhnd
    ? ['batch', H, 'seqQ', ir.headDim]
    : ['batch', 'seqQ', H, ir.headDim];
  const kShape: SizeExpr[] = bhnd
    ? ['batch', Hkv, 'seqK', ir.headDim]
    : ['batch', 'seqK', Hkv, ir.headDim];
  const vShape: SizeExpr[] = bhnd
    ? ['batch', Hkv, 'seqK', ir.valueDim]
    : ['batch', 'seqK', Hkv, ir.valueDim];
  const oShape: SizeExpr[] = bhnd
    ? ['batch', H, 'seqQ', ir.valueDim]
    : ['batch', 'seqQ', H, ir.valueDim];
  const dims = (d: string, h: string, n: string) => (bhnd ? ['B', h, n, d] : ['B', n, h, d]);
  const usesSegment = ir.groups.some((g) => g.tables.some((t) => t.kind === 'segment-ranges'));
  const usesAux =
    ir.groups.some((g) => g.tables.some((t) => !isLinearTable(t))) || ir.headRouting !== undefined;

  const inputs: PlanInput[] = [
    { name: 'q', dtype: 'f32', storage: ir.dtype, dims: dims('D', 'H', 'Nq'), shape: qShape },
    { name: 'k', dtype: 'f32', storage: ir.dtype, dims: dims('D', 'Hkv', 'Nk'), shape: kShape },
    { name: 'v', dtype: 'f32', storage: ir.dtype, dims: dims('Dv', 'Hkv', 'Nk'), shape: vShape },
  ];
  if (usesSegment) {
    inputs.push(
      { name: 'seg_q', dtype: 'u32', storage: 'u32', dims: ['B', 'Nq'], shape: ['batch', 'seqQ'] },
      { name: 'seg_k', dtype: 'u32', storage: 'u32', dims: ['B', 'Nk'], shape: ['batch', 'seqK'] },
    );
  }
  if (ir.headRouting) {
    // Router logits stay f32 (and [B, Nq, H]) whatever the dtype and layout of q/k/v.
    inputs.push({
      name: 'router',
      dtype: 'f32',
      storage: 'f32',
      dims: ['B', 'Nq', 'H'],
      shape: ['batch', 'seqQ', H],
    });
  }

  inputs.push(...routingInputs(ir)); // data-dependent masks: centroids (codegen/routing)
  inputs.push(...lowRankInputs(ir)); // linformer's E and F (codegen/plan-lowrank.ts)

  // Storage bindings of the softmax kernel: q, k, v, o (+ aux). Past the device's limit, q, k
  // and v share one buffer (compatibility mode has 4 per stage).
  // Linear groups' widest kernel binds q, k, v, o and their own buffer (codegen/plan-linear.ts).
  const storageNeeded = Math.max(
    4 + (usesAux ? 1 : 0) + (withLse ? 1 : 0),
    linearStorageBindings(ir),
  );
  const packed = storageNeeded > profile.limits.maxStorageBuffersPerShaderStage;
  const layout = new Layout();
  const qBuf = packed ? 'qkv' : 'q';
  const kBuf = packed ? 'qkv' : 'k';
  const vBuf = packed ? 'qkv' : 'v';
  for (const b of [qBuf, kBuf, vBuf, 'o']) layout.buffer(b);
  const product = (shape: SizeExpr[]) => size.mul(...shape);
  const qOff = layout.add('q', qBuf, product(qShape), ir.dtype);
  const kOff = layout.add('k', kBuf, product(kShape), ir.dtype);
  const vOff = layout.add('v', vBuf, product(vShape), ir.dtype);
  const oOff = layout.add('o', 'o', product(oShape), ir.dtype);
  if (withLse) layout.buffer('lse');
  const lseOff = withLse ? layout.add('lse', 'lse', size.mul('batch', H, 'seqQ'), 'f32') : null;
  let segQOff: SizeExpr | null = null;
  let segKOff: SizeExpr | null = null;
  if (usesAux) layout.buffer('aux');
  if (usesSegment) {
    segQOff = layout.add('seg_q', 'aux', size.mul('batch', 'seqQ'), 'u32');
    segKOff = layout.add('seg_k', 'aux', size.mul('batch', 'seqK'), 'u32');
  }
  const centroidsOff = inputs.some((i) => i.name === 'centroids')
    ? layout.add(
        'centroids',
        'aux',
        size.mul(...inputs.find((i) => i.name === 'centroids')!.shape),
        'f32',
      )
    : null;
  // Mixture of heads: the router and the kept-row lists live in aux (emit-head-routing.ts).
  const routing = ir.headRouting
    ? layoutHeadRouting(ir, (name, elements, element) => layout.add(name, 'aux', elements, element))
    : null;
  // What every group's per-query kernel walks instead of all rows under head routing.
  const keptRows: RoutedRowsArrays | null = routing && { k: ir.headRouting!.k, ...routing };

  const steps: PlanStep[] = [];
  for (const input of inputs) steps.push({ kind: 'upload', input: input.name, array: input.name });
  const kernels: PlanKernel[] = [];
  const compiledKernels: CompiledKernel[] = [];
  const features = new Set<'subgroups' | 'shader-f16'>();
  const uniformBuffers: PlanBuffer[] = [];
  const routeAux = { name: 'aux', binding: 1 };
  const routeO = { name: 'obuf', binding: 2 };
  const dispatchRoutingKernel = (kernel: RoutingKernel) => {
    pushKernel(kernel.name, kernel.kernel, [
      { binding: 1, buffer: 'aux', type: 'storage' },
      { binding: 2, buffer: 'o', type: 'storage' },
    ]);
    const workgroups = size.ceilDiv(kernel.invocations, kernel.kernel.workgroupSize);
    steps.push(
      { kind: 'write-uniforms', kernel: kernel.name },
      { kind: 'dispatch', kernel: kernel.name, workgroups: fold(workgroups, profile) },
    );
  };
  if (routing)
    emitHeadRoutingKernels(ir, routing, routeAux, routeO, oOff, keptRowTile).forEach(
      dispatchRoutingKernel,
    );

  const bindingFor = (names: string[]) => {
    const unique = [...new Set(names)];
    return new Map(unique.map((n, i) => [n, i + 1]));
  };

  for (const group of ir.groups) {
    if (group.mechanism.kind === 'linear') {
      buildLinearGroup({
        ir,
        group,
        profile,
        layout,
        tensors: {
          q: { buffer: qBuf, offset: qOff },
          k: { buffer: kBuf, offset: kOff },
          v: { buffer: vBuf, offset: vOff },
          o: { buffer: 'o', offset: oOff },
        },
        steps,
        pushKernel,
        headRouting: keptRows,
        fold: (total) => fold(total, profile),
      });
      continue;
    }
    if (group.mechanism.kind === 'lowrank') {
      const tensors = {
        q: { buffer: qBuf, offset: qOff },
        k: { buffer: kBuf, offset: kOff },
        v: { buffer: vBuf, offset: vOff },
        o: { buffer: 'o', offset: oOff },
      };
      buildLowRankGroup({
        ir,
        group,
        profile,
        layout,
        tensors,
        steps,
        pushKernel,
        headRouting: keptRows,
      });
      continue;
    }
    const tableOffsets = new Map<string, SizeExpr>();
    for (const table of group.tables) {
      switch (table.kind) {
        case 'random-blocks': {
          const blocks = size.ceilDiv('seqK', table.block);
          const length = size.mul(blocks, size.min(table.count, blocks));
          tableOffsets.set(table.name, layout.add(table.name, 'aux', length, 'u32'));
          break;
        }
        case 'segment-ranges': {
          const tiles = size.add(
            size.ceilDiv('seqQ', table.queryTile),
            size.ceilDiv('seqK', table.keyTile),
          );
          tableOffsets.set(
            table.name,
            layout.add(table.name, 'aux', size.mul('batch', tiles, 2), 'u32'),
          );
          break;
        }
        case 'routing':
          for (const [name, length] of routingArrays(table, ir, group))
            tableOffsets.set(name, layout.add(name, 'aux', length, 'u32'));
          break;
      }
    }
    for (const step of group.program) {
      switch (step.kind) {
        case 'draw-random-blocks': {
          const table = group.tables.find((t) => t.name === step.table);
          if (table?.kind !== 'random-blocks')
            throw new Error('internal error: random table missing');
          steps.push({
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
          const name = `${group.name}.segment_ranges`;
          const emitted = segmentRangesKernel(
            table.queryTile,
            table.keyTile,
            { name: 'aux', binding: 1 },
            {
              segQ: need(segQOff),
              segK: need(segKOff),
              ranges: need(tableOffsets.get(table.name)),
            },
          );
          pushKernel(name, emitted, [{ binding: 1, buffer: 'aux', type: 'storage' }]);
          const total = size.ceilDiv(
            emitted.uniforms.find((u) => u.name === 'total')!.value,
            emitted.workgroupSize,
          );
          steps.push(
            { kind: 'write-uniforms', kernel: name },
            { kind: 'dispatch', kernel: name, workgroups: fold(total, profile) },
          );
          break;
        }
        case 'route': {
          const table = group.tables.find((t) => t.name === step.table);
          if (table?.kind !== 'routing') throw new Error('internal error: routing table missing');
          steps.push(
            ...routeSteps({
              ir,
              group,
              table,
              kBuffer: kBuf,
              kOffset: kOff,
              tableOffset: need(tableOffsets.get(table.name)),
              centroidsOffset: centroidsOff,
              projectionOffset: tableOffsets.get(`${table.name}.R`) ?? null,
              pushKernel,
              fold: (total) => fold(total, profile),
            }),
          );
          break;
        }
        case 'fused-softmax': {
          const name = `${group.name}.softmax`;
          const needsAux = group.tables.length > 0 || routing !== null;
          const order = [
            qBuf,
            kBuf,
            vBuf,
            'o',
            ...(needsAux ? ['aux'] : []),
            ...(lseOff !== null ? ['lse'] : []),
          ];
          const slots = bindingFor(order);
          const slot = (buffer: string) => ({
            name: buffer === 'o' ? 'obuf' : `${buffer}buf`,
            binding: slots.get(buffer)!,
          });
          const bindings: SoftmaxBindings = {
            q: slot(qBuf),
            k: slot(kBuf),
            v: slot(vBuf),
            o: slot('o'),
            aux: needsAux ? slot('aux') : null,
            lse: lseOff !== null ? { binding: slot('lse'), offset: lseOff } : null,
          };
          const randomTables = maskLeaves(step.mask).flatMap((_, i) => {
            const rule = step.plan.rules[i];
            return rule?.kind === 'random-table' ? [need(tableOffsets.get(rule.table))] : [];
          });
          const segTable = group.tables.find((t) => t.kind === 'segment-ranges');
          const emitted = hasRoutedLeaf(step.mask)
            ? emitRoutedSoftmaxKernel(ir, group, step, bindings, {
                q: qOff,
                k: kOff,
                v: vOff,
                o: oOff,
                segQ: segQOff,
                segK: segKOff,
                random: randomTables,
                headRouting: keptRows,
                routed: step.plan.rules.flatMap((rule) =>
                  rule.kind === 'routing'
                    ? [
                        {
                          table: need(tableOffsets.get(rule.table)),
                          centroids: centroidsOff,
                          projection: tableOffsets.get(`${rule.table}.R`) ?? null,
                        },
                      ]
                    : [],
                ),
              })
            : (step.plan.variant === 'subgroup' ? emitSubgroupSoftmaxKernel : softmaxKernel)(
                ir,
                group,
                step,
                bindings,
                {
                  q: qOff,
                  k: kOff,
                  v: vOff,
                  o: oOff,
                  segQ: segQOff,
                  segK: segKOff,
                  segRanges: segTable ? need(tableOffsets.get(segTable.name)) : null,
                  random: randomTables,
                  headRouting: routing && { k: ir.headRouting!.k, ...routing },
                },
                { nativeF16: profile.features.shaderF16 },
              );
          const planBindings: PlanBinding[] = [...slots].map(([buffer, binding]) => ({
            binding,
            buffer,
            type: buffer === 'o' || buffer === 'lse' ? 'storage' : 'read-only-storage',
          }));
          pushKernel(name, emitted, planBindings);
          const total = emitted.uniforms.find((u) => u.name === 'total')!.value;
          // Few query rows take the split-K decode kernels instead (routed masks and head
          // routing always take the fused kernel).
          const decode = !hasRoutedLeaf(step.mask) && routing === null;
          const fusedWhen = decode
            ? { when: { size: 'seqQ' as const, min: DECODE_MAX_ROWS + 1 } }
            : {};
          steps.push(
            { kind: 'write-uniforms', kernel: name, ...fusedWhen },
            { kind: 'dispatch', kernel: name, workgroups: fold(total, profile), ...fusedWhen },
          );
          if (decode) {
            layout.buffer('part');
            const partOff = layout.add(
              `${group.name}.part`,
              'part',
              partialScratchWords(
                group.heads,
                ir.valueDim,
                step.plan.vectorWidth,
                step.plan.keyTile,
              ),
              'f32',
            );
            const when = { size: 'seqQ' as const, max: DECODE_MAX_ROWS };
            const target = { nativeF16: profile.features.shaderF16 };
            const partialOrder = [qBuf, kBuf, vBuf, 'part', ...(needsAux ? ['aux'] : [])];
            const partialSlots = bindingFor(partialOrder);
            const named = (slots: Map<string, number>, buffer: string) => ({
              name: buffer === 'o' ? 'obuf' : `${buffer}buf`,
              binding: slots.get(buffer)!,
            });
            const mergeSlots = bindingFor(['part', 'o', ...(lseOff !== null ? ['lse'] : [])]);
            const decodeBindings = (slots: Map<string, number>): DecodeBindings => ({
              q: named(slots, qBuf),
              k: named(slots, kBuf),
              v: named(slots, vBuf),
              aux: needsAux && slots.has('aux') ? named(slots, 'aux') : null,
              part: named(slots, 'part'),
              o: named(slots, 'o'),
              lse:
                lseOff !== null && slots.has('lse')
                  ? { binding: named(slots, 'lse'), offset: lseOff }
                  : null,
            });
            const partial = emitDecodePartialKernel(
              ir,
              group,
              step,
              decodeBindings(partialSlots),
              {
                q: qOff,
                k: kOff,
                v: vOff,
                o: oOff,
                segQ: segQOff,
                segK: segKOff,
                segRanges: segTable ? need(tableOffsets.get(segTable.name)) : null,
                random: randomTables,
                part: partOff,
              },
              target,
            );
            const merge = emitDecodeMergeKernel(
              ir,
              group,
              step.plan,
              decodeBindings(mergeSlots),
              { part: partOff, o: oOff },
              target,
            );
            for (const [kernelName, kernel, slots, written] of [
              [`${group.name}.decode_partial`, partial, partialSlots, 'part'],
              [`${group.name}.decode_merge`, merge, mergeSlots, null],
            ] as const) {
              pushKernel(
                kernelName,
                kernel,
                [...slots].map(([buffer, binding]) => ({
                  binding,
                  buffer,
                  type:
                    buffer === written || (written === null && buffer !== 'part')
                      ? 'storage'
                      : 'read-only-storage',
                })),
              );
              const invocations = kernel.uniforms.find((u) => u.name === 'total')!.value;
              steps.push(
                { kind: 'write-uniforms', kernel: kernelName, when },
                {
                  kind: 'dispatch',
                  kernel: kernelName,
                  workgroups: fold(size.ceilDiv(invocations, kernel.workgroupSize), profile),
                  when,
                },
              );
            }
          }
          break;
        }
      }
    }
  }
  steps.push({ kind: 'read-output', output: 'o', array: 'o' });
  if (withLse) steps.push({ kind: 'read-output', output: 'lse', array: 'lse' });

  function pushKernel(name: string, source: KernelSource, bindings: PlanBinding[]) {
    const emitted = readyKernel(name, source, profile.limits);
    emitted.features.forEach((f) => features.add(f));
    compiledKernels.push({ name, ir: emitted.ir });
    const uniformBuffer = `params.${name}`;
    uniformBuffers.push({
      name: uniformBuffer,
      kind: 'uniform',
      size: Math.ceil((emitted.uniforms.length * 4) / 16) * 16,
    });
    kernels.push({
      name,
      entryPoint: 'main',
      wgsl: emitted.wgsl,
      workgroupSize: emitted.workgroupSize,
      bindings: [{ binding: 0, buffer: uniformBuffer, type: 'uniform' }, ...bindings],
      uniforms: emitted.uniforms,
      uniformBuffer,
      ...(emitted.loopIterations === undefined ? {} : { loopIterations: emitted.loopIterations }),
    });
  }

  const plan: HostPlan = {
    version: 1,
    inputs,
    outputs: [
      {
        name: 'o',
        dtype: 'f32',
        storage: ir.dtype,
        dims: dims('Dv', 'H', 'Nq'),
        shape: oShape,
        array: 'o',
      },
      ...(withLse
        ? [
            {
              name: 'lse' as const,
              dtype: 'f32' as const,
              storage: 'f32' as const,
              dims: ['B', 'H', 'Nq'],
              shape: ['batch', H, 'seqQ'] as SizeExpr[],
              array: 'lse',
            },
          ]
        : []),
    ],
    buffers: [...layout.finish(), ...uniformBuffers],
    arrays: layout.arrays,
    kernels,
    steps,
    constraints: { maxSeqK: ir.maxSeq, ...lowRankConstraints(ir) },
    profile: profile.name,
    ...(features.size > 0 ? { features: [...features].sort() } : {}),
    cache: planCacheOf(ir),
  };
  return { plan, kernels: compiledKernels };
}

/** Workgroup counts folded into 2D when one dimension would pass the device limit. */
function fold(total: SizeExpr, profile: DeviceProfile): [SizeExpr, SizeExpr, SizeExpr] {
  const max = profile.limits.maxComputeWorkgroupsPerDimension;
  return [size.min(total, max), size.ceilDiv(total, max), 1];
}

/**
 * Kept rows per workgroup of a group's per-query kernel under head routing (its tile of the
 * kept-row lists): the softmax query tile, the routed softmax kernel's rows, the kernelized
 * output's chunk, or the low-rank attend kernel's rows.
 */
function keptRowTile(group: Group): number {
  const m = group.mechanism;
  switch (m.kind) {
    case 'softmax': {
      const fused = group.program.find((s) => s.kind === 'fused-softmax');
      if (fused?.kind !== 'fused-softmax') throw new Error('internal error: no fused step');
      return hasRoutedLeaf(fused.mask) ? ROUTED_QUERY_TILE : fused.plan.queryTile;
    }
    case 'linear': {
      const states = group.tables.find((t) => t.kind === 'linear-states');
      if (states?.kind !== 'linear-states') throw new Error('internal error: no linear states');
      return states.plan.chunk;
    }
    case 'lowrank':
      return LOWRANK_WORKGROUP;
  }
}

function need(x: SizeExpr | null | undefined): SizeExpr {
  if (x === null || x === undefined) throw new Error('internal error: array missing from layout');
  return x;
}
