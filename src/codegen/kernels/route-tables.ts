// The kernels of a routed leaf's `route` step (routing/route-kernels.ts lays out the tables
// and dispatches them): topk block means, the cluster / lsh bucket of every key, and the
// per-bucket key lists. Key-side and O(N) per (batch, kv head); one invocation per output
// word, row or bucket. k is f32, or under dtype f16 two halves per u32 word, unpacked to
// exactly the f16-rounded values the reference routes with, so ties match.

import type { Attention, Group, Routing } from '../../ir/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import { arrayView } from '../../kernel/blocks/array-view.js';
import {
  keyHeadsOf,
  keyHeld,
  keySlot,
  rowIndex,
  type TensorLayout,
} from '../../kernel/blocks/layout.js';
import {
  bitsOfF32,
  f32OfBits,
  wordCodec,
  type StorageDType,
} from '../../kernel/blocks/row-codec.js';
import {
  add,
  construct,
  div,
  eq,
  f32,
  ge,
  gt,
  index,
  KernelBuilder,
  lt,
  min,
  mod,
  mul,
  neg,
  not,
  or,
  select,
  sub,
  T,
  u32,
  uniform,
  type BlockBuilder,
} from '../../kernel/build.js';
import type { Expr, Kernel } from '../../kernel/ir.js';
import { keySlotUniformsOf } from '../wgsl/softmax-kernel-setup.js';

const WORKGROUP = 64;
/** Bindings of k (its own buffer, or q/k/v packed in one) and of `aux`. */
export const ROUTE_K_BINDING = 1;
export const ROUTE_AUX_BINDING = 2;

/** What every route kernel needs to know about k and the group's kv heads. */
export interface RouteShape {
  readonly layout: TensorLayout;
  readonly dtype: StorageDType;
  readonly headDim: number;
  /** kv heads of the whole attention, of this group, and the group's first one. */
  readonly totalKvHeads: number;
  readonly groupKvHeads: number;
  readonly kvHeadOffset: number;
  /** Head groups of the attention: with several, stored keys are read through `keyHeadsOf`. */
  readonly groups?: number;
}

/** The route shape of head group `group` of `ir`. */
export function routeShape(ir: Attention, group: Group): RouteShape {
  return {
    layout: ir.layout,
    dtype: ir.dtype,
    headDim: ir.headDim,
    totalKvHeads: ir.kvHeads,
    groupKvHeads: group.kvHeads,
    kvHeadOffset: group.kvHeadOffset,
    groups: ir.groups.length,
  };
}

/** Word offsets (uniform values) of k and of the route tables in `aux`. */
export interface RouteArrays {
  readonly k: SizeExpr;
  readonly table: SizeExpr;
  readonly keyBuckets: SizeExpr;
  readonly lists: SizeExpr;
  readonly ranges: SizeExpr;
  /** The bucket lists' per-chunk counts (bucket-lists.ts), or null (topk). */
  readonly chunkCounts: SizeExpr | null;
  readonly centroids: SizeExpr | null;
  readonly projection: SizeExpr | null;
  /** Centroids per kv head in the centroids input (the largest `c` of any group). */
  readonly centroidsPerHead: number;
}

/** Reads one u32 word of the buffer that holds the routing tables. */
export type WordRead = (at: Expr) => Expr;

/** A kernel with the constants and bindings every route kernel declares. */
export function routeKernel(
  shape: RouteShape,
  header: string,
  readsK: boolean,
  first?: [string, number],
) {
  const k = new KernelBuilder(WORKGROUP).compactDeclarations();
  k.header(header);
  if (first) k.const(first[0], T.u32, u32(first[1]));
  k.const('D', T.u32, u32(shape.headDim));
  k.const('HKVG', T.u32, u32(shape.groupKvHeads));
  k.const('KV_HEAD_OFFSET', T.u32, u32(shape.kvHeadOffset));
  k.const('TOTAL_KV_HEADS', T.u32, u32(shape.totalKvHeads));
  if (readsK) k.storage(ROUTE_K_BINDING, 'kbuf', 'read', wordCodec(shape.dtype, 1).stored);
  k.storage(ROUTE_AUX_BINDING, 'aux', 'read_write', T.u32);
  return k;
}

/**
 * Element `d` of row `j` of kv head `hk` in batch `b` of a k array of `seqK` rows per head,
 * as f32 (k at uniform `kBase`): the keys a KV cache appends (cache-side-tables.ts).
 */
export function keyElement(shape: RouteShape, b: Expr, hk: Expr, j: Expr, d: Expr): Expr {
  return keyElementAt(
    shape,
    rowIndex(shape.layout, 'TOTAL_KV_HEADS', uniform('seqK'), 'D', b, hk, j),
    d,
  );
}

/**
 * Element `d` of a key where the keys are stored: `kvRows` rows per head, the key at row
 * `slot` = keySlot(j) of its position j (k itself in a plain run, a KV cache's store when one
 * runs the plan). The kernel declares `keySlotUniformsOf(shape)`.
 */
export function storedKeyElement(shape: RouteShape, b: Expr, hk: Expr, slot: Expr, d: Expr): Expr {
  const heads = keyHeadsOf(shape.groups ?? 1, hk);
  const row = rowIndex(shape.layout, heads.heads, uniform('kvRows'), 'D', b, heads.head, slot);
  return keyElementAt(shape, row, d);
}

function keyElementAt(shape: RouteShape, row: Expr, d: Expr): Expr {
  return wordCodec(shape.dtype, 1).value('kbuf', uniform('kBase'), row, d);
}

/** `b` and `hk` (the absolute kv head) of the flat (batch, group kv head) index `bh`. */
function decodeKvHead(b: BlockBuilder, bh: Expr): { batch: Expr; hk: Expr } {
  const batch = b.let('b', div(bh, 'HKVG'));
  const hk = b.let('hk', add('KV_HEAD_OFFSET', mod(bh, 'HKVG')));
  return { batch, hk };
}

/** One invocation per (b, kv head, block, d): the mean of k over the block (MoBA). */
export function blockMeansKernel(shape: RouteShape, block: number, arrays: RouteArrays): Kernel {
  const k = routeKernel(
    shape,
    `attnc topk block means: [B, Hkv_g, ceil(Nk/${block}), D] f32 bits`,
    true,
    ['BLK', block],
  );
  const nb = size.ceilDiv('seqK', block);
  const seqK = k.uniform('seqK', 'seqK');
  const blocks = k.uniform('nb', nb);
  k.uniform('total', size.mul('batch', shape.groupKvHeads, nb, shape.headDim));
  k.uniform('kBase', arrays.k);
  k.uniform('tBase', arrays.table);
  for (const u of keySlotUniformsOf({ ...shape, groups: shape.groups ?? 1 }))
    k.uniform(u.name, u.value);
  const x = k.gridIndex('invocation', 'x', 'total');
  k.main((b) => {
    const d = b.let('d', mod(x, 'D'));
    const r = b.let('r', div(x, 'D'));
    const t = b.let('t', mod(r, blocks));
    const { batch, hk } = decodeKvHead(b, b.let('bh', div(r, blocks)));
    const j0 = b.let('j0', mul(t, 'BLK'));
    const j1 = b.let('j1', min(add(j0, 'BLK'), seqK));
    const s = b.var('s', f32(0));
    b.for(
      'j',
      j0,
      (j) => lt(j, j1),
      (body, j) => {
        const slot = body.let('slot', keySlot(j));
        body.compound(s, '+=', storedKeyElement(shape, batch, hk, slot, d));
      },
    );
    const mean = div(s, construct(T.f32, sub(j1, j0)));
    arrayView('aux', 'tBase').store(b, [x], bitsOfF32(mean));
  });
  return k.build();
}

/**
 * Statements that set `bucket` for the row `X(d)`: cluster, the centroid (rows at
 * `centroidRow(t)`) with the largest dot product; lsh, argmax([xR, -xR]) with R at
 * `projection`. Ties go to the lower index, as in the reference.
 */
export function bucketOfRow(
  b: BlockBuilder,
  routing: Routing,
  X: (d: Expr) => Expr,
  centroidRow: (t: Expr) => Expr,
  projection: Expr,
  read: WordRead,
): void {
  const dot = (body: BlockBuilder, column: (d: Expr) => Expr) => {
    const s = body.var('s', f32(0));
    body.for(
      'd',
      u32(0),
      (d) => lt(d, 'D'),
      (inner, d) => inner.compound(s, '+=', mul(X(d), f32OfBits(read(column(d))))),
      { oneLine: true },
    );
    return s;
  };
  const keepBest = (body: BlockBuilder, i: Expr, s: Expr, best: string, arg: string) =>
    body.if(
      or(eq(i, u32(0)), gt(s, best)),
      (then) => {
        then.assign(best, s);
        then.assign(arg, i);
      },
      undefined,
      { oneLine: true },
    );
  if (routing.kind === 'cluster') {
    b.var('best', f32(0));
    b.var('bucket', u32(0));
    b.for(
      't',
      u32(0),
      (t) => lt(t, u32(routing.count)),
      (body, t) => {
        const mu = body.let('mu', centroidRow(t));
        keepBest(
          body,
          t,
          dot(body, (d) => add(mu, d)),
          'best',
          'bucket',
        );
      },
    );
    return;
  }
  if (routing.kind === 'topk') throw new Error('internal error: topk has no buckets');
  const half = routing.buckets / 2;
  // argmax([xR, -xR]) ties to the lower index: all of +xR precede all of -xR.
  for (const name of ['bestPos', 'argPos', 'bestNeg', 'argNeg'])
    b.var(name, name.startsWith('best') ? f32(0) : u32(0));
  b.for(
    'c',
    u32(0),
    (c) => lt(c, u32(half)),
    (body, c) => {
      const s = dot(body, (d) => add(projection, mul(d, u32(half)), c));
      keepBest(body, c, s, 'bestPos', 'argPos');
      keepBest(body, c, neg(s), 'bestNeg', 'argNeg');
    },
  );
  b.let('bucket', select(add(u32(half), 'argNeg'), 'argPos', ge('bestPos', 'bestNeg')));
}

/**
 * One invocation per (b, kv head, key): the key's cluster or LSH bucket, at the key's slot
 * (`bucketBase + bh * kvRows + keySlot(j)`); a key a KV cache ring no longer holds is skipped
 * (its slot is a later key's).
 */
export function keyBucketsKernel(shape: RouteShape, routing: Routing, arrays: RouteArrays): Kernel {
  const k = routeKernel(shape, `attnc ${routing.kind} key buckets: [B, Hkv_g, Nk] u32`, true);
  const seqK = k.uniform('seqK', 'seqK');
  k.uniform('total', size.mul('batch', shape.groupKvHeads, 'seqK'));
  k.uniform('kBase', arrays.k);
  k.uniform('bucketBase', arrays.keyBuckets);
  const centroids =
    routing.kind === 'cluster' ? k.uniform('centroidsBase', need(arrays.centroids)) : null;
  const projection = routing.kind === 'lsh' ? k.uniform('rBase', need(arrays.projection)) : u32(0);
  for (const u of keySlotUniformsOf({ ...shape, groups: shape.groups ?? 1 }))
    k.uniform(u.name, u.value);
  const x = k.gridIndex('invocation', 'x', 'total');
  k.main((b) => {
    const j = b.let('j', mod(x, seqK));
    const { batch, hk } = decodeKvHead(b, b.let('bh', div(x, seqK)));
    b.returnIf(not(keyHeld(j, seqK)));
    const slot = b.let('slot', keySlot(j));
    bucketOfRow(
      b,
      routing,
      (d) => storedKeyElement(shape, batch, hk, slot, d),
      (t) => add(need(centroids), mul(add(mul(hk, u32(arrays.centroidsPerHead)), t), 'D')),
      projection,
      (at) => index('aux', at),
    );
    arrayView('aux', 'bucketBase').store(b, [mul('bh', uniform('kvRows')), slot], 'bucket');
  });
  return k.build();
}

function need<X>(x: X | null): X {
  if (x === null) throw new Error('internal error: routing array missing from layout');
  return x;
}
