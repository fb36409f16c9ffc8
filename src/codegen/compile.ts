// compileAttention: checked spec + device profile -> kernels and host plan. buildHostPlan lays
// out the inputs and the arrays groups share, then hands each group to its family's plan part
// (plan-softmax.ts, plan-linear.ts, plan-lowrank.ts) through the one plan builder
// (plan-builder.ts: layout, binder, dispatcher, target choices). Pure and deterministic: no
// device is touched.

import { planCacheOf } from './plan-cache.js';
import { buildCacheKernels } from './cache-kernels.js';
import type { CheckedAttention } from '../check/checked.js';
import type { Attention, Group } from '../ir/ir.js';
import { lowerAttention, UnsupportedFeatureError } from '../lower/lower.js';
import { runPipeline } from '../passes/pipeline.js';
import type { ScheduleOverrides } from '../passes/schedule.js';
import type { DeviceProfile } from '../target/profile.js';
import type { HostPlan, PlanInput, SizeExpr } from './plan.js';
import { size } from './plan.js';
import {
  bindBuffers,
  bufName,
  PlanBuilder,
  planTarget,
  type TensorPlace,
  type Tensors,
} from './plan-builder.js';
import { buildLinearGroup, isLinearTable, linearStorageBindings } from './plan-linear.js';
import { buildLowRankGroup, lowRankConstraints, lowRankInputs } from './plan-lowrank.js';
import { buildSoftmaxGroup, type SoftmaxAux } from './plan-softmax.js';
import type { CompiledKernel } from './kernel-source.js';
import {
  emitHeadRoutingKernels,
  layoutHeadRouting,
  type HeadRoutingArrays,
  type RoutedRowsArrays,
} from './wgsl/emit-head-routing.js';
import { LOWRANK_WORKGROUP } from './kernels/lowrank-blocks.js';
import { hasRoutedLeaf, ROUTED_QUERY_TILE } from './routing/key-source.js';
import { routingInputs } from './routing/route-kernels.js';
import { tensorAxes } from '../kernel/blocks/layout.js';

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
  const shapes = tensorShapes(ir);
  const usesSegment = ir.groups.some((g) => g.tables.some((t) => t.kind === 'segment-ranges'));
  const usesAux =
    ir.groups.some((g) => g.tables.some((t) => !isLinearTable(t))) || ir.headRouting !== undefined;
  const inputs = planInputs(ir, shapes, usesSegment);
  // Storage bindings of the softmax kernel: q, k, v, o (+ aux, lse); linear groups' widest
  // kernel binds q, k, v, o and their own buffer (plan-linear.ts). Past the device's limit q,
  // k and v share one buffer (plan-builder.ts, planTarget).
  const storageNeeded = Math.max(
    4 + (usesAux ? 1 : 0) + (withLse ? 1 : 0),
    linearStorageBindings(ir),
  );
  const plan = new PlanBuilder(planTarget(profile, storageNeeded));
  const tensors = layoutTensors(plan, ir, shapes);
  const aux = layoutAux(plan, ir, inputs, { usesAux, usesSegment, withLse });
  // Mixture of heads: the router and the kept-row lists live in aux (emit-head-routing.ts).
  const routing = ir.headRouting
    ? layoutHeadRouting(ir, (name, elements, element) =>
        plan.layout.add(name, 'aux', elements, element),
      )
    : null;
  // What every group's per-query kernel walks instead of all rows under head routing.
  const headRouting: RoutedRowsArrays | null = routing && { k: ir.headRouting!.k, ...routing };

  for (const input of inputs)
    plan.steps.push({ kind: 'upload', input: input.name, array: input.name });
  if (routing) headRoutingKernels(plan, ir, routing, tensors.o.offset);
  for (const group of ir.groups) {
    const context = { ir, group, plan, tensors, headRouting };
    const mechanism = group.mechanism.kind;
    if (mechanism === 'linear') buildLinearGroup(context);
    else if (mechanism === 'lowrank') buildLowRankGroup(context);
    else buildSoftmaxGroup({ ...context, aux });
  }
  plan.steps.push({ kind: 'read-output', output: 'o', array: 'o' });
  if (withLse) plan.steps.push({ kind: 'read-output', output: 'lse', array: 'lse' });
  const features = plan.features();
  const hostPlan: HostPlan = {
    version: 1,
    inputs,
    outputs: planOutputs(ir, shapes, withLse),
    buffers: [...plan.layout.finish(), ...plan.uniformBuffers],
    arrays: plan.layout.arrays,
    kernels: plan.kernels,
    steps: plan.steps,
    constraints: { maxSeqK: ir.maxSeq, ...lowRankConstraints(ir) },
    profile: profile.name,
    ...(features.length > 0 ? { features } : {}),
    ...cacheKernelsField(buildCacheKernels(ir, profile)),
    cache: planCacheOf(ir),
  };
  return { plan: hostPlan, kernels: plan.compiled };
}

/** Plans without cache stores keep their JSON as before (no empty field). */
function cacheKernelsField(stores: HostPlan['cacheKernels'] & object) {
  return stores.length > 0 ? { cacheKernels: stores } : {};
}

/** Mixture of heads' select, scan and scatter, over `aux` and `o`, before every group. */
function headRoutingKernels(
  plan: PlanBuilder,
  ir: Attention,
  routing: HeadRoutingArrays,
  oOffset: SizeExpr,
): void {
  // The routing kernels name the lists `aux` (they read little else) and the output `obuf`.
  const bound = bindBuffers(
    [
      { buffer: 'aux', write: true },
      { buffer: 'o', write: true },
    ],
    (buffer) => (buffer === 'aux' ? 'aux' : bufName(buffer)),
  );
  const kernels = emitHeadRoutingKernels(
    ir,
    routing,
    bound.of('aux'),
    bound.of('o'),
    oOffset,
    keptRowTile,
  );
  for (const { name, kernel, invocations } of kernels) {
    plan.kernel(name, kernel, bound.plan);
    plan.writeUniforms(name);
    plan.dispatchWorkgroups(name, size.ceilDiv(invocations, kernel.workgroupSize));
  }
}

interface TensorShapes {
  readonly q: SizeExpr[];
  readonly k: SizeExpr[];
  readonly v: SizeExpr[];
  readonly o: SizeExpr[];
  /** Dim names of a tensor of width `d`, `h` heads and `n` rows in the attention's layout. */
  readonly dims: (d: string, h: string, n: string) => string[];
}

function tensorShapes(ir: Attention): TensorShapes {
  const shape = (heads: number, seq: SizeExpr, width: number): SizeExpr[] =>
    tensorAxes<SizeExpr>(ir.layout, 'batch', heads, seq, width);
  return {
    q: shape(ir.heads, 'seqQ', ir.headDim),
    k: shape(ir.kvHeads, 'seqK', ir.headDim),
    v: shape(ir.kvHeads, 'seqK', ir.valueDim),
    o: shape(ir.heads, 'seqQ', ir.valueDim),
    dims: (d, h, n) => tensorAxes(ir.layout, 'B', h, n, d),
  };
}

function planInputs(ir: Attention, shapes: TensorShapes, usesSegment: boolean): PlanInput[] {
  const { dims } = shapes;
  const inputs: PlanInput[] = [
    { name: 'q', dtype: 'f32', storage: ir.dtype, dims: dims('D', 'H', 'Nq'), shape: shapes.q },
    { name: 'k', dtype: 'f32', storage: ir.dtype, dims: dims('D', 'Hkv', 'Nk'), shape: shapes.k },
    { name: 'v', dtype: 'f32', storage: ir.dtype, dims: dims('Dv', 'Hkv', 'Nk'), shape: shapes.v },
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
      shape: ['batch', 'seqQ', ir.heads],
    });
  }
  inputs.push(...routingInputs(ir)); // data-dependent masks: centroids (codegen/routing)
  inputs.push(...lowRankInputs(ir)); // linformer's E and F (codegen/plan-lowrank.ts)
  return inputs;
}

/** q, k, v (one buffer `qkv` when the target packs them) and o, in that order. */
function layoutTensors(plan: PlanBuilder, ir: Attention, shapes: TensorShapes): Tensors {
  const packed = plan.target.packQkv;
  const buffers = { q: packed ? 'qkv' : 'q', k: packed ? 'qkv' : 'k', v: packed ? 'qkv' : 'v' };
  for (const b of [buffers.q, buffers.k, buffers.v, 'o']) plan.layout.buffer(b);
  const place = (name: 'q' | 'k' | 'v' | 'o', buffer: string): TensorPlace => ({
    buffer,
    offset: plan.layout.add(name, buffer, size.mul(...shapes[name]), ir.dtype),
  });
  return {
    q: place('q', buffers.q),
    k: place('k', buffers.k),
    v: place('v', buffers.v),
    o: place('o', 'o'),
  };
}

/** The `lse` output and the arrays of `aux` that softmax groups share. */
function layoutAux(
  plan: PlanBuilder,
  ir: Attention,
  inputs: readonly PlanInput[],
  uses: { readonly usesAux: boolean; readonly usesSegment: boolean; readonly withLse: boolean },
): SoftmaxAux {
  const layout = plan.layout;
  const add = (name: string, buffer: string, elements: SizeExpr, element: 'u32' | 'f32') =>
    layout.add(name, buffer, elements, element);
  if (uses.withLse) layout.buffer('lse');
  const lse = uses.withLse ? add('lse', 'lse', size.mul('batch', ir.heads, 'seqQ'), 'f32') : null;
  if (uses.usesAux) layout.buffer('aux');
  const segQ = uses.usesSegment ? add('seg_q', 'aux', size.mul('batch', 'seqQ'), 'u32') : null;
  // seg_k is kept like k and v (segKey in kernels/softmax-mask.ts): `kvRows` ids per batch
  // entry, seqK in a plain run, a KV cache's rows when one binds its store.
  const segK = uses.usesSegment ? add('seg_k', 'aux', size.mul('batch', 'kvRows'), 'u32') : null;
  const centroids = inputs.find((i) => i.name === 'centroids');
  return {
    segQ,
    segK,
    centroids: centroids ? add('centroids', 'aux', size.mul(...centroids.shape), 'f32') : null,
    lse,
  };
}

function planOutputs(ir: Attention, shapes: TensorShapes, withLse: boolean): HostPlan['outputs'] {
  const lse = {
    name: 'lse' as const,
    dtype: 'f32' as const,
    storage: 'f32' as const,
    dims: ['B', 'H', 'Nq'],
    shape: ['batch', ir.heads, 'seqQ'] as SizeExpr[],
    array: 'lse',
  };
  return [
    {
      name: 'o',
      dtype: 'f32',
      storage: ir.dtype,
      dims: shapes.dims('Dv', 'H', 'Nq'),
      shape: shapes.o,
      array: 'o',
    },
    ...(withLse ? [lse] : []),
  ];
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
