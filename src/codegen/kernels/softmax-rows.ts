// Row sources of the softmax kernels: which query rows workgroup `linear` owns. The grid
// source takes query tile `linear % qTiles` of (batch, head) `linear / qTiles`; the routed
// source (head routing, emit-head-routing.ts) finds the kept-row list (b, local head) whose
// running tile total passes `linear` and takes tile `linear - start` of it; the split source
// (split-K decode) gives each invocation one split of one row. All define what the key walk
// reads: qt, b, hl, h, hk, row, p and the tile's query positions [pa, pb]; the first two also
// offset and i (seqQ for an idle invocation of a routed tile). Rows of a routed tile are ascending,
// so [pa, pb] bounds them and every range-based tile rule stays conservative.

import {
  add,
  block,
  call,
  div,
  eq,
  ge,
  gt,
  index,
  lt,
  min,
  mod,
  mul,
  paren,
  select,
  sub,
  T,
  u32,
  uniform,
  workgroupUniformLoad,
  type BlockBuilder,
} from '../../kernel/build.js';
import type { Attention } from '../../ir/ir.js';
import { keyHeadsOf, keyRowWalk } from '../../kernel/blocks/layout.js';
import { f32OfBits } from '../../kernel/blocks/row-codec.js';
import type { Expr, HelperFunction } from '../../kernel/ir.js';

/** kBase0 and vBase0: the first k and v rows of (b, hk), through the key row walk. */
export function keyRowBases(b: BlockBuilder, attention: Attention): void {
  const keyHeads = keyHeadsOf(attention.groups.length);
  b.let('kBase0', add(uniform('kBase'), keyRowWalk(attention.layout, keyHeads, 'DW', 'b').first));
  b.let('vBase0', add(uniform('vBase'), keyRowWalk(attention.layout, keyHeads, 'DVW', 'b').first));
}

/** The head and kv head of the row's (local) head `hl`. */
function headOfRow(b: BlockBuilder, hl: Expr): void {
  b.let('h', add('HEAD_OFFSET', hl));
  b.let('hk', add('KV_HEAD_OFFSET', div(hl, 'GROUP_SIZE')));
}

/** How far query row 0 lies from key 0 (queries are the last seqQ positions). */
const keyOffset = (b: BlockBuilder) => b.let('offset', sub(uniform('seqK'), uniform('seqQ')));

/** One query tile of (batch, head) per workgroup, one row per invocation. */
export function gridRows(b: BlockBuilder): void {
  gridQueryTile(b);
  const i = b.let('i', add(mul('qt', 'TQ'), 'lid'));
  const row = b.let('row', min(i, sub(uniform('seqQ'), u32(1))));
  b.let('p', add(row, 'offset'));
  queryTileRange(b);
}

/**
 * One query tile of (batch, head) per workgroup, its rows shared out by the kernel (the
 * subgroup schedule): qt, b, hl, h, hk, offset, pa and pb, no row of its own.
 */
export function gridTile(b: BlockBuilder): void {
  gridQueryTile(b);
  queryTileRange(b);
}

function gridQueryTile(b: BlockBuilder): void {
  b.let('qt', mod('linear', uniform('qTiles')));
  const bh = b.let('bh', div('linear', uniform('qTiles')));
  const hl = b.let('hl', mod(bh, 'HEADS'));
  b.let('b', div(bh, 'HEADS'));
  headOfRow(b, hl);
  keyOffset(b);
}

/** The tile's query positions [pa, pb]. */
function queryTileRange(b: BlockBuilder): void {
  b.let('pa', add(mul('qt', 'TQ'), 'offset'));
  b.let('pb', add(sub(min(add(mul('qt', 'TQ'), 'TQ'), uniform('seqQ')), u32(1)), 'offset'));
}

/**
 * Split-K decode: invocation `x` takes one split of one row of (batch, head). The query heads
 * of one kv head are neighbouring invocations (`g`, the head within its GQA group, varies
 * fastest), so they walk the same keys of the same split side by side and each key row is
 * fetched from memory once for all of them: a broadcast load on a GPU, one cache line on a
 * CPU adapter's SIMD lanes (before, the heads of a group streamed the keys at different
 * times). The mask helpers see a query tile of that one row, so tile classes are exact.
 * Also defines `record`, the row's partial record index in the merge kernel's order
 * ((b * HEADS + hl) * seqQ + row) * splits + split.
 */
export function splitRows(b: BlockBuilder): void {
  b.comment(
    'x = (((b * HEADS / GROUP_SIZE + hkl) * seqQ + row) * splits + split) * GROUP_SIZE + g',
  );
  const g = b.let('g', mod('x', 'GROUP_SIZE'));
  const xs = b.let('xs', div('x', 'GROUP_SIZE'));
  const split = b.let('split', mod(xs, uniform('splits')));
  const r = b.let('r', div(xs, uniform('splits')));
  const row = b.let('row', mod(r, uniform('seqQ')));
  const bk = b.let('bk', div(r, uniform('seqQ')));
  const kvHeads = paren(div('HEADS', 'GROUP_SIZE'));
  const hl = b.let('hl', add(mul(paren(mod(bk, kvHeads)), 'GROUP_SIZE'), g));
  const batch = b.let('b', div(bk, kvHeads));
  headOfRow(b, hl);
  b.let(
    'record',
    add(
      mul(
        paren(add(mul(paren(add(mul(batch, 'HEADS'), hl)), uniform('seqQ')), row)),
        uniform('splits'),
      ),
      split,
    ),
  );
  const p = b.let('p', sub(add(row, uniform('seqK')), uniform('seqQ')));
  b.comment('The mask functions see a query tile of this one row (exact, never wider).');
  b.let('pa', p);
  b.let('pb', p);
  b.let('qt', div(row, 'TQ'));
}

/**
 * Split-K decode with the query heads of a kv head in one invocation: invocation `x` takes one
 * split of one row of (batch, kv head) and scores every key row it loads against all
 * GROUP_SIZE query heads of that kv head, so each k and v row is read once per (kv head,
 * split) instead of once per query head. Defines b, hkl (the local kv head), hk, row, split,
 * p, pa, pb, qt, and `recordStride` and `record0`: head g's partial record (merge order
 * ((b * HEADS + hl) * seqQ + row) * splits + split) is record0 + g * recordStride.
 */
export function kvHeadSplitRows(b: BlockBuilder): void {
  b.comment('x = ((b * HEADS / GROUP_SIZE + hkl) * seqQ + row) * splits + split');
  const split = b.let('split', mod('x', uniform('splits')));
  const r = b.let('r', div('x', uniform('splits')));
  const row = b.let('row', mod(r, uniform('seqQ')));
  const bk = b.let('bk', div(r, uniform('seqQ')));
  const kvHeads = paren(div('HEADS', 'GROUP_SIZE'));
  const hkl = b.let('hkl', mod(bk, kvHeads));
  const batch = b.let('b', div(bk, kvHeads));
  b.let('hk', add('KV_HEAD_OFFSET', hkl));
  const stride = b.let('recordStride', mul(uniform('seqQ'), uniform('splits')));
  const firstHead = paren(add(mul(batch, 'HEADS'), mul(hkl, 'GROUP_SIZE')));
  b.let('record0', add(mul(firstHead, stride), mul(row, uniform('splits')), split));
  const p = b.let('p', sub(add(row, uniform('seqK')), uniform('seqQ')));
  b.comment('The mask functions see a query tile of this one row (exact, never wider).');
  b.let('pa', p);
  b.let('pb', p);
  b.let('qt', div(row, 'TQ'));
}

/** `findRoutedList(linear)`: binary search over the running tile totals of the lists. */
export function findRoutedListFunction(aux: string): HelperFunction {
  return {
    name: 'findRoutedList',
    params: [{ name: 'linear', type: T.u32 }],
    returns: T.u32,
    doc: ['First list e (in (b, local head) order) whose running tile total passes `linear`.'],
    body: block((b) => {
      const base = b.let(
        'base',
        add(uniform('routeTileEndBase'), mul(uniform('batch'), 'HEAD_OFFSET')),
      );
      const lo = b.var('lo', u32(0));
      const hi = b.var('hi', mul(uniform('batch'), 'HEADS'));
      b.while(lt(lo, hi), (search) => {
        const mid = search.let('mid', div(paren(add(lo, hi)), u32(2)));
        search.if(
          gt(index(aux, add(base, mid)), 'linear'),
          (t) => t.assign(hi, mid),
          (e) => e.assign(lo, add(mid, u32(1))),
          { oneLine: true },
        );
      });
      b.return(lo);
    }),
  };
}

/** One tile of a kept-row list per workgroup (head routing); tiled: through `wgRoute`. */
export function routedRows(b: BlockBuilder, aux: string, tiled: boolean): void {
  const word = (i: Expr) => index(aux, i);
  b.comment('Head routing: this workgroup walks one tile of a kept-row list (b, local head).');
  const find = call('findRoutedList', 'linear');
  if (tiled) {
    b.if(eq('lid', u32(0)), (t) => t.assign('wgRoute', find), undefined, { oneLine: true });
  }
  const list = b.let('routeList', tiled ? workgroupUniformLoad('wgRoute') : find);
  b.if(ge(list, mul(uniform('batch'), 'HEADS')), (t) => t.return(), undefined, { oneLine: true });
  const hl = b.let('hl', mod(list, 'HEADS'));
  const bb = b.let('b', div(list, 'HEADS'));
  headOfRow(b, hl);
  keyOffset(b);
  const listEnd = add(uniform('routeTileEndBase'), mul(uniform('batch'), 'HEAD_OFFSET'), list);
  const start = select(u32(0), word(sub(listEnd, u32(1))), gt(list, u32(0)));
  const tile = b.let('routeTile', sub('linear', start));
  const perHead = add(mul(bb, 'TOTAL_HEADS'), 'h');
  const kept = b.let(
    'routeKept',
    word(add(uniform('routeCountsBase'), mul(bb, 'TOTAL_HEADS'), 'h')),
  );
  const rows = b.let(
    'routeRows',
    add(uniform('routeRowsBase'), mul(paren(perHead), uniform('seqQ'))),
  );
  const first = b.let('routeFirst', mul(tile, 'TQ'));
  const last = b.let('routeLast', sub(min(add(first, 'TQ'), kept), u32(1)));
  const slot = b.let('routeSlot', add(first, 'lid'));
  const row = b.let('row', word(add(rows, min(slot, last))));
  b.let('i', select(uniform('seqQ'), row, lt(slot, kept)));
  b.let('p', add(row, 'offset'));
  const pa = b.let('pa', add(word(add(rows, first)), 'offset'));
  b.let('pb', add(word(add(rows, last)), 'offset'));
  b.let('qt', div(paren(sub(pa, 'offset')), 'TQ'));
}

/** The routing weight that scales a kept row's output. */
export function routedWeight(aux: string): Expr {
  const at = add(
    uniform('routeWeightsBase'),
    mul(paren(add(mul('b', uniform('seqQ')), 'row')), 'TOTAL_HEADS'),
    'h',
  );
  return f32OfBits(index(aux, at));
}
