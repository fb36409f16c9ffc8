// The kernels of the KV-cache stores (src/runtime/cache/), built on the kernel IR at compile
// time and carried in the host plan (`HostPlan.cacheKernels`), so the runtime builds no WGSL
// and a generated module's plan has them too. One entry per head group whose cache plan
// (src/ir/cache-plan.ts) has a store that needs kernels of its own: the recurrent state of a
// causal kernelized group (kernels/recurrent-state.ts), the projected rows of a linformer
// group (kernels/projected-rows.ts), and the side tables of routed mask terms (topk block
// means, cluster / lsh bucket ids: kernels/cache-side-tables.ts).

import type { Attention, Group, Table } from '../ir/ir.js';
import { featureDim } from '../ir/ir.js';
import { planKvCache } from '../ir/cache-plan.js';
import { wordCodec } from '../kernel/blocks/row-codec.js';
import type { Kernel } from '../kernel/ir.js';
import type { DeviceProfile } from '../target/profile.js';
import { readyKernel } from './kernel-source.js';
import {
  advanceKernel,
  blockMeansAppendKernel,
  keyBucketsAppendKernel,
} from './kernels/cache-side-tables.js';
import { efLayout, MAX_COUNTED, projectedRowsKernels } from './kernels/projected-rows.js';
import { recurrentStateKernels } from './kernels/recurrent-state.js';
import { groupShape } from './plan-lowrank.js';
import { routeShape } from './kernels/route-tables.js';
import { bucketCount, centroidCount } from './routing/route-kernels.js';
import type { LinearShape } from './linear-shape.js';
import type { PlanBinding, PlanCacheKernels, PlanKernel } from './plan.js';

/** Cache stores with kernels of `ir`'s groups; none for attentions with head routing. */
export function buildCacheKernels(ir: Attention, profile: DeviceProfile): PlanCacheKernels[] {
  // Head routing picks heads per step from the router; the stores do not apply it.
  if (ir.headRouting !== undefined) return [];
  const plan = planKvCache(ir);
  const stores: PlanCacheKernels[] = [];
  plan.groups.forEach((result, i) => {
    if (!result.ok) return;
    const group = ir.groups[i]!;
    if (result.plan.store.kind === 'recurrent') {
      // o is written a word (two values under f16) at a time: a word must not straddle two rows.
      if (ir.valueDim % wordCodec(ir.dtype, 1).valuesPerWord !== 0) return;
      stores.push(recurrentStore(ir, group, profile));
    }
    // The cache counts positions in an f32 (projected-rows.ts): exact up to MAX_COUNTED.
    if (result.plan.store.kind === 'projected' && (ir.maxSeq ?? 0) <= MAX_COUNTED)
      stores.push(projectedStore(ir, group, profile));
    for (const table of group.tables)
      if (table.kind === 'routing') stores.push(sideTableStore(ir, group, table, profile));
  });
  return stores;
}

/** The side table of one routed mask term (kernels/cache-side-tables.ts). */
function sideTableStore(
  ir: Attention,
  group: Group,
  table: Table & { readonly kind: 'routing' },
  profile: DeviceProfile,
): PlanCacheKernels {
  const shape = routeShape(ir, group);
  const common = {
    group: group.name,
    table: table.name,
    kvHeads: group.kvHeads,
    kvHeadOffset: group.kvHeadOffset,
    headDim: ir.headDim,
  };
  const r = table.routing;
  const name = `${table.name}.cache`;
  const sides: readonly [string, boolean][] = [
    ['k', false],
    ['table', true],
  ];
  const advance = planKernel(
    `${name}_advance`,
    advanceKernel(`${r.kind} side table`),
    [['table', true]],
    profile,
  );
  if (r.kind === 'topk') {
    return {
      kind: 'block-means',
      ...common,
      block: r.block,
      kernels: {
        append: planKernel(
          `${name}_append`,
          blockMeansAppendKernel(shape, r.block),
          sides,
          profile,
        ),
        advance,
      },
    };
  }
  const centroidsPerHead = centroidCount(ir) ?? 0;
  return {
    kind: 'bucket-ids',
    ...common,
    routing: r.kind,
    buckets: bucketCount(r),
    centroidsPerHead,
    projection: r.kind === 'lsh' ? { seed: r.seed, rows: ir.headDim, cols: r.buckets / 2 } : null,
    kernels: {
      append: planKernel(
        `${name}_append`,
        keyBucketsAppendKernel(shape, r, centroidsPerHead),
        sides,
        profile,
      ),
      advance,
    },
  };
}

function recurrentStore(ir: Attention, group: Group, profile: DeviceProfile): PlanCacheKernels {
  const m = group.mechanism;
  if (m.kind !== 'linear') throw new Error(`internal error: group ${group.name} is not linear`);
  const features = featureDim(m.featureMap, ir.headDim);
  // Scalar loads, one feature block of every feature: the feature-map blocks of the prefill
  // kernels (linear-blocks.ts) then compute phi one feature at a time.
  const shape: LinearShape = {
    attention: ir,
    group,
    map: m.featureMap,
    plan: { chunk: 1, featureBlock: features, maxSlots: 1, vectorWidth: 1 },
    causal: true,
  };
  const kernel = (role: string, source: Kernel, bindings: readonly [string, boolean][]) =>
    planKernel(`${group.name}.cache_${role}`, source, bindings, profile);
  const built = recurrentStateKernels(shape);
  const favor = m.featureMap.kind === 'favor';
  const weights: [string, boolean][] = favor ? [['state', false]] : [];
  return {
    kind: 'recurrent',
    group: group.name,
    heads: group.heads,
    kvHeads: group.kvHeads,
    headOffset: group.headOffset,
    kvHeadOffset: group.kvHeadOffset,
    features,
    headDim: ir.headDim,
    valueDim: ir.valueDim,
    gaussian:
      m.featureMap.kind === 'favor'
        ? { seed: m.featureMap.seed, rows: m.featureMap.features, cols: ir.headDim }
        : null,
    kernels: {
      stageKeys: kernel('stage_keys', built.stageKeys, [
        ['k', false],
        ['v', false],
        ...weights,
        ['chunk', true],
      ]),
      fold: kernel('fold', built.fold, [
        ['chunk', false],
        ['state', true],
      ]),
      stageQueries: kernel('stage_queries', built.stageQueries, [
        ['q', false],
        ...weights,
        ['qphi', true],
      ]),
      attend: kernel('attend', built.attend, [
        ['state', false],
        ['chunk', false],
        ['qphi', false],
        ['o', true],
      ]),
    },
  };
}

function projectedStore(ir: Attention, group: Group, profile: DeviceProfile): PlanCacheKernels {
  const m = group.mechanism;
  const project = group.program.find(
    (s) => s.kind === 'lowrank' && s.op.kind === 'linformer-project',
  );
  if (
    m.kind !== 'lowrank' ||
    project?.kind !== 'lowrank' ||
    project.op.kind !== 'linformer-project' ||
    ir.maxSeq === null
  )
    throw new Error(`internal error: group ${group.name} is not a linformer with max_seq`);
  const { rank, chunk } = project.op;
  const built = projectedRowsKernels({
    shape: groupShape(ir, group),
    layout: ir.layout,
    rank,
    chunk,
    maxSeq: ir.maxSeq,
    scale: m.scale,
  });
  const kernel = (role: string, source: Kernel, bindings: readonly [string, boolean][]) =>
    planKernel(`${group.name}.cache_${role}`, source, bindings, profile);
  return {
    kind: 'projected',
    group: group.name,
    heads: group.heads,
    kvHeads: group.kvHeads,
    headOffset: group.headOffset,
    kvHeadOffset: group.kvHeadOffset,
    headDim: ir.headDim,
    valueDim: ir.valueDim,
    rank,
    maxSeq: ir.maxSeq,
    chunk,
    ef: efLayout(ir.kvHeads, rank, ir.maxSeq),
    kernels: {
      project: kernel('project', built.project, [
        ['k', false],
        ['v', false],
        ['ef', false],
        ['partial', true],
      ]),
      reduce: kernel('reduce', built.reduce, [
        ['partial', false],
        ['rows', true],
      ]),
      advance: kernel('advance', built.advance, [['ef', true]]),
      attend: kernel('attend', built.attend, [
        ['q', false],
        ['rows', false],
        ['o', true],
      ]),
    },
  };
}

/** A kernel as the plan records it; bindings 1.. in the order given (`true`: written). */
function planKernel(
  name: string,
  kernel: Kernel,
  bindings: readonly [string, boolean][],
  profile: DeviceProfile,
): PlanKernel {
  const ready = readyKernel(name, kernel, profile.limits);
  const uniformBuffer = `params.${name}`;
  const planBindings: PlanBinding[] = bindings.map(([buffer, written], i) => ({
    binding: i + 1,
    buffer,
    type: written ? 'storage' : 'read-only-storage',
  }));
  return {
    name,
    entryPoint: 'main',
    wgsl: ready.wgsl,
    workgroupSize: ready.workgroupSize,
    bindings: [{ binding: 0, buffer: uniformBuffer, type: 'uniform' }, ...planBindings],
    uniforms: ready.uniforms,
    uniformBuffer,
    ...(ready.loopIterations === undefined ? {} : { loopIterations: ready.loopIterations }),
  };
}
