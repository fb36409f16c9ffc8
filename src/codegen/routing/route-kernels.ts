// The device side of the data-dependent masks (language.md section 4): the `route` step of a
// routed leaf, as kernels and host-plan steps. Everything here is key-side and O(N) per
// (batch, kv head); the per-query decisions (top-k blocks, the query's bucket) are made in
// the routed attention kernel itself (emit-routed-softmax.ts), one query per invocation.
//
// Table layouts (u32 words in `aux`; f32 values stored as their bits):
//   topk(k, block: b):   block means        [B, Hkv_g, ceil(Nk/b), D] f32
//   cluster(c) / lsh(n): key bucket ids     [B, Hkv_g, Nk]
//                        keys sorted by (bucket, position)  [B, Hkv_g, Nk]  (absolute positions)
//                        per bucket (start word in aux, count) [B, Hkv_g, buckets, 2]
//   lsh also:            R [D, n/2] f32 (host `fill-gaussian`, the reference's generator)
// Every word of every table is written before it is read: no zero-initialized buffer assumed.
// k is f32, or under dtype f16 two halves per u32; the tables stay f32/u32 either way.

import type { Attention, Group, Routing, Table } from '../../ir/ir.js';
import type { PlanInput, PlanStep, SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import type { EmittedKernel } from '../wgsl/emitted-kernel.js';
import { paramsStructLines } from '../wgsl/params-struct.js';

const WORKGROUP = 64;

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
    size.add(size.mul(heads, 'seqK', 2), size.mul(heads, bucketCount(r), 2)),
  ];
  if (r.kind === 'lsh') return [main, [`${table.name}.R`, ir.headDim * (r.buckets / 2)]];
  return [main];
}

/** Uniform offsets of the sub-arrays of a bucketing table at `base`. */
export function bucketTableOffsets(
  base: SizeExpr,
  group: Group,
): { keyBuckets: SizeExpr; lists: SizeExpr; ranges: SizeExpr } {
  const perTable = size.mul('batch', group.kvHeads, 'seqK');
  const lists = base === 0 ? perTable : size.add(base, perTable);
  return { keyBuckets: base, lists, ranges: size.add(lists, perTable) };
}

export interface RouteContext {
  readonly ir: Attention;
  readonly group: Group;
  readonly table: Extract<Table, { kind: 'routing' }>;
  /** Buffer name and word offset of k (and centroids/R/table offsets in aux). */
  readonly kBuffer: string;
  readonly kOffset: SizeExpr;
  readonly tableOffset: SizeExpr;
  readonly centroidsOffset: SizeExpr | null;
  readonly projectionOffset: SizeExpr | null;
  readonly pushKernel: (
    name: string,
    emitted: EmittedKernel,
    bindings: { binding: number; buffer: string; type: 'read-only-storage' | 'storage' }[],
  ) => void;
  readonly fold: (total: SizeExpr) => [SizeExpr, SizeExpr, SizeExpr];
}

/** The plan steps (and kernels, through `pushKernel`) of one `route` step. */
export function routeSteps(context: RouteContext): PlanStep[] {
  const { table, group, ir } = context;
  const r = table.routing;
  const steps: PlanStep[] = [];
  const kBinding = 1;
  const auxBinding = context.kBuffer === 'aux' ? 1 : 2;
  const bindings = [
    ...(context.kBuffer === 'aux'
      ? []
      : [{ binding: kBinding, buffer: context.kBuffer, type: 'read-only-storage' as const }]),
    { binding: auxBinding, buffer: 'aux', type: 'storage' as const },
  ];
  const dispatch = (name: string, emitted: EmittedKernel, readsK = true) => {
    context.pushKernel(
      name,
      emitted,
      readsK ? bindings : bindings.filter((b) => b.buffer === 'aux'),
    );
    const total = emitted.uniforms.find((u) => u.name === 'total')!.value;
    steps.push(
      { kind: 'write-uniforms', kernel: name },
      {
        kind: 'dispatch',
        kernel: name,
        workgroups: context.fold(size.ceilDiv(total, WORKGROUP)),
      },
    );
  };
  const common = header(ir, group, kBinding, auxBinding, context.kBuffer === 'aux');
  if (r.kind === 'topk') {
    dispatch(`${table.name}.means`, blockMeansKernel(common, r.block, context));
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
  dispatch(`${table.name}.key_buckets`, keyBucketsKernel(common, r, context));
  dispatch(`${table.name}.bucket_lists`, bucketListsKernel(common, r, context), false);
  return steps;
}

interface Header {
  readonly text: string;
  readonly kLoad: (b: string, hk: string, j: string, d: string) => string;
}

function header(
  ir: Attention,
  group: Group,
  kBinding: number,
  auxBinding: number,
  kInAux: boolean,
): Header {
  const bhnd = ir.layout === 'bhnd';
  const row = bhnd
    ? (b: string, hk: string, j: string) => `((${b} * TOTAL_KV_HEADS + ${hk}) * P.seqK + ${j}) * D`
    : (b: string, hk: string, j: string) => `((${b} * P.seqK + ${j}) * TOTAL_KV_HEADS + ${hk}) * D`;
  // dtype f16: k holds two halves per u32 (element e in word e / 2, half e % 2). Unpacking
  // gives exactly the f16-rounded values the reference routes with, so ties match.
  const f16 = ir.dtype === 'f16';
  const kWords = kInAux ? 'aux' : 'kbuf';
  const text = [
    `const D: u32 = ${ir.headDim}u;`,
    `const HKVG: u32 = ${group.kvHeads}u;`,
    `const KV_HEAD_OFFSET: u32 = ${group.kvHeadOffset}u;`,
    `const TOTAL_KV_HEADS: u32 = ${ir.kvHeads}u;`,
    ...(kInAux
      ? []
      : [
          `@group(0) @binding(${kBinding}) var<storage, read> kbuf: array<${f16 ? 'u32' : 'f32'}>;`,
        ]),
    `@group(0) @binding(${auxBinding}) var<storage, read_write> aux: array<u32>;`,
  ].join('\n');
  return {
    text,
    kLoad: (b, hk, j, d) => {
      const element = `${row(b, hk, j)} + ${d}`;
      if (f16) return `unpack2x16float(${kWords}[P.kBase + (${element}) / 2u])[(${element}) & 1u]`;
      return kInAux ? `bitcast<f32>(aux[P.kBase + ${element}])` : `kbuf[P.kBase + ${element}]`;
    },
  };
}

function params(uniforms: readonly { name: string }[]): string {
  return `${paramsStructLines(uniforms).join('\n')}\n@group(0) @binding(0) var<uniform> P: Params;`;
}

const MAIN_OPEN = `@compute @workgroup_size(${WORKGROUP})
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let x = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (x >= P.total) { return; }`;

/** One invocation per (b, kv head, block, d): the mean of k over the block (MoBA). */
function blockMeansKernel(h: Header, block: number, context: RouteContext): EmittedKernel {
  const nb = size.ceilDiv('seqK', block);
  const uniforms = [
    { name: 'seqK', value: 'seqK' as SizeExpr },
    { name: 'nb', value: nb },
    { name: 'total', value: size.mul('batch', context.group.kvHeads, nb, context.ir.headDim) },
    { name: 'kBase', value: context.kOffset },
    { name: 'tBase', value: context.tableOffset },
  ];
  const wgsl = `// attnc topk block means: [B, Hkv_g, ceil(Nk/${block}), D] f32 bits
const BLK: u32 = ${block}u;
${h.text}
${params(uniforms)}

${MAIN_OPEN}
  let d = x % D;
  let r = x / D;
  let t = r % P.nb;
  let bh = r / P.nb;
  let b = bh / HKVG;
  let hk = KV_HEAD_OFFSET + bh % HKVG;
  let j0 = t * BLK;
  let j1 = min(j0 + BLK, P.seqK);
  var s = 0.0;
  for (var j = j0; j < j1; j++) { s += ${h.kLoad('b', 'hk', 'j', 'd')}; }
  aux[P.tBase + x] = bitcast<u32>(s / f32(j1 - j0));
}
`;
  return { wgsl, workgroupSize: WORKGROUP, uniforms };
}

/** WGSL statements setting `bucket` for the row `X(d)` (cluster: centroids; lsh: R). */
export function bucketOfRow(
  routing: Routing,
  X: (d: string) => string,
  centroidRow: (t: string) => string,
  projection: string,
  indent: string,
): string {
  if (routing.kind === 'cluster') {
    return [
      `var best = 0.0;`,
      `var bucket = 0u;`,
      `for (var t = 0u; t < ${routing.count}u; t++) {`,
      `  let mu = ${centroidRow('t')};`,
      `  var s = 0.0;`,
      `  for (var d = 0u; d < D; d++) { s += ${X('d')} * bitcast<f32>(aux[mu + d]); }`,
      `  if (t == 0u || s > best) { best = s; bucket = t; }`,
      `}`,
    ]
      .map((l) => indent + l)
      .join('\n');
  }
  if (routing.kind === 'lsh') {
    const half = routing.buckets / 2;
    // argmax([xR, -xR]) ties to the lower index: all of +xR precede all of -xR.
    return [
      `var bestPos = 0.0;`,
      `var argPos = 0u;`,
      `var bestNeg = 0.0;`,
      `var argNeg = 0u;`,
      `for (var c = 0u; c < ${half}u; c++) {`,
      `  var s = 0.0;`,
      `  for (var d = 0u; d < D; d++) { s += ${X('d')} * bitcast<f32>(aux[${projection} + d * ${half}u + c]); }`,
      `  if (c == 0u || s > bestPos) { bestPos = s; argPos = c; }`,
      `  if (c == 0u || -s > bestNeg) { bestNeg = -s; argNeg = c; }`,
      `}`,
      `let bucket = select(${half}u + argNeg, argPos, bestPos >= bestNeg);`,
    ]
      .map((l) => indent + l)
      .join('\n');
  }
  throw new Error('internal error: topk has no buckets');
}

/** One invocation per (b, kv head, key): the key's cluster or LSH bucket. */
function keyBucketsKernel(h: Header, routing: Routing, context: RouteContext): EmittedKernel {
  const offsets = bucketTableOffsets(context.tableOffset, context.group);
  const uniforms: { name: string; value: SizeExpr }[] = [
    { name: 'seqK', value: 'seqK' },
    { name: 'total', value: size.mul('batch', context.group.kvHeads, 'seqK') },
    { name: 'kBase', value: context.kOffset },
    { name: 'bucketBase', value: offsets.keyBuckets },
  ];
  if (routing.kind === 'cluster')
    uniforms.push({ name: 'centroidsBase', value: need(context.centroidsOffset) });
  if (routing.kind === 'lsh')
    uniforms.push({ name: 'rBase', value: need(context.projectionOffset) });
  const c = centroidCount(context.ir) ?? 0;
  const body = bucketOfRow(
    routing,
    (d) => h.kLoad('b', 'hk', 'j', d),
    (t) => `P.centroidsBase + (hk * ${c}u + ${t}) * D`,
    'P.rBase',
    '  ',
  );
  const wgsl = `// attnc ${routing.kind} key buckets: [B, Hkv_g, Nk] u32
${h.text}
${params(uniforms)}

${MAIN_OPEN}
  let j = x % P.seqK;
  let bh = x / P.seqK;
  let b = bh / HKVG;
  let hk = KV_HEAD_OFFSET + bh % HKVG;
${body}
  aux[P.bucketBase + x] = bucket;
}
`;
  return { wgsl, workgroupSize: WORKGROUP, uniforms };
}

/**
 * One invocation per (b, kv head, bucket): a counting sort without atomics. The bucket's
 * start is the number of keys in lower buckets; its keys are written in position order, so
 * lists are sorted and the result is deterministic. O(Nk) per invocation.
 */
function bucketListsKernel(h: Header, routing: Routing, context: RouteContext): EmittedKernel {
  const n = bucketCount(routing);
  const offsets = bucketTableOffsets(context.tableOffset, context.group);
  const uniforms: { name: string; value: SizeExpr }[] = [
    { name: 'seqK', value: 'seqK' },
    { name: 'total', value: size.mul('batch', context.group.kvHeads, n) },
    { name: 'bucketBase', value: offsets.keyBuckets },
    { name: 'listBase', value: offsets.lists },
    { name: 'rangeBase', value: offsets.ranges },
  ];
  const wgsl = `// attnc ${routing.kind} bucket lists: keys sorted by (bucket, position), (start, count) per bucket
const NBUCKETS: u32 = ${n}u;
${h.text
  .split('\n')
  .filter((l) => !l.includes('kbuf'))
  .join('\n')}
${params(uniforms)}

${MAIN_OPEN}
  let t = x % NBUCKETS;
  let bh = x / NBUCKETS;
  let kb = P.bucketBase + bh * P.seqK;
  var before = 0u;
  var count = 0u;
  for (var j = 0u; j < P.seqK; j++) {
    let v = aux[kb + j];
    before += select(0u, 1u, v < t);
    count += select(0u, 1u, v == t);
  }
  let start = P.listBase + bh * P.seqK + before;
  var n = start;
  for (var j = 0u; j < P.seqK; j++) {
    if (aux[kb + j] == t) { aux[n] = j; n++; }
  }
  aux[P.rangeBase + x * 2u] = start;
  aux[P.rangeBase + x * 2u + 1u] = count;
}
`;
  // Two passes over the keys per invocation (loop-budget.ts: llvmpipe refuses past 65,535).
  const loopIterations = size.mul(size.add('seqK', 1), 2);
  return { wgsl, workgroupSize: WORKGROUP, uniforms, loopIterations };
}

function need(x: SizeExpr | null): SizeExpr {
  if (x === null) throw new Error('internal error: routing array missing from layout');
  return x;
}
