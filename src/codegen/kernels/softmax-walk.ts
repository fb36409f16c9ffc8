// The fused softmax kernel's key walk over the block plan's tile ranges: the key tiles of the
// query tile's visit range (a prefix [0, prefix) and a band [lo, hi), mask-exprs.ts's closed
// forms), each classified (0 empty: skipped, 1 partial: mask per element, 2 full: no mask),
// with the per-key online-softmax step (kernel/blocks/online-softmax.ts) on every allowed key.
// Tiled: one loop over visited tiles that stages K/V in workgroup memory for the workgroup's
// rows, its key loop written twice (with and without the mask). Rowwise: one flat loop over
// keys that steps to the next visited tile when the current one ends. Also the LSE store.

import type { Mask, Score } from '../../ir/ir.js';
import {
  keyRowWalk,
  keySlot,
  type KeyHeads,
  type TensorLayout,
} from '../../kernel/blocks/layout.js';
import { keyUpdate } from '../../kernel/blocks/online-softmax.js';
import { forShortLoops } from '../../kernel/blocks/short-loops.js';
import { f32OfBits, type RowCodec } from '../../kernel/blocks/row-codec.js';
import {
  add,
  bool,
  call,
  construct,
  div,
  eq,
  f32,
  ge,
  gt,
  i32,
  index,
  lt,
  max,
  min,
  mod,
  mul,
  not,
  paren,
  select,
  sub,
  T,
  u32,
  uniform,
  workgroupUniformLoad,
  type BlockBuilder,
} from '../../kernel/build.js';
import type { Expr } from '../../kernel/ir.js';
import { visitRange } from './mask-exprs.js';
import type { LseOutput, SoftmaxBindings } from '../wgsl/softmax-kernel-setup.js';

export interface KeyWalk {
  readonly mask: Mask;
  readonly score: Score;
  readonly modified: boolean;
  /**
   * `staged`: per visited tile, K/V staged in workgroup memory (the tiled variant); `flat`:
   * one flat loop over the visited tiles' keys (rowwise); `split`: the flat loop over this
   * invocation's share of the visits (split-K decode; expects `split` in scope and the
   * uniforms `splits` and `tilesPerSplit`).
   */
  readonly tiles: 'staged' | 'flat' | 'split';
  readonly codec: RowCodec;
  readonly bindings: SoftmaxBindings;
  readonly layout: TensorLayout;
  /** The kv heads of k and v and the kernel's among them (`keyHeadsOf`). */
  readonly keyHeads: KeyHeads;
  readonly width: 1 | 4;
  /** DW and DVW: the score and value loops' trip counts (short-loops.ts). */
  readonly vectors: number;
  readonly valueVectors: number;
  /**
   * `kvHead`: the invocation scores each key against all GROUP_SIZE query heads of its kv
   * head (split-K decode, decode-split-heads.ts: `qrows`, `ms`, `ls`, `accs`, with alibi
   * `slopes`, the staging rows `krow` and `vrow` in scope); one head (`qrow`, `m`, `l`,
   * `acc`) otherwise.
   */
  readonly heads?: 'one' | 'kvHead';
}

const ceilTiles = (x: Expr) => div(paren(sub(add(x, 'TK'), u32(1))), 'TK');

/** Visits the key tiles of the row's query tile; expects the row source and query row. */
export function keyWalk(b: BlockBuilder, w: KeyWalk): void {
  visitedTiles(b, w);
  if (w.tiles === 'staged') tiledKeyLoop(b, w);
  else flatKeyLoop(b, w);
}

/**
 * prefixTiles, bandFirst, bandEnd and visits: the tiles of [0, prefix) then of [lo, hi).
 * `firstInvocation`: more tile-level values invocation 0 writes (`staged` only).
 */
export function visitedTiles(
  b: BlockBuilder,
  w: Pick<KeyWalk, 'mask' | 'tiles'>,
  firstInvocation?: (b: BlockBuilder) => void,
): void {
  const visit = visitRange(w.mask);
  const NK = 'NK';
  const staged = w.tiles === 'staged';
  if (w.tiles === 'split') {
    b.comment('The row visits the key tiles of [0, prefix) and [lo, hi), as in the fused kernel;');
    b.comment('the splits cut that list of visits (not the whole key range, so a ring step of a');
    b.comment('long context costs its window), this invocation visits [first, end) of it, and the');
    b.comment('last split takes whatever a loose visit range left over.');
  } else
    b.comment('Visit only the key tiles of [0, prefix) and [lo, hi) (closed forms of the mask).');
  b.let(NK, construct(T.i32, uniform('seqK')));
  const prefixEnd = b.let('prefixEnd', min(visit.prefix ?? u32(0), uniform('seqK')));
  const clamped = (x: Expr) => construct(T.u32, call('clamp', x, i32(0), NK));
  const lo = b.let('lo', clamped(visit.lo));
  const hi = b.let('hi', clamped(visit.hi));
  if (staged) {
    b.if(eq('lid', u32(0)), (first) => {
      first.assign('wgFirst', ceilTiles(prefixEnd));
      first.assign('wgSecond', max('wgFirst', div(lo, 'TK')));
      first.assign('wgEnd', max('wgSecond', ceilTiles(hi)));
      firstInvocation?.(first);
    });
    b.let('prefixTiles', workgroupUniformLoad('wgFirst'));
    b.let('bandFirst', workgroupUniformLoad('wgSecond'));
    b.let('bandEnd', workgroupUniformLoad('wgEnd'));
  } else {
    b.let('prefixTiles', ceilTiles(prefixEnd));
    b.let('bandFirst', max('prefixTiles', div(lo, 'TK')));
    b.let('bandEnd', max('bandFirst', ceilTiles(hi)));
  }
  if (w.tiles === 'split') splitTiles(b);
  else b.let('visits', sub(add('prefixTiles', 'bandEnd'), 'bandFirst'));
}

/**
 * This invocation's share of the row's visits, [splitFirst, visits): the splits cut the list
 * of visited tiles (not the key range, so a ring step of a long context costs its window),
 * and the last split takes whatever a loose visit range left over.
 */
function splitTiles(b: BlockBuilder): void {
  const rowVisits = b.let('rowVisits', sub(add('prefixTiles', 'bandEnd'), 'bandFirst'));
  const first = b.let('splitFirst', min(mul('split', uniform('tilesPerSplit')), rowVisits));
  const end = b.let('splitEnd', min(add(first, uniform('tilesPerSplit')), rowVisits));
  const last = eq(add('split', u32(1)), uniform('splits'));
  b.let('visits', select(end, rowVisits, last));
}

/** The n-th visited tile: the prefix's tiles first, then the band's. */
const nthTile = (n: string) =>
  select(sub(add('bandFirst', n), 'prefixTiles'), n, lt(n, 'prefixTiles'));

const classify = (ja: Expr | string, jb: Expr) =>
  call('classify', 'kt', ja, jb, 'pa', 'pb', 'b', 'qt');
const allowed = call('allowed', 'p', 'j', 'b', 'segRow');

/** One key's score, online-softmax update and value product (j is the key index). */
function keyBody(b: BlockBuilder, w: KeyWalk): void {
  const kWalk = keyRowWalk(w.layout, w.keyHeads, 'DW', 'b');
  const vWalk = keyRowWalk(w.layout, w.keyHeads, 'DVW', 'b');
  const at = (name: string, row: Expr) => index(name, add(row, 'd'));
  if (w.tiles === 'staged') {
    const kRow = b.let('kRow', mul(paren(sub('j', 'ja')), 'DW'));
    const vRow = b.let('vRow', mul(paren(sub('j', 'ja')), 'DVW'));
    keyUpdate(b, update(w, at('kTile', kRow), at('vTile', vRow)));
  } else {
    const slot = b.let('slot', keySlot('j'));
    const kRow = b.let('kRow', kWalk.atSlot('kBase0', slot));
    const vRow = b.let('vRow', vWalk.atSlot('vBase0', slot));
    const load = (binding: string, row: Expr) => w.codec.load(at(binding, row));
    if (w.heads === 'kvHead') kvHeadKeyBody(b, w, kRow, vRow);
    else keyUpdate(b, update(w, load(w.bindings.k.name, kRow), load(w.bindings.v.name, vRow)));
  }
}

/**
 * The key against every query head of the kv head: its k and v rows are read from storage
 * once into `krow` and `vrow`, then each head's score and update reads them from there.
 */
function kvHeadKeyBody(b: BlockBuilder, w: KeyWalk, kRow: Expr, vRow: Expr): void {
  b.comment('One read of the key and value rows for all the query heads of this kv head.');
  const stageRow = (row: string, binding: string, at: Expr, count: string, trips: number) =>
    forShortLoops(b, count, trips, (body, d) =>
      body.assign(index(row, d), w.codec.load(index(binding, add(at, d)))),
    );
  stageRow('krow', w.bindings.k.name, kRow, 'DW', w.vectors);
  stageRow('vrow', w.bindings.v.name, vRow, 'DVW', w.valueVectors);
  b.for(
    'g',
    u32(0),
    (g) => lt(g, 'GROUP_SIZE'),
    (head, g) => {
      if (w.score.bias === 'alibi') head.let('slope', index('slopes', g));
      keyUpdate(head, {
        ...update(w, index('krow', 'd'), index('vrow', 'd')),
        query: (d) => index(index('qrows', g), d),
        state: { m: index('ms', g), l: index('ls', g), acc: (d) => index(index('accs', g), d) },
      });
    },
  );
}

function update(w: KeyWalk, kAt: Expr, vAt: Expr) {
  const dot = (a: Expr, c: Expr) => (w.width === 4 ? call('dot', a, c) : mul(a, c));
  const { score, modified, vectors, valueVectors } = w;
  return { score, modified, kAt, vAt, dot, vectors, valueVectors };
}

/** GPU-shaped: per visited tile, stage K/V once for the workgroup, then its keys. */
function tiledKeyLoop(b: BlockBuilder, w: KeyWalk): void {
  b.for(
    'n',
    u32(0),
    (n) => lt(n, 'visits'),
    (tile) => {
      const { ja, j1, c } = stagedTile(tile);
      tile.comment('Stage the K/V tile once for all the rows of the workgroup.');
      stage(tile, w, { tile: 'kTile', binding: w.bindings.k.name, width: 'DW', base: 'kBase0' });
      stage(tile, w, { tile: 'vTile', binding: w.bindings.v.name, width: 'DVW', base: 'vBase0' });
      tile.barrier();
      const keys = (masked: boolean) => (body: BlockBuilder) =>
        body.for(
          'j',
          ja,
          (j) => lt(j, j1),
          (key) => {
            if (masked) key.if(not(allowed), (t) => t.continue(), undefined, { oneLine: true });
            keyBody(key, w);
          },
        );
      tile.if(eq(c, u32(2)), keys(false), keys(true));
      tile.barrier();
    },
  );
}

/**
 * The n-th visited tile of a staged walk: its keys [ja, j1) (jb the last), its class `c`
 * (invocation 0 classifies, the workgroup reads it uniformly) and a skip when it is empty.
 */
export function stagedTile(tile: BlockBuilder): { ja: Expr; j1: Expr; c: Expr } {
  tile.let('kt', nthTile('n'));
  const ja = tile.let('ja', mul('kt', 'TK'));
  const j1 = tile.let('j1', min(add(ja, 'TK'), uniform('seqK')));
  const jb = tile.let('jb', sub(j1, u32(1)));
  tile.if(eq('lid', u32(0)), (t) => t.assign('wgClass', classify(ja, jb)), undefined, {
    oneLine: true,
  });
  const c = tile.let('c', workgroupUniformLoad('wgClass'));
  tile.if(eq(c, u32(0)), (t) => t.continue(), undefined, { oneLine: true });
  return { ja, j1, c };
}

/** One staged tile: `tile[x]` gets unit `x % width` of key row `ja + x / width`. */
export interface Staging {
  readonly tile: string;
  readonly binding: string;
  /** Units per row (a constant's name). */
  readonly width: string;
  /** The row walk's first row (`kBase0`). */
  readonly base: string;
  /** The workgroup size the loop strides by (TQ unless named). */
  readonly step?: string;
  /** Writes the loaded unit (the tile's element, unless the tile holds something else). */
  readonly write?: (b: BlockBuilder, x: Expr, unit: Expr) => void;
}

/** `tile[x] = row x / width, unit x % width` of the tile's keys, strided over the workgroup. */
export function stage(
  b: BlockBuilder,
  w: Pick<KeyWalk, 'layout' | 'keyHeads' | 'codec'>,
  s: Staging,
): void {
  const walk = keyRowWalk(w.layout, w.keyHeads, s.width, 'b');
  const write = s.write ?? ((body, x, unit) => body.assign(index(s.tile, x), unit));
  b.for(
    'x',
    'lid',
    (x) => lt(x, mul(paren(sub('j1', 'ja')), s.width)),
    (body, x) => {
      const element = add(walk.at(s.base, add('ja', div(x, s.width))), mod(x, s.width));
      write(body, x, w.codec.load(index(s.binding, element)));
    },
    { step: s.step ?? 'TQ' },
  );
}

/**
 * CPU-like adapters: one flat loop over keys that steps to the next visited tile when the
 * current one ends. A key loop nested in a tile loop measured ~10% slower on llvmpipe than
 * this single loop (bench/ dense N=4096), for the same keys visited.
 */
function flatKeyLoop(b: BlockBuilder, w: KeyWalk): void {
  const n = b.var('n', w.tiles === 'split' ? 'splitFirst' : u32(0));
  const j = b.var('j', u32(0));
  const tileEnd = b.var('tileEnd', u32(0));
  const masked = b.var('masked', bool(false));
  b.loop((body) => {
    body.if(ge(j, tileEnd), (next) => {
      next.if(ge(n, 'visits'), (t) => t.break(), undefined, { oneLine: true });
      next.let('kt', nthTile('n'));
      next.increment(n);
      next.assign(j, mul('kt', 'TK'));
      const j1 = next.let('j1', min(add(j, 'TK'), uniform('seqK')));
      const c = next.let('c', classify(j, sub(j1, u32(1))));
      next.comment('An empty tile ends where it starts, so the next pass steps on.');
      next.assign(tileEnd, select(j1, j, eq(c, u32(0))));
      next.assign(masked, eq(c, u32(1)));
      next.continue();
    });
    body.if(masked, (m) =>
      m.if(
        not(allowed),
        (skip) => {
          skip.increment(j);
          skip.continue();
        },
        undefined,
        { oneLine: true },
      ),
    );
    keyBody(body, w);
    body.increment(j);
  });
}

/**
 * The store of the row's LSE from the running max `m` and sum `l`, both in base 2 (scores are
 * multiplied by log2(e) before the online softmax): `ln sum exp(s) = (m + log2(l)) ln 2`; a
 * row with no allowed key gets -Infinity (the bits in P.lseEmpty: a WGSL constant may not be
 * infinite). Expects `b`, `h` and `i` in scope.
 */
export function lseStore(
  b: BlockBuilder,
  lse: LseOutput,
  row = 'i',
  m: Expr | string = 'm',
  l = 'l',
): void {
  const at = add(
    uniform('lseBase'),
    mul(paren(add(mul('b', 'TOTAL_HEADS'), 'h')), uniform('seqQ')),
    row,
  );
  const ln = mul(paren(add(m, call('log2', l))), f32(Math.LN2));
  b.store(lse.binding.name, at, select(f32OfBits(uniform('lseEmpty')), ln, gt(l, f32(0))));
}
