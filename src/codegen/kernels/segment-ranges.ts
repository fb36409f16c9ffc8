// The kernel that reduces `seg_q` and `seg_k` to per-tile [min, max] segment ids: the compact
// table the softmax kernel classifies `segment` tiles with (disjoint ranges: empty; one shared
// id: full). One invocation per (batch, tile), O(N) work in all.

import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import { arrayView, type ArrayView } from '../../kernel/blocks/array-view.js';
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
  type BlockBuilder,
} from '../../kernel/build.js';
import type { Expr, Kernel, BufferSlot } from '../../kernel/ir.js';

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
  k.storage(aux.binding, aux.name, 'read_write', T.u32);
  const segQ = arrayView(aux.name, 'segQBase');
  const segK = arrayView(aux.name, 'segKBase');
  const ranges = arrayView(aux.name, 'rangesBase');
  const x = k.gridIndex('invocation', 'x', 'total');

  /** Folds the ids of one tile (`t` of `tiles`, `tile` long, in rows of `seq`) into lo, hi. */
  const foldTile = (
    b: BlockBuilder,
    local: Expr,
    tiles: Expr,
    tile: Expr,
    seq: Expr,
    view: ArrayView,
    i: string,
  ) => {
    const batch = b.let('b', div(local, tiles));
    const t = b.let('t', mod(local, tiles));
    const start = mul(t, tile);
    b.for(
      i,
      start,
      (j) => lt(j, min(add(start, tile), seq)),
      (body, j) => {
        const s = body.let('s', view.at(mul(batch, seq), j));
        body.assign('lo', min('lo', s));
        body.assign('hi', max('hi', s));
      },
    );
  };

  k.main((b) => {
    const nq = b.let('nq', mul(P.batch, P.qTiles));
    b.var('lo', hexU32(0xffffffff));
    b.var('hi', u32(0));
    b.if(
      lt(x, nq),
      (then) => foldTile(then, x, P.qTiles, TQ, P.seqQ, segQ, 'i'),
      (otherwise) => {
        const y = otherwise.let('y', sub(x, nq));
        foldTile(otherwise, y, P.kTiles, TK, P.seqK, segK, 'j');
      },
    );
    ranges.store(b, [mul(x, u32(2))], 'lo');
    ranges.store(b, [mul(x, u32(2)), u32(1)], 'hi');
  });
  return k.build();
}
