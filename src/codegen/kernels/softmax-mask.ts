// The mask's helper functions of the softmax kernels, as kernel IR: per `random` leaf a lookup
// in its key-block table (`randomHas<n>`, `randomClass<n>`), the segment tables (`segKey`,
// `segmentClass`), then `classify` (a key tile's class: 0 empty, 1 partial, 2 full) and
// `allowed` (one (p, j) pair), whose bodies are mask-exprs.ts's closed forms. The subgroup
// template renders these same functions; the routed kernel uses randomHas<n> and segKey.

import type { Mask } from '../../ir/ir.js';
import {
  add,
  and,
  block,
  bool,
  call,
  div,
  eq,
  ge,
  hexU32,
  index,
  le,
  lt,
  max,
  min,
  mul,
  not,
  or,
  paren,
  select,
  sub,
  T,
  u32,
  uniform,
  type BlockBuilder,
  type Operand,
} from '../../kernel/build.js';
import type { Expr, HelperFunction } from '../../kernel/ir.js';
import { keySlot } from '../../kernel/blocks/layout.js';
import { allowedExpr, classifyTile, type MaskCodegenContext } from './mask-exprs.js';

const u32Params = (...names: string[]) => names.map((name) => ({ name, type: T.u32 }));
/** `kt, pa, pb, b, qt`: what a tile's class may depend on besides its keys. */
const TILE_PARAMS = u32Params('pa', 'pb', 'b', 'qt');

/** Reads word `i` of the aux buffer (kernels declare it as u32s or as vec4s). */
export type AuxWord = (i: Expr) => Expr;

/** Reads word `i` of a `array<u32>` binding. */
export const auxWords =
  (binding: string): AuxWord =>
  (i) =>
    index(binding, i);

/** `randomHas<n>(p, j)`: whether key block `j / block` is drawn for query block `p / block`. */
export function randomHasFunction(n: number, blockSize: number, word: AuxWord): HelperFunction {
  const perBlock = uniform(`random${n}PerBlock`);
  return {
    name: `randomHas${n}`,
    params: u32Params('p', 'j'),
    returns: T.bool,
    doc: [`random leaf ${n}: table of P.random${n}PerBlock sorted key blocks per query block.`],
    body: block((b) => {
      const base = b.let(
        'base',
        add(uniform(`random${n}Base`), mul(paren(div('p', u32(blockSize))), perBlock)),
      );
      const kb = b.let('kb', div('j', u32(blockSize)));
      b.for(
        't',
        u32(0),
        (t) => lt(t, perBlock),
        (body, t) =>
          body.if(eq(word(add(base, t)), kb), (hit) => hit.return(bool(true)), undefined, {
            oneLine: true,
          }),
        { oneLine: true },
      );
      b.return(bool(false));
    }),
  };
}

/** `randomClass<n>(ja, jb, pa, pb)`: the class of a tile pair from the drawn blocks. */
function randomClassFunction(n: number, blockSize: number, word: AuxWord): HelperFunction {
  const blk = u32(blockSize);
  const perBlock = uniform(`random${n}PerBlock`);
  return {
    name: `randomClass${n}`,
    params: u32Params('ja', 'jb', 'pa', 'pb'),
    returns: T.u32,
    body: block((b) => {
      const ka = b.let('ka', div('ja', blk));
      const kz = b.let('kz', div('jb', blk));
      b.sameLine();
      const anyHit = b.var('anyHit', bool(false));
      const allHit = b.var('allHit', eq(ka, kz));
      b.for(
        'qb',
        div('pa', blk),
        (qb) => le(qb, div('pb', blk)),
        (tile, qb) => {
          const base = tile.let('base', add(uniform(`random${n}Base`), mul(qb, perBlock)));
          const hit = tile.var('hit', bool(false));
          tile.for(
            't',
            u32(0),
            (t) => lt(t, perBlock),
            (body, t) => {
              const e = body.let('e', word(add(base, t)));
              body.assign(hit, or(hit, and(ge(e, ka), le(e, kz))));
            },
            { oneLine: true },
          );
          tile.assign(anyHit, or(anyHit, hit));
          tile.assign(allHit, and(allHit, hit));
        },
      );
      b.return(select(select(u32(1), u32(2), allHit), u32(0), not(anyHit)));
    }),
  };
}

/**
 * `segKey(b, j)`: the segment id of key j, kept like its k and v row: `kvRows` per batch entry
 * and key j at `keySlot(j)` (kernel/blocks/layout.ts), so a KV cache ring reads it by slot;
 * a plain run has kvRows = seqK and keySlot(j) = j. The kernel declares KEY_SLOT_UNIFORMS.
 */
export function segmentKeyFunction(word: AuxWord): HelperFunction {
  return {
    name: 'segKey',
    params: u32Params('b', 'j'),
    returns: T.u32,
    oneLine: true,
    body: block((b) =>
      b.return(word(add(uniform('segKBase'), mul('b', uniform('kvRows')), keySlot('j')))),
    ),
  };
}

/**
 * `segmentClass(kt, pa, pb, b, qt)` from the per-tile [min, max] segment ids. `routed`: the
 * rows of a workgroup span the query tiles of [pa, pb] (head routing), whose ranges merge.
 */
function segmentClassFunction(word: AuxWord, routed: boolean): HelperFunction {
  const ranges = uniform('segRangesBase');
  const queryRange = (b: BlockBuilder, tile: Operand) =>
    b.let('qr', add(ranges, mul(paren(add(mul('b', uniform('qTiles')), tile)), u32(2))));
  const pair = (b: BlockBuilder, lo: string, hi: string, at: Expr) => {
    b.let(lo, word(at));
    b.let(hi, word(add(at, u32(1))));
    b.sameLine();
  };
  return {
    name: 'segmentClass',
    params: [{ name: 'kt', type: T.u32 }, ...TILE_PARAMS],
    returns: T.u32,
    doc: [
      'Per-tile [min, max] segment ids (filled by the segment-ranges kernel) decide whole tiles.',
    ],
    body: block((b) => {
      if (routed) mergedQueryRanges(b, queryRange, word);
      const qr = routed ? null : queryRange(b, 'qt');
      const keyTables = mul(uniform('batch'), uniform('qTiles'), u32(2));
      const kr = b.let(
        'kr',
        add(ranges, keyTables, mul(paren(add(mul('b', uniform('kTiles')), 'kt')), u32(2))),
      );
      if (qr) pair(b, 'qmin', 'qmax', qr);
      pair(b, 'kmin', 'kmax', kr);
      const ret = (value: number) => (r: BlockBuilder) => r.return(u32(value));
      b.if(or(lt('qmax', 'kmin'), lt('kmax', 'qmin')), ret(0), undefined, { oneLine: true });
      const one = and(eq('qmin', 'qmax'), eq('kmin', 'kmax'), eq('qmin', 'kmin'));
      b.if(one, ret(2), undefined, { oneLine: true });
      b.return(u32(1));
    }),
  };
}

function mergedQueryRanges(
  b: BlockBuilder,
  queryRange: (b: BlockBuilder, tile: Operand) => Expr,
  word: AuxWord,
): void {
  const offset = b.let('offset', sub(uniform('seqK'), uniform('seqQ')));
  const qmin = b.var('qmin', hexU32(0xffffffff));
  const qmax = b.var('qmax', u32(0));
  b.sameLine();
  const tileOf = (p: string) => div(paren(sub(p, offset)), 'TQ');
  b.for(
    't',
    tileOf('pa'),
    (t) => le(t, tileOf('pb')),
    (body, t) => {
      const qr = queryRange(body, t);
      body.assign(qmin, min(qmin, word(qr)));
      body.assign(qmax, max(qmax, word(add(qr, u32(1)))));
      body.sameLine();
    },
  );
}

/** `classify(kt, ja, jb, pa, pb, b, qt)`: 0 empty (skip), 1 partial, 2 full (no mask). */
function classifyFunction(mask: Mask, context: MaskCodegenContext): HelperFunction {
  return {
    name: 'classify',
    params: [...u32Params('kt', 'ja', 'jb'), ...TILE_PARAMS],
    returns: T.u32,
    doc: ['0: empty (skip), 1: partial (mask per element), 2: full (no mask).'],
    body: block((b) => {
      b.let('NK', call('i32', uniform('seqK')));
      b.return(classifyTile(mask, context));
    }),
  };
}

/** `allowed(p, j, b, segRow)`: the mask of one element of a partial tile. */
function allowedFunction(mask: Mask, context: MaskCodegenContext): HelperFunction {
  return {
    name: 'allowed',
    params: u32Params('p', 'j', 'b', 'segRow'),
    returns: T.bool,
    body: block((b) => b.return(allowedExpr(mask, context))),
  };
}

export interface MaskHelpers {
  readonly mask: Mask;
  readonly context: MaskCodegenContext;
  /** Block size of each random leaf, in leaf order. */
  readonly randomBlocks: readonly number[];
  readonly segment: boolean;
  /** Head routing: a workgroup's rows span several query tiles. */
  readonly routed: boolean;
  readonly word: AuxWord;
}

/**
 * The mask's helpers in paragraphs (a blank line between paragraphs): the segment tables,
 * each random leaf's pair, `classify`, `allowed`.
 */
export function maskHelperParagraphs(m: MaskHelpers): HelperFunction[][] {
  return [
    ...(m.segment ? [[segmentKeyFunction(m.word)], [segmentClassFunction(m.word, m.routed)]] : []),
    ...m.randomBlocks.map((size, n) => [
      randomHasFunction(n, size, m.word),
      randomClassFunction(n, size, m.word),
    ]),
    [classifyFunction(m.mask, m.context)],
    [allowedFunction(m.mask, m.context)],
  ];
}
