// The device side of the data-dependent masks (language.md section 4): the `route` step of a
// routed leaf, as kernels and host-plan steps. Everything here is key-side and O(N) per
// (batch, kv head); the per-query decisions (top-k blocks, the query's bucket) are made in
// the routed attention kernel itself (kernels/routed-softmax.ts), one query per invocation.
//
// Table layouts (u32 words in `aux`; f32 values stored as their bits):
//   topk(k, block: b):   block means        [B, Hkv_g, ceil(Nk/b), D] f32
//   cluster(c) / lsh(n): key bucket ids     [B, Hkv_g, kvRows], key j's at keySlot(j)
//                        keys sorted by (bucket, position)  [B, Hkv_g, kvRows]  (absolute positions)
//                        per bucket (start word in aux, count) [B, Hkv_g, buckets, 2]
//   lsh also:            R [D, n/2] f32 (host `fill-gaussian`, the reference's generator)
// kvRows and keySlot (kernel/blocks/layout.ts) are seqK and the identity in a plain run; a KV
// cache ring keeps only the ids of the keys it holds (its prefix and its last ringSlots
// positions), by slot, and the lists hold only those keys.
// Every word of every table is written before it is read: no zero-initialized buffer assumed.
// k is f32, or under dtype f16 two halves per u32; the tables stay f32/u32 either way. The
// kernels themselves are built on the kernel IR in kernels/route-tables.ts.

import type { Attention, Group, Routing, Table } from '../../ir/ir.js';
import type { PlanInput, PlanStep, SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import type { Kernel } from '../../kernel/ir.js';
import { bucketCountsKernel, bucketListsKernel, chunkCountWords } from '../kernels/bucket-lists.js';
import {
  blockMeansKernel,
  keyBucketsKernel,
  ROUTE_AUX_BINDING,
  ROUTE_K_BINDING,
  type RouteArrays,
  routeShape,
} from '../kernels/route-tables.js';

/** Number of buckets a bucketing routing sorts keys into. */
export function bucketCount(routing: Routing): number {
  switch (routing.kind) {
    case 'cluster':
      return routing.count;
    case 'lsh':
      return routing.buckets;
    case 'topk':
      throw new Error('internal error: topk has no buckets');
  }
}

/** The centroids input `[Hkv, c, D]` when some group uses `cluster` (all share one `c`). */
export function centroidCount(ir: Attention): number | null {
  let count: number | null = null;
  for (const group of ir.groups)
    for (const table of group.tables)
      if (table.kind === 'routing' && table.routing.kind === 'cluster')
        count = Math.max(count ?? 0, table.routing.count);
  return count;
}

export function routingInputs(ir: Attention): PlanInput[] {
  const c = centroidCount(ir);
  if (c === null) return [];
  return [
    {
      name: 'centroids',
      dtype: 'f32',
      storage: 'f32',
      dims: ['Hkv', 'c', 'D'],
      shape: [ir.kvHeads, c, ir.headDim],
    },
  ];
}

/** Arrays (name, u32 words) a routing table needs in `aux`, main table first. */
export function routingArrays(
  table: Extract<Table, { kind: 'routing' }>,
  ir: Attention,
  group: Group,
): [string, SizeExpr][] {
  const r = table.routing;
  const heads = size.mul('batch', group.kvHeads);
  if (r.kind === 'topk')
    return [[table.name, size.mul(heads, size.ceilDiv('seqK', r.block), ir.headDim)]];
  const main: [string, SizeExpr] = [
    table.name,
    size.add(size.mul(heads, 'kvRows', 2), size.mul(heads, bucketCount(r), 2)),
  ];
  const counts: [string, SizeExpr] = [
    `${table.name}.counts`,
    chunkCountWords(heads, bucketCount(r)),
  ];
  if (r.kind === 'lsh') return [main, counts, [`${table.name}.R`, ir.headDim * (r.buckets / 2)]];
  return [main, counts];
}

/** Uniform offsets of the sub-arrays of a bucketing table at `base`. */
export function bucketTableOffsets(
  base: SizeExpr,
  group: Group,
): { keyBuckets: SizeExpr; lists: SizeExpr; ranges: SizeExpr } {
  // Ids and lists are kept like k and v: `kvRows` per (batch, kv head) (seqK in a plain run).
  const perTable = size.mul('batch', group.kvHeads, 'kvRows');
  const lists = base === 0 ? perTable : size.add(base, perTable);
  return { keyBuckets: base, lists, ranges: size.add(lists, perTable) };
}

export interface RouteContext {
  readonly ir: Attention;
  readonly group: Group;
  readonly table: Extract<Table, { kind: 'routing' }>;
  /** Buffer name (k, or qkv when packed) and word offset of k; centroids/R/table offsets in aux. */
  readonly kBuffer: string;
  readonly kOffset: SizeExpr;
  readonly tableOffset: SizeExpr;
  readonly centroidsOffset: SizeExpr | null;
  readonly projectionOffset: SizeExpr | null;
  /** The bucket lists' per-chunk counts (cluster / lsh). */
  readonly countsOffset: SizeExpr | null;
  readonly pushKernel: (
    name: string,
    kernel: Kernel,
    bindings: { binding: number; buffer: string; type: 'read-only-storage' | 'storage' }[],
  ) => void;
  readonly fold: (total: SizeExpr) => [SizeExpr, SizeExpr, SizeExpr];
}

/** The plan steps (and kernels, through `pushKernel`) of one `route` step. */
export function routeSteps(context: RouteContext): PlanStep[] {
  const { table, group, ir } = context;
  const r = table.routing;
  const steps: PlanStep[] = [];
  const shape = routeShape(ir, group);
  const bindings = [
    { binding: ROUTE_K_BINDING, buffer: context.kBuffer, type: 'read-only-storage' as const },
    { binding: ROUTE_AUX_BINDING, buffer: 'aux', type: 'storage' as const },
  ];
  const dispatch = (name: string, kernel: Kernel, readsK = true) => {
    context.pushKernel(
      name,
      kernel,
      readsK ? bindings : bindings.filter((b) => b.buffer === 'aux'),
    );
    const total = kernel.uniforms.find((u) => u.name === 'total')!.value;
    steps.push(
      { kind: 'write-uniforms', kernel: name },
      {
        kind: 'dispatch',
        kernel: name,
        workgroups: context.fold(size.ceilDiv(total, kernel.workgroupSize)),
      },
    );
  };
  const arrays: RouteArrays = {
    k: context.kOffset,
    table: context.tableOffset,
    ...bucketTableOffsets(context.tableOffset, group),
    centroids: context.centroidsOffset,
    projection: context.projectionOffset,
    chunkCounts: context.countsOffset,
    centroidsPerHead: centroidCount(ir) ?? 0,
  };
  if (r.kind === 'topk') {
    dispatch(`${table.name}.means`, blockMeansKernel(shape, r.block, arrays));
    return steps;
  }
  if (r.kind === 'lsh') {
    steps.push({
      kind: 'fill-gaussian',
      array: `${table.name}.R`,
      seed: r.seed,
      rows: ir.headDim,
      cols: r.buckets / 2,
    });
  }
  dispatch(`${table.name}.key_buckets`, keyBucketsKernel(shape, r, arrays));
  dispatch(
    `${table.name}.bucket_counts`,
    bucketCountsKernel(shape, r, bucketCount(r), arrays),
    false,
  );
  dispatch(
    `${table.name}.bucket_lists`,
    bucketListsKernel(shape, r, bucketCount(r), arrays),
    false,
  );
  return steps;
}
