// The routed mask leaves (topk, cluster, lsh) of the routed softmax kernel, as kernel IR: per
// leaf what the row decides before its keys (topk: its k best candidate blocks from the key
// blocks' means; cluster/lsh: its bucket), the test whether key j is one of the leaf's keys,
// and the walk over the leaf's candidate keys, clipped to [clipLo, clipHi). A topk with k up
// to TOPK_SORTED_MAX keeps its choice in a sorted private array; a larger one finds the k-th
// best score by a bitwise search over the candidates (key-source.ts says why).

import type { MaskLeaf, Routing } from '../../ir/ir.js';
import {
  add,
  and,
  binary,
  block,
  bool,
  call,
  div,
  eq,
  f32,
  ge,
  gt,
  hexU32,
  index,
  int,
  le,
  lt,
  max,
  min,
  mod,
  mul,
  ne,
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
import { bitsOfF32, f32OfBits } from '../../kernel/blocks/row-codec.js';
import type { Expr, HelperFunction, Type } from '../../kernel/ir.js';
import { TOPK_SORTED_MAX } from '../routing/key-source.js';
import { bucketOfRow } from './route-tables.js';
import { keySlot } from '../../kernel/blocks/layout.js';

type RoutedLeaf = Extract<MaskLeaf, { kind: 'routed' }>;

/** One routed leaf's part of the kernel. */
export interface RoutedLeafCode {
  readonly helpers: readonly HelperFunction[];
  /** The row's decision; expects the unscaled `qrow`, `b`, `hkl`, `hk` and `p`. */
  readonly decide: (b: BlockBuilder) => void;
  /** Whether key `j` is one of the leaf's keys for this row. */
  readonly has: (j: Expr) => Expr;
  /** Runs `key` on each of the leaf's keys `j` within [clipLo, clipHi). */
  readonly walk: (b: BlockBuilder, key: (body: BlockBuilder) => void) => void;
}

export interface RoutedShape {
  readonly width: 1 | 4;
  /** The aux binding, read as `vec4<u32>` words (`auxAt(i)` reads one u32). */
  readonly aux: string;
  /** Centroids per kv head of the attention's cluster leaves (route-kernels.ts). */
  readonly centroids: number;
}

const auxAt = (i: Operand) => call('auxAt', i);
const NONE = 'NONE';

export function routedLeafCode(leaf: RoutedLeaf, n: number, shape: RoutedShape): RoutedLeafCode {
  const r = leaf.routing;
  if (r.kind !== 'topk') return bucketLeaf(r, n, shape);
  return r.k > TOPK_SORTED_MAX ? topkThresholdLeaf(r, n, shape) : topkSortedLeaf(r, n, shape);
}

/** The query row's type: `array<vec4<f32>, DW>` or `array<f32, DW>`. */
export function queryType(width: 1 | 4): Type {
  return T.array(width === 4 ? T.vec(4, 'f32') : T.f32, 'DW');
}

/** `s += q . mean` over the block mean at word `mb` of aux (f32 bits). */
function meanScore(b: BlockBuilder, q: string, mb: Operand, shape: RoutedShape): Expr {
  const s = b.var('s', f32(0));
  if (shape.width === 4) {
    const mean = (d: Expr) =>
      call('bitcast<vec4<f32>>', index(shape.aux, add(paren(binary('>>', mb, u32(2))), d)));
    b.range('d', 'DW', (body, d) => body.compound(s, '+=', call('dot', index(q, d), mean(d))), {
      oneLine: true,
    });
  } else
    b.range(
      'd',
      'D',
      (body, d) => body.compound(s, '+=', mul(index(q, d), f32OfBits(auxAt(add(mb, d))))),
      { oneLine: true },
    );
  return s;
}

/** The candidate blocks: those before the own block (causal) or every block. */
function candidates(b: BlockBuilder, r: Routing & { kind: 'topk' }, n: number): Expr {
  const own = b.let(`own${n}`, div('p', u32(r.block)));
  b.comment(r.causal ? 'Causal: the blocks before the own block.' : 'Every other block.');
  return b.let(`cands${n}`, r.causal ? own : uniform(`r${n}Blocks`));
}

/** The keys of the blocks `blk` names, clipped: `for (j = ja; j < j1; j++)`. */
function blockKeys(b: BlockBuilder, blk: Expr, size: number, key: (body: BlockBuilder) => void) {
  const ja = b.let('ja', max(mul(blk, u32(size)), 'clipLo'));
  const j1 = b.let('j1', min(min(add(mul(blk, u32(size)), u32(size)), uniform('seqK')), 'clipHi'));
  b.for(
    'j',
    ja,
    (j) => lt(j, j1),
    (body) => key(body),
  );
}

/** topk, k <= TOPK_SORTED_MAX: the k best blocks, sorted, in `sel<n>` (NONE where fewer). */
function topkSortedLeaf(r: Routing & { kind: 'topk' }, n: number, shape: RoutedShape) {
  const K = r.k;
  const sel = `sel${n}`;
  const sco = `sco${n}`;
  const decide = (b: BlockBuilder) => {
    b.var(sel, undefined, T.array(T.u32, int(K)));
    b.var(sco, undefined, T.array(T.f32, int(K)));
    b.range(
      'x',
      u32(K),
      (body, x) => {
        body.assign(index(sel, x), NONE);
        body.assign(index(sco, x), f32(0));
      },
      { oneLine: true },
    );
    const cands = candidates(b, r, n);
    b.for(
      't',
      u32(0),
      (t) => lt(t, cands),
      (body, t) => {
        body.if(eq(t, `own${n}`), (c) => c.continue(), undefined, { oneLine: true });
        const blocks = uniform(`r${n}Blocks`);
        const row = add(mul(paren(add(mul('b', 'HKVG'), 'hkl')), blocks), t);
        const mb = body.let('mb', add(uniform(`r${n}Means`), mul(paren(row), 'D')));
        const s = meanScore(body, 'qrow', mb, shape);
        insertSorted(body, sel, sco, K, s, t);
      },
    );
  };
  const blockOf = (j: Expr) => paren(div(j, u32(r.block)));
  return {
    helpers: [],
    decide,
    has: (j: Expr) =>
      paren(
        or(
          eq(blockOf(j), `own${n}`),
          ...Array.from({ length: K }, (_, x) => eq(blockOf(j), index(sel, u32(x)))),
        ),
      ),
    walk: (b: BlockBuilder, key: (body: BlockBuilder) => void) =>
      b.for(
        'x',
        u32(0),
        (x) => le(x, u32(K)),
        (body, x) => {
          const previous = index(sel, sub(max(x, u32(1)), u32(1)));
          const blk = body.let('blk', select(previous, `own${n}`, eq(x, u32(0))));
          body.if(eq(blk, NONE), (c) => c.continue(), undefined, { oneLine: true });
          blockKeys(body, blk, r.block, key);
        },
      ),
  };
}

/** Inserts block `t` of score `s` into the sorted arrays; ties keep the lower block. */
function insertSorted(b: BlockBuilder, sel: string, sco: string, K: number, s: Expr, t: Expr) {
  b.comment('Strictly greater: ties keep the lower block, as the reference.');
  const pos = b.var('pos', u32(K));
  const above = sub(pos, u32(1));
  b.while(
    and(gt(pos, u32(0)), paren(or(eq(index(sel, above), NONE), gt(s, index(sco, above))))),
    (body) => body.decrement(pos),
  );
  b.if(lt(pos, u32(K)), (then) => {
    then.for(
      'x',
      u32(K - 1),
      (x) => gt(x, pos),
      (body, x) => {
        body.assign(index(sel, x), index(sel, sub(x, u32(1))));
        body.assign(index(sco, x), index(sco, sub(x, u32(1))));
      },
      { down: true },
    );
    then.assign(index(sel, pos), t);
    then.assign(index(sco, pos), s);
  });
}

/** topk, k > TOPK_SORTED_MAX: the k-th best key `thr<n>` and the tie cut `cut<n>`. */
function topkThresholdLeaf(r: Routing & { kind: 'topk' }, n: number, shape: RoutedShape) {
  const key = `topkKey${n}`;
  const pick = `topkPick${n}`;
  const args = (t: Operand) => [`qraw${n}`, `means${n}`, t, `own${n}`, `cands${n}`];
  return {
    helpers: [topkKeyFunction(key, shape), topkPickFunction(pick, key, shape)],
    decide: (b: BlockBuilder) => topkThreshold(b, r, n, key),
    has: (j: Expr) => call(pick, ...args(div(j, u32(r.block))), `thr${n}`, `cut${n}`),
    walk: (b: BlockBuilder, keyBody: (body: BlockBuilder) => void) => {
      const B = u32(r.block);
      const end = b.let(
        `tEnd${n}`,
        min(uniform(`r${n}Blocks`), div(paren(sub(add('clipHi', B), u32(1))), B)),
      );
      b.for(
        't',
        div('clipLo', B),
        (t) => lt(t, end),
        (body, t) => {
          const picked = call(pick, ...args(t), `thr${n}`, `cut${n}`);
          body.if(not(picked), (c) => c.continue(), undefined, { oneLine: true });
          blockKeys(body, t, r.block, keyBody);
        },
      );
    },
  };
}

/** `topkKey<n>(q, mb)`: a block's score as a u32 ordered like the f32 (-0 as +0). */
function topkKeyFunction(name: string, shape: RoutedShape): HelperFunction {
  return {
    name,
    params: [
      { name: 'q', type: queryType(shape.width) },
      { name: 'mb', type: T.u32 },
    ],
    returns: T.u32,
    doc: ["A candidate block's score as a u32 ordered like the f32 (-0 as +0)."],
    body: block((b) => {
      const s = meanScore(b, 'q', 'mb', shape);
      const u = b.let('u', bitsOfF32(select(s, f32(0), eq(s, f32(0)))));
      const sign = hexU32(0x80000000);
      const flipped: Expr = { kind: 'unary', op: '~', operand: u };
      b.return(select(binary('|', u, sign), flipped, ne(paren(binary('&', u, sign)), u32(0))));
    }),
  };
}

/** `topkPick<n>(q, means, t, own, cands, thr, cut)`: whether block t is kept. */
function topkPickFunction(name: string, key: string, shape: RoutedShape): HelperFunction {
  const u32Params = ['means', 't', 'own', 'cands', 'thr', 'cut'];
  return {
    name,
    params: [
      { name: 'q', type: queryType(shape.width) },
      ...u32Params.map((p) => ({ name: p, type: T.u32 })),
    ],
    returns: T.bool,
    doc: [
      'Block t is the own block, or among the k best: above the k-th key, or tied with it',
      'and below the cut (ties keep the lower blocks, as the reference).',
    ],
    body: block((b) => {
      b.if(eq('t', 'own'), (c) => c.return(bool(true)), undefined, { oneLine: true });
      b.if(ge('t', 'cands'), (c) => c.return(bool(false)), undefined, { oneLine: true });
      const k = b.let('key', call(key, 'q', add('means', mul('t', 'D'))));
      b.return(or(gt(k, 'thr'), paren(and(eq(k, 'thr'), lt('t', 'cut')))));
    }),
  };
}

/**
 * The row's choice for a topk leaf with k > TOPK_SORTED_MAX, as (thr, cut): the k-th best
 * candidate key (the largest T with at least k keys >= T, found bit by bit) and the block
 * after the last tie kept. With k at least the candidates, every candidate is kept.
 */
function topkThreshold(b: BlockBuilder, r: Routing & { kind: 'topk' }, n: number, key: string) {
  const K = u32(r.k);
  const own = `own${n}`;
  const cands = candidates(b, r, n);
  const blocks = uniform(`r${n}Blocks`);
  const means = b.let(
    `means${n}`,
    add(uniform(`r${n}Means`), mul(paren(add(mul('b', 'HKVG'), 'hkl')), blocks, 'D')),
  );
  b.comment('Routing reads the unscaled query.');
  b.var(`qraw${n}`, 'qrow');
  const others = b.let(`others${n}`, sub(cands, select(u32(0), u32(1), lt(own, cands))));
  const thr = b.var(`thr${n}`, u32(0));
  const cut = b.var(`cut${n}`, NONE);
  const keyOf = (t: Expr) => call(key, `qraw${n}`, add(means, mul(t, 'D')));
  const overCandidates = (
    body: BlockBuilder,
    run: (b: BlockBuilder, t: Expr) => void,
    more?: Expr,
  ) => body.for('t', u32(0), (t) => (more ? and(lt(t, cands), more) : lt(t, cands)), run);
  b.if(lt(K, others), (search) => {
    search.for(
      'bit',
      u32(32),
      (bit) => gt(bit, u32(0)),
      (bits, bit) => {
        const c = bits.let(
          'c',
          binary('|', thr, paren(binary('<<', u32(1), paren(sub(bit, u32(1)))))),
        );
        const count = bits.var('count', u32(0));
        overCandidates(
          bits,
          (body, t) =>
            body.if(and(ne(t, own), ge(keyOf(t), c)), (x) => x.increment(count), undefined, {
              oneLine: true,
            }),
          lt(count, K),
        );
        bits.if(ge(count, K), (x) => x.assign(thr, c), undefined, { oneLine: true });
      },
      { down: true },
    );
    const kept = search.var('kept', u32(0));
    overCandidates(search, (body, t) =>
      body.if(and(ne(t, own), gt(keyOf(t), thr)), (x) => x.increment(kept), undefined, {
        oneLine: true,
      }),
    );
    overCandidates(
      search,
      (body, t) =>
        body.if(and(ne(t, own), eq(keyOf(t), thr)), (x) => {
          x.increment(kept);
          x.assign(cut, add(t, u32(1)));
        }),
      lt(kept, K),
    );
  });
}

/** cluster or lsh: the row's bucket and the sorted key list of that bucket. */
function bucketLeaf(r: Routing, n: number, shape: RoutedShape): RoutedLeafCode {
  const buckets = r.kind === 'cluster' ? r.count : r.kind === 'lsh' ? r.buckets : 0;
  const name = `routedBucket${n}`;
  const kvRow = paren(add(mul('b', 'HKVG'), 'hkl'));
  const decide = (b: BlockBuilder) => {
    const qb = b.let(`qb${n}`, call(name, 'qrow', 'hk'));
    // Ids kept like k and v: kvRows per kv head, key j's at keySlot(j) (route-kernels.ts).
    b.let(`kb${n}`, add(uniform(`r${n}Buckets`), mul(kvRow, uniform('kvRows'))));
    const rg = b.let(
      `rg${n}`,
      add(uniform(`r${n}Ranges`), mul(paren(add(mul(kvRow, u32(buckets)), qb)), u32(2))),
    );
    const first = b.let(`first${n}`, auxAt(rg));
    b.let(`end${n}`, add(first, auxAt(add(rg, u32(1)))));
  };
  const walk = (b: BlockBuilder, key: (body: BlockBuilder) => void) =>
    b.for(
      'e',
      `first${n}`,
      (e) => lt(e, `end${n}`),
      (body, e) => {
        const j = body.let('j', auxAt(e));
        body.comment('Lists are sorted by position.');
        body.if(ge(j, 'clipHi'), (x) => x.break(), undefined, { oneLine: true });
        body.if(lt(j, 'clipLo'), (x) => x.continue(), undefined, { oneLine: true });
        key(body);
      },
    );
  return {
    helpers: [bucketFunction(r, n, name, shape)],
    decide,
    has: (j) => paren(eq(auxAt(add(`kb${n}`, keySlot(j))), `qb${n}`)),
    walk,
  };
}

/** `routedBucket<n>(q, hk)`: the row's bucket, the key kernels' choice (route-tables.ts). */
function bucketFunction(r: Routing, n: number, name: string, shape: RoutedShape): HelperFunction {
  const scalar = (d: Expr) =>
    shape.width === 4 ? index(index('q', div(d, u32(4))), mod(d, u32(4))) : index('q', d);
  return {
    name,
    params: [
      { name: 'q', type: queryType(shape.width) },
      { name: 'hk', type: T.u32 },
    ],
    returns: T.u32,
    body: block((b) => {
      bucketOfRow(
        b,
        r,
        scalar,
        (t) => add(uniform(`r${n}Mu`), mul(paren(add(mul('hk', u32(shape.centroids)), t)), 'D')),
        uniform(`r${n}R`),
        auxAt,
      );
      b.return('bucket');
    }),
  };
}
