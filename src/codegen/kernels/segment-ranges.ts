// The kernel that reduces `seg_q` and `seg_k` to per-tile [min, max] segment ids: the compact
// table the softmax kernel classifies `segment` tiles with (disjoint ranges: empty; one shared
// id: full). One invocation per (batch, tile), O(N) work in all (O(ring) for a KV cache ring's
// keys).

import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import { arrayView } from '../../kernel/blocks/array-view.js';
import { keySlot } from '../../kernel/blocks/layout.js';
import {
  add,
  div,
  hexU32,
  KernelBuilder,
  lt,
  max,
  min,
  mod,
  mul,
  sub,
  T,
  u32,
  uniform,
  type BlockBuilder,
} from '../../kernel/build.js';
import type { Expr, Kernel, BufferSlot } from '../../kernel/ir.js';
import { KEY_SLOT_UNIFORMS } from '../wgsl/softmax-kernel-setup.js';

const WORKGROUP = 64;

export function segmentRangesKernel(
  queryTile: number,
  keyTile: number,
  aux: BufferSlot,
  arrays: { readonly segQ: SizeExpr; readonly segK: SizeExpr; readonly ranges: SizeExpr },
): Kernel {
  const k = new KernelBuilder(WORKGROUP);
  k.header('attnc segment tile ranges: [B][qTiles] then [B][kTiles] pairs (min, max)');
  const TQ = k.const('TQ', T.u32, u32(queryTile));
  const TK = k.const('TK', T.u32, u32(keyTile));
  const qTiles = size.ceilDiv('seqQ', queryTile);
  const kTiles = size.ceilDiv('seqK', keyTile);
  const P = {
    batch: k.uniform('batch', 'batch'),
    seqQ: k.uniform('seqQ', 'seqQ'),
    seqK: k.uniform('seqK', 'seqK'),
    qTiles: k.uniform('qTiles', qTiles),
    kTiles: k.uniform('kTiles', kTiles),
  };
  k.uniform('total', size.mul('batch', size.add(qTiles, kTiles)));
  k.uniform('segQBase', arrays.segQ);
  k.uniform('segKBase', arrays.segK);
  k.uniform('rangesBase', arrays.ranges);
  // seg_k is kept like k and v: `kvRows` ids per batch entry, key j at keySlot(j).
  for (const u of KEY_SLOT_UNIFORMS) k.uniform(u.name, u.value);
  k.storage(aux.binding, aux.name, 'read_write', T.u32);
  const segQ = arrayView(aux.name, 'segQBase');
  const segK = arrayView(aux.name, 'segKBase');
  const ranges = arrayView(aux.name, 'rangesBase');
  const x = k.gridIndex('invocation', 'x', 'total');

  /** Folds the ids at positions [from, to) into lo, hi (`read(j)` the id of position j). */
  const fold = (b: BlockBuilder, i: string, from: Expr, to: Expr, read: (j: Expr) => Expr) =>
    b.for(
      i,
      from,
      (j) => lt(j, to),
      (body, j) => {
        const s = body.let('s', read(j));
        body.assign('lo', min('lo', s));
        body.assign('hi', max('hi', s));
      },
    );

  /** Query tile `local` (of `qTiles` per batch entry): every row of it. */
  const foldQueryTile = (b: BlockBuilder, local: Expr) => {
    const batch = b.let('b', div(local, P.qTiles));
    const start = b.let('ta', mul(mod(local, P.qTiles), TQ));
    const end = min(add(start, TQ), P.seqQ);
    fold(b, 'i', start, end, (i) => segQ.at(mul(batch, P.seqQ), i));
  };

  /**
   * Key tile `local`: only the positions the keys are kept for. A KV cache ring holds its
   * prefix [0, ringPrefix) and the last ringSlots positions, and a slot of any other position
   * holds a later key's id; no query can read those positions (the ring keeps every key a
   * query may read), so leaving them out keeps the range exact for every key read, and the
   * work per step is the ring's, not the length's. A plain run keeps [0, seqK): one span.
   */
  const foldKeyTile = (b: BlockBuilder, local: Expr) => {
    const batch = b.let('b', div(local, P.kTiles));
    const start = b.let('ta', mul(mod(local, P.kTiles), TK));
    const end = b.let('tb', min(add(start, TK), P.seqK));
    const prefix = uniform('ringPrefix');
    const recent = b.let('recent', sub(P.seqK, min(uniform('ringSlots'), P.seqK)));
    const row = mul(batch, uniform('kvRows'));
    const read = (j: Expr) => segK.at(row, keySlot(j));
    fold(b, 'j', start, min(end, prefix), read);
    // From within the tile to its end (`first + TK` is past it: the loop bound reads TK).
    const first = b.let('first', max(start, max(prefix, recent)));
    fold(b, 'j', first, min(add(first, TK), end), read);
  };

  k.main((b) => {
    const nq = b.let('nq', mul(P.batch, P.qTiles));
    b.var('lo', hexU32(0xffffffff));
    b.var('hi', u32(0));
    b.if(
      lt(x, nq),
      (then) => foldQueryTile(then, x),
      (otherwise) => foldKeyTile(otherwise, otherwise.let('y', sub(x, nq))),
    );
    ranges.store(b, [mul(x, u32(2))], 'lo');
    ranges.store(b, [mul(x, u32(2)), u32(1)], 'hi');
  });
  return k.build();
}
