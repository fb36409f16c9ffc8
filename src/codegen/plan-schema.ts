// The host plan's shape as a valibot schema: the one definition that `loadPlan` checks a
// loaded plan against (valibot is small and tree-shakes, so the runtime bundle stays small)
// and that `npm run generate` turns into the published schemas/plan.schema.json. The type
// test at the bottom keeps it and the HostPlan interfaces of plan.ts in step.

import * as v from 'valibot';
import type { HostPlan, SizeExpr } from './plan.js';

const sizeSymbol = v.picklist([
  'batch',
  'seqQ',
  'seqK',
  'kvRows',
  'ringPrefix',
  'ringSlots',
  'kvGroupStores',
]);

/** Recursive: an operation's arguments are size expressions again. */
export const SizeExprSchema: v.GenericSchema<SizeExpr> = v.union([
  v.pipe(v.number(), v.integer()),
  sizeSymbol,
  v.strictObject({
    op: v.picklist(['add', 'sub', 'mul', 'min', 'max', 'ceilDiv']),
    args: v.array(v.lazy(() => SizeExprSchema)),
  }),
]);

const inputName = v.picklist(['q', 'k', 'v', 'seg_q', 'seg_k', 'E', 'F', 'centroids', 'router']);
const tensorDType = v.picklist(['f32', 'f16', 'u32']);
const count = v.pipe(v.number(), v.integer(), v.minValue(0));

const PlanInputSchema = v.strictObject({
  name: inputName,
  dtype: v.picklist(['f32', 'u32']),
  storage: v.optional(tensorDType),
  dims: v.array(v.string()),
  shape: v.array(SizeExprSchema),
});

const PlanOutputSchema = v.strictObject({
  name: v.picklist(['o', 'lse']),
  dtype: v.literal('f32'),
  storage: v.optional(v.picklist(['f32', 'f16'])),
  dims: v.array(v.string()),
  shape: v.array(SizeExprSchema),
  array: v.string(),
});

const PlanBufferSchema = v.strictObject({
  name: v.string(),
  kind: v.picklist(['storage', 'uniform']),
  size: SizeExprSchema,
});

const PlanArraySchema = v.strictObject({
  name: v.string(),
  buffer: v.string(),
  offset: SizeExprSchema,
  length: SizeExprSchema,
  element: tensorDType,
});

const PlanKernelSchema = v.strictObject({
  name: v.string(),
  entryPoint: v.string(),
  wgsl: v.string(),
  workgroupSize: v.pipe(count, v.minValue(1)),
  bindings: v.array(
    v.strictObject({
      binding: count,
      buffer: v.string(),
      type: v.picklist(['uniform', 'read-only-storage', 'storage']),
    }),
  ),
  uniforms: v.array(v.strictObject({ name: v.string(), value: SizeExprSchema })),
  uniformBuffer: v.string(),
  loopIterations: v.optional(SizeExprSchema),
});

const PlanConditionSchema = v.strictObject({
  size: SizeExprSchema,
  min: v.optional(count),
  max: v.optional(count),
});

const PlanStepSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('upload'), input: inputName, array: v.string() }),
  v.strictObject({
    kind: v.literal('fill-random-blocks'),
    array: v.string(),
    seed: count,
    count,
    block: count,
  }),
  v.strictObject({
    kind: v.literal('fill-gaussian'),
    array: v.string(),
    seed: count,
    rows: count,
    cols: count,
  }),
  v.strictObject({
    kind: v.literal('write-uniforms'),
    kernel: v.string(),
    when: v.optional(PlanConditionSchema),
  }),
  v.strictObject({
    kind: v.literal('dispatch'),
    kernel: v.string(),
    workgroups: v.strictTuple([SizeExprSchema, SizeExprSchema, SizeExprSchema]),
    when: v.optional(PlanConditionSchema),
  }),
  v.strictObject({
    kind: v.literal('read-output'),
    output: v.picklist(['o', 'lse']),
    array: v.string(),
  }),
]);

const gaussianSchema = v.strictObject({ seed: count, rows: count, cols: count });
const cacheShape = {
  group: v.string(),
  kvHeads: count,
  kvHeadOffset: count,
  headDim: count,
};
const sideTableKernels = v.strictObject({ append: PlanKernelSchema, advance: PlanKernelSchema });

const PlanCacheKernelsSchema = v.variant('kind', [
  v.strictObject({
    kind: v.literal('recurrent'),
    ...cacheShape,
    heads: count,
    headOffset: count,
    features: count,
    valueDim: count,
    gaussian: v.nullable(gaussianSchema),
    kernels: v.strictObject({
      stageKeys: PlanKernelSchema,
      fold: PlanKernelSchema,
      stageQueries: PlanKernelSchema,
      attend: PlanKernelSchema,
    }),
  }),
  v.strictObject({
    kind: v.literal('projected'),
    ...cacheShape,
    heads: count,
    headOffset: count,
    valueDim: count,
    rank: count,
    maxSeq: count,
    chunk: count,
    ef: v.strictObject({ e: count, f: count, words: count }),
    kernels: v.strictObject({
      project: PlanKernelSchema,
      reduce: PlanKernelSchema,
      advance: PlanKernelSchema,
      attend: PlanKernelSchema,
    }),
  }),
  v.strictObject({
    kind: v.literal('block-means'),
    ...cacheShape,
    table: v.string(),
    block: count,
    kernels: sideTableKernels,
  }),
  v.strictObject({
    kind: v.literal('bucket-ids'),
    ...cacheShape,
    table: v.string(),
    routing: v.picklist(['cluster', 'lsh']),
    buckets: count,
    centroidsPerHead: count,
    projection: v.nullable(gaussianSchema),
    kernels: sideTableKernels,
  }),
]);

const maxSeq = v.nullable(count);

const CacheStoreSchema = v.variant('kind', [
  v.strictObject({
    kind: v.literal('ring'),
    lookBack: v.pipe(v.number(), v.integer()),
    prefix: count,
  }),
  v.strictObject({ kind: v.literal('contiguous'), unbounded: v.string(), maxSeq }),
  v.strictObject({ kind: v.literal('recurrent'), features: count, valueDim: count }),
  v.strictObject({ kind: v.literal('projected'), rank: count }),
]);

const CacheSideTableSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('block-means'), k: count, block: count }),
  v.strictObject({
    kind: v.literal('bucket-ids'),
    routing: v.picklist(['cluster', 'lsh']),
    buckets: count,
  }),
]);

const CacheMemorySchema = v.strictObject({
  positions: v.variant('kind', [
    v.strictObject({ kind: v.literal('fixed'), count }),
    v.strictObject({ kind: v.literal('capacity'), maxSeq }),
  ]),
  bytesPerPosition: count,
  fixedBytes: count,
  blocks: v.nullable(v.strictObject({ block: count, bytesPerBlock: count, maxSeq })),
});

const PlanCacheSchema = v.strictObject({
  groups: v.array(
    v.variant('ok', [
      v.strictObject({
        ok: v.literal(true),
        group: v.string(),
        heads: count,
        kvHeads: count,
        kvHeadOffset: count,
        store: CacheStoreSchema,
        side: v.array(CacheSideTableSchema),
        memory: CacheMemorySchema,
      }),
      v.strictObject({
        ok: v.literal(false),
        group: v.string(),
        construct: v.string(),
        message: v.string(),
      }),
    ]),
  ),
  headRouting: v.boolean(),
});

export const HostPlanSchema = v.strictObject({
  version: v.literal(1),
  inputs: v.array(PlanInputSchema),
  outputs: v.array(PlanOutputSchema),
  buffers: v.array(PlanBufferSchema),
  arrays: v.array(PlanArraySchema),
  kernels: v.array(PlanKernelSchema),
  steps: v.array(PlanStepSchema),
  constraints: v.strictObject({
    maxSeqK: v.nullable(count),
    minSeq: v.optional(count),
  }),
  features: v.optional(v.array(v.picklist(['subgroups', 'shader-f16']))),
  profile: v.string(),
  cacheKernels: v.optional(v.array(PlanCacheKernelsSchema)),
  cache: v.optional(PlanCacheSchema),
});

// Compile-time: the schema's output is exactly a HostPlan, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type DeepMutable<T> = T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T;
const planTypesAgree: Same<
  DeepMutable<v.InferOutput<typeof HostPlanSchema>>,
  DeepMutable<HostPlan>
> = true;
void planTypesAgree;
