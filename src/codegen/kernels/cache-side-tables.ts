// Kernels of the KV cache's side tables for routed masks (src/runtime/cache/block-means.ts,
// key-buckets.ts): what a routed decode step reads instead of recomputing it from every key.
// Each store keeps one buffer of u32 words (f32 values as their bits, as the route tables do):
//
//   word 0:            the number of keys appended so far (the GPU's own count; padded to 256
//                      bytes, so every table can be bound at its own offset)
//   topk(k, block: b): sums  [B, Hkv_g, ceil(capacity / b), D] f32, then (at a multiple of
//                      256 bytes) means [B, Hkv_g, ceil(capacity / b), D] f32
//   cluster / lsh:     bucket ids [B, Hkv_g, capacity] u32 (a KV cache ring: its rows, by
//                      slot), then the centroids [Hkv, c, D] (cluster) or R [D, n/2] (lsh)
//                      the buckets are computed with
//
// The appended position comes from word 0, not from a uniform, so a decode loop writes no
// uniform per step: `append` reads it, and `advance` (one invocation, after it) adds the
// chunk's T. Sizes: `batch`, `seqK` = T (the appended tokens), `seqQ` = the capacity.
// Block sums are f32 additions in key order starting from 0, the same sequence the prefill's
// blockMeansKernel adds, so the means are the prefill's to the last bit.

import type { Routing } from '../../ir/ir.js';
import {
  add,
  construct,
  div,
  ge,
  index,
  KernelBuilder,
  lt,
  max,
  min,
  mod,
  mul,
  sub,
  T,
  u32,
} from '../../kernel/build.js';
import { bitsOfF32, f32OfBits, wordCodec } from '../../kernel/blocks/row-codec.js';
import type { Kernel } from '../../kernel/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import { keySlot } from '../../kernel/blocks/layout.js';
import { bucketOfRow, keyElement, type RouteShape } from './route-tables.js';

const WORKGROUP = 64;
/**
 * Words before the first table: the appended count, padded to 256 bytes (the largest
 * minStorageBufferOffsetAlignment), so a reader can bind a table on its own.
 */
export const SIDE_TABLE_HEADER_WORDS = 64;

/** Blocks a chunk of T keys can touch: its first block may already be partly filled. */
export function touchedBlocks(block: number): SizeExpr {
  return size.add(size.ceilDiv(size.sub('seqK', 1), block), 1);
}

function sideKernel(shape: RouteShape, header: string): KernelBuilder {
  const k = new KernelBuilder(WORKGROUP);
  k.header(header);
  k.const('D', T.u32, u32(shape.headDim));
  k.const('HKVG', T.u32, u32(shape.groupKvHeads));
  k.const('KV_HEAD_OFFSET', T.u32, u32(shape.kvHeadOffset));
  k.const('TOTAL_KV_HEADS', T.u32, u32(shape.totalKvHeads));
  k.const('HEADER', T.u32, u32(SIDE_TABLE_HEADER_WORDS));
  return k;
}

/**
 * `append` of the topk block means: one invocation per (batch, kv head, touched block, d).
 * Block t of the chunk's first touched block on gets the chunk's keys that fall in it added
 * to its sum, in position order, and its mean rewritten (a partial last block too).
 */
export function blockMeansAppendKernel(shape: RouteShape, block: number): Kernel {
  const k = sideKernel(
    shape,
    `attnc cache: topk block means (block ${block}): add a chunk's keys to the block sums`,
  );
  k.const('BLK', T.u32, u32(block));
  const seqK = k.uniform('seqK', 'seqK');
  const span = k.uniform('span', touchedBlocks(block));
  const nb = k.uniform('nb', size.ceilDiv('seqQ', block));
  k.uniform('total', size.mul('batch', shape.groupKvHeads, touchedBlocks(block), shape.headDim));
  k.uniform('kBase', 0);
  const meansBase = k.uniform(
    'meansBase',
    size.add(
      SIDE_TABLE_HEADER_WORDS,
      size.alignUp(
        size.mul('batch', shape.groupKvHeads, size.ceilDiv('seqQ', block), shape.headDim),
        SIDE_TABLE_HEADER_WORDS,
      ),
    ),
  );
  k.storage(1, 'kbuf', 'read', wordCodec(shape.dtype, 1).stored);
  const table = k.storage(2, 'table', 'read_write', T.u32);
  // Each block's keys are summed one after another: a run-time bound of BLK keys per block.
  k.loopIterations(block + 1);
  const x = k.gridIndex('invocation', 'x', 'total');
  k.main((b) => {
    const d = b.let('d', mod(x, 'D'));
    const r = b.let('r', div(x, 'D'));
    const bh = b.let('bh', div(r, span));
    const batch = b.let('b', div(bh, 'HKVG'));
    const hk = b.let('hk', add('KV_HEAD_OFFSET', mod(bh, 'HKVG')));
    const len = b.let('len', index(table, u32(0)));
    const t = b.let('t', add(div(len, 'BLK'), mod(r, span)));
    const j0 = b.let('j0', max(mul(t, 'BLK'), len));
    const j1 = b.let('j1', min(mul(add(t, u32(1)), 'BLK'), add(len, seqK)));
    b.returnIf(ge(j0, j1));
    const at = b.let('at', add('HEADER', mul(add(mul(bh, nb), t), 'D'), d));
    const s = b.var('s', f32OfBits(index(table, at)));
    b.for(
      'j',
      j0,
      (j) => lt(j, j1),
      (body, j) => body.compound(s, '+=', keyElement(shape, batch, hk, sub(j, len), d)),
      { oneLine: true },
    );
    b.store(table, at, bitsOfF32(s));
    const count = construct(T.f32, sub(j1, mul(t, 'BLK')));
    b.store(table, add(meansBase, sub(at, 'HEADER')), bitsOfF32(div(s, count)));
  });
  return k.build();
}

/**
 * `append` of the key buckets: one invocation per (batch, kv head, appended key): the key's
 * cluster or LSH bucket (bucketOfRow, the prefill's function), at its slot: its absolute
 * position, or in a ring (sizes `ringPrefix`, `ringSlots`) the k/v store's slot of it.
 */
export function keyBucketsAppendKernel(
  shape: RouteShape,
  routing: Routing,
  centroidsPerHead: number,
): Kernel {
  const k = sideKernel(
    shape,
    `attnc cache: ${routing.kind} bucket ids: the buckets of a chunk's keys, at their positions`,
  );
  const seqK = k.uniform('seqK', 'seqK');
  const capacity = k.uniform('capacity', 'seqQ');
  k.uniform('total', size.mul('batch', shape.groupKvHeads, 'seqK'));
  k.uniform('kBase', 0);
  // The centroids or R follow the ids.
  const tablesBase = k.uniform(
    'tablesBase',
    size.add(SIDE_TABLE_HEADER_WORDS, size.mul('batch', shape.groupKvHeads, 'seqQ')),
  );
  // A ring's table keeps the ids of the keys the ring holds, by slot (`capacity` = its rows):
  // position p at keySlot(p), the k/v store's addressing. Without a ring, the identity.
  k.uniform('ringPrefix', 'ringPrefix');
  k.uniform('ringSlots', 'ringSlots');
  k.storage(1, 'kbuf', 'read', wordCodec(shape.dtype, 1).stored);
  const table = k.storage(2, 'table', 'read_write', T.u32);
  const x = k.gridIndex('invocation', 'x', 'total');
  k.main((b) => {
    const j = b.let('j', mod(x, seqK));
    const bh = b.let('bh', div(x, seqK));
    const batch = b.let('b', div(bh, 'HKVG'));
    const hk = b.let('hk', add('KV_HEAD_OFFSET', mod(bh, 'HKVG')));
    const len = b.let('len', index(table, u32(0)));
    bucketOfRow(
      b,
      routing,
      (d) => keyElement(shape, batch, hk, j, d),
      (t) => add(tablesBase, mul(add(mul(hk, u32(centroidsPerHead)), t), 'D')),
      tablesBase,
      (at) => index(table, at),
    );
    b.store(table, add('HEADER', mul(bh, capacity), keySlot(add(len, j))), 'bucket');
  });
  return k.build();
}

/** `advance`: one invocation adds the appended chunk's T to the count in word 0. */
export function advanceKernel(what: string): Kernel {
  const k = new KernelBuilder(1);
  k.header(`attnc cache: ${what}: count the appended keys (after the append kernel)`);
  const seqK = k.uniform('seqK', 'seqK');
  k.uniform('total', 1);
  const table = k.storage(1, 'table', 'read_write', T.u32);
  k.singleWorkgroup();
  k.main((b) => b.store(table, u32(0), add(index(table, u32(0)), seqK)));
  return k.build();
}
