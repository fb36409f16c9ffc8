// The per-bucket key lists of a cluster / lsh routing table (route-kernels.ts): keys sorted by
// (bucket, position) and each bucket's (start, count), a counting sort without atomics in two
// kernels, so that no invocation walks every key (llvmpipe ends an invocation's loops after
// 65,535 iterations in all: docs/runtime.md). The keys are cut into chunks of CHUNK:
//
//   bucket_counts: one invocation per (b, kv head, chunk, bucket) counts the chunk's keys
//                  below the bucket (`less`) and in it (`equal`) into `chunkCounts`;
//   bucket_lists:  one invocation per (b, kv head, chunk, bucket) sums those counts over the
//                  chunks (the bucket's start: every key below it; its keys in earlier chunks
//                  come first) and writes the chunk's keys of the bucket in position order;
//                  chunk 0 also writes the bucket's (start, count).
//
// Each invocation walks at most CHUNK keys and the chunks' counts, so the lists fit llvmpipe up
// to ~60,000 chunks, far past what the routed softmax can walk. Lists are sorted and the
// result is deterministic, as the reference's. Only the keys still held are sorted (every key
// in a plain run; a KV cache ring's prefix and recent positions, `heldKeys`), numbered in
// position order and cut into chunks by that number; their ids are read by slot (`keySlot`),
// and the ids and lists of (b, kv head) are `kvRows` apart (seqK in a plain run).

import type { Routing } from '../../ir/ir.js';
import { arrayView } from '../../kernel/blocks/array-view.js';
import {
  add,
  div,
  eq,
  index,
  lt,
  min,
  mod,
  mul,
  select,
  T,
  u32,
  uniform,
  type BlockBuilder,
  type KernelBuilder,
} from '../../kernel/build.js';
import { heldKeys, keySlot } from '../../kernel/blocks/layout.js';
import type { Expr, Kernel } from '../../kernel/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import { KEY_SLOT_UNIFORMS } from '../wgsl/softmax-kernel-setup.js';
import { routeKernel, type RouteArrays, type RouteShape } from './route-tables.js';

/** Keys per chunk: what one invocation walks. */
export const BUCKET_CHUNK = 4096;

/** Chunks of the held keys at run time (at most min(seqK, kvRows) of them). */
const chunks: SizeExpr = size.ceilDiv(size.min('seqK', 'kvRows'), BUCKET_CHUNK);

/** Words of the per-chunk counts: (less, equal) per (b, kv head, chunk, bucket). */
export function chunkCountWords(kvHeads: SizeExpr, buckets: number): SizeExpr {
  return size.mul(kvHeads, chunks, buckets, 2);
}

interface ChunkNames {
  /** The bucket, the chunk and the flat (batch, kv head). */
  readonly t: Expr;
  readonly c: Expr;
  readonly bh: Expr;
  /** The chunk's held keys, numbers [j0, j1), and where the ids of (b, kv head) start. */
  readonly j0: Expr;
  readonly j1: Expr;
  readonly keyBuckets: Expr;
  /** The bucket id of held key number i (`forChunk` names its position `j`). */
  readonly forChunk: (
    b: BlockBuilder,
    body: (inner: BlockBuilder, id: Expr, j: Expr) => void,
  ) => void;
}

/**
 * A kernel of one invocation per (b, kv head, chunk, bucket), x = (bh * chunks + c) *
 * NBUCKETS + t, with the uniforms both kernels read; `main` gets the invocation's names.
 */
function chunkKernel(
  shape: RouteShape,
  routing: Routing,
  buckets: number,
  arrays: RouteArrays,
  header: string,
): { k: KernelBuilder; main: (body: (b: BlockBuilder, names: ChunkNames) => void) => void } {
  const k = routeKernel(shape, `attnc ${routing.kind} ${header}`, false, ['NBUCKETS', buckets]);
  k.const('CHUNK', T.u32, u32(BUCKET_CHUNK));
  const seqK = k.uniform('seqK', 'seqK');
  const chunkCount = k.uniform('chunks', chunks);
  k.uniform('total', size.mul('batch', shape.groupKvHeads, chunks, buckets));
  const bucketBase = k.uniform('bucketBase', arrays.keyBuckets);
  k.uniform('listBase', arrays.lists);
  k.uniform('rangeBase', arrays.ranges);
  if (arrays.chunkCounts === null) throw new Error('internal error: bucket lists without counts');
  k.uniform('countBase', arrays.chunkCounts);
  for (const u of KEY_SLOT_UNIFORMS) k.uniform(u.name, u.value);
  const x = k.gridIndex('invocation', 'x', 'total');
  const held = heldKeys(seqK);
  const main = (body: (b: BlockBuilder, names: ChunkNames) => void) =>
    k.main((b) => {
      const t = b.let('t', mod(x, 'NBUCKETS'));
      const r = b.let('r', div(x, 'NBUCKETS'));
      const c = b.let('c', mod(r, chunkCount));
      const bh = b.let('bh', div(r, chunkCount));
      const j0 = b.let('j0', mul(c, 'CHUNK'));
      const j1 = b.let('j1', min(add(j0, 'CHUNK'), held.count));
      const keyBuckets = b.let('kb', add(bucketBase, mul(bh, uniform('kvRows'))));
      const forChunk: ChunkNames['forChunk'] = (block, body) =>
        block.for(
          'i',
          j0,
          (i) => lt(i, j1),
          (inner, i) => {
            const j = inner.let('j', held.position(i));
            body(inner, index('aux', add(keyBuckets, keySlot(j))), j);
          },
        );
      body(b, { t, c, bh, j0, j1, keyBuckets, forChunk });
    });
  return { k, main };
}

/** Keys one invocation walks: its chunk, one step each and the loop's exit. */
const chunkWalk: SizeExpr = size.add(size.min('seqK', BUCKET_CHUNK), 1);

/** `bucket_counts`: the chunk's keys below bucket t and in it. */
export function bucketCountsKernel(
  shape: RouteShape,
  routing: Routing,
  buckets: number,
  arrays: RouteArrays,
): Kernel {
  const { k, main } = chunkKernel(
    shape,
    routing,
    buckets,
    arrays,
    'bucket counts: per key chunk and bucket, the keys below it and in it',
  );
  main((b, { t, forChunk }) => {
    const less = b.var('less', u32(0));
    const equal = b.var('equal', u32(0));
    forChunk(b, (body, id) => {
      const v = body.let('v', id);
      body.compound(less, '+=', select(u32(0), u32(1), lt(v, t)));
      body.compound(equal, '+=', select(u32(0), u32(1), eq(v, t)));
    });
    const counts = arrayView('aux', 'countBase');
    counts.store(b, [mul('x', u32(2))], less);
    counts.store(b, [mul('x', u32(2)), u32(1)], equal);
  });
  k.loopIterations(chunkWalk);
  return k.build();
}

/**
 * `bucket_lists`: the bucket's start (every key below it, over all chunks) plus its keys in
 * earlier chunks is where the chunk's keys of the bucket go, in position order.
 */
export function bucketListsKernel(
  shape: RouteShape,
  routing: Routing,
  buckets: number,
  arrays: RouteArrays,
): Kernel {
  const { k, main } = chunkKernel(
    shape,
    routing,
    buckets,
    arrays,
    'bucket lists: keys sorted by (bucket, position), (start, count) per bucket',
  );
  main((b, { t, c, bh, forChunk }) => {
    const before = b.var('before', u32(0));
    const count = b.var('count', u32(0));
    const earlier = b.var('earlier', u32(0));
    const counts = arrayView('aux', 'countBase');
    b.comment("Every chunk's counts of this bucket: keys below it, in it, in it before chunk c.");
    b.for(
      'e',
      u32(0),
      (e) => lt(e, uniform('chunks')),
      (body, e) => {
        const at = body.let(
          'at',
          mul(add(mul(add(mul(bh, uniform('chunks')), e), 'NBUCKETS'), t), u32(2)),
        );
        const equal = body.let('equal', counts.at(at, u32(1)));
        body.compound(before, '+=', counts.at(at));
        body.compound(count, '+=', equal);
        body.compound(earlier, '+=', select(u32(0), equal, lt(e, c)));
      },
    );
    const start = b.let('start', add(uniform('listBase'), mul(bh, uniform('kvRows')), before));
    const n = b.var('n', add(start, earlier));
    forChunk(b, (body, id, j) =>
      body.if(
        eq(id, t),
        (then) => {
          then.store('aux', n, j);
          then.increment(n);
        },
        undefined,
        { oneLine: true },
      ),
    );
    b.if(eq(c, u32(0)), (first) => {
      const ranges = arrayView('aux', 'rangeBase');
      const range = first.let('range', mul(add(mul(bh, 'NBUCKETS'), t), u32(2)));
      ranges.store(first, [range], start);
      ranges.store(first, [range, u32(1)], count);
    });
  });
  k.loopIterations(size.add(chunks, 1, chunkWalk));
  return k.build();
}
