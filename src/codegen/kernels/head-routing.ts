// The three kernels of mixture of heads (emit-head-routing.ts lays out their tables in `aux`
// and sizes the chunks): select (top-k heads per row and their weights), scan (list offsets
// and each group's running tile totals) and scatter (kept rows into their lists, zeros into
// `o` for dropped pairs), built on the kernel IR. f32 values live in `aux` as their bits.

import type { Attention, Group } from '../../ir/ir.js';
import type { SizeExpr } from '../plan.js';
import { arrayView, type ArrayView } from '../../kernel/blocks/array-view.js';
import { rowIndex } from '../../kernel/blocks/layout.js';
import { bitsOfF32, f32OfBits } from '../../kernel/blocks/row-codec.js';
import {
  add,
  and,
  bool,
  call,
  div,
  eq,
  f32,
  gt,
  index,
  KernelBuilder,
  lt,
  min,
  mod,
  mul,
  not,
  or,
  sub,
  T,
  u32,
  uniform,
  type BlockBuilder,
} from '../../kernel/build.js';
import type { Expr, Kernel, BufferSlot } from '../../kernel/ir.js';

export const HEAD_ROUTING_WORKGROUP = 64;

/** What the three kernels share: the attention, its top(k), the chunk and the tables. */
export interface HeadRoutingShape {
  readonly attention: Attention;
  readonly k: number;
  readonly chunk: number;
  /** Params fields (name, host value) every kernel declares, in order. */
  readonly uniforms: readonly { readonly name: string; readonly value: SizeExpr }[];
  readonly aux: BufferSlot;
}

/** Header, constants H, K, CHUNK, the shared Params and `aux`. */
function headRoutingKernel(shape: HeadRoutingShape, title: string): KernelBuilder {
  const { attention, k: K, chunk } = shape;
  const k = new KernelBuilder(HEAD_ROUTING_WORKGROUP);
  k.header(
    `attnc head routing (${title}): attention ${attention.name}, top(${K}) of ${attention.heads} heads`,
  );
  k.const('H', T.u32, u32(attention.heads));
  k.const('K', T.u32, u32(K));
  k.const('CHUNK', T.u32, u32(chunk));
  shape.uniforms.forEach((u) => k.uniform(u.name, u.value));
  k.storage(shape.aux.binding, shape.aux.name, 'read_write', T.u32);
  return k;
}

/** One invocation per (b, chunk of CHUNK rows): b, c and the chunk's row range. */
function overChunkRows(
  k: KernelBuilder,
  body: (b: BlockBuilder, at: { batch: Expr; chunk: Expr; rows: RowLoop }) => void,
): void {
  const x = k.gridIndex('invocation', 'x', 'total');
  k.main((b) => {
    const batch = b.let('b', div(x, uniform('chunks')));
    const chunk = b.let('c', mod(x, uniform('chunks')));
    const start = mul(chunk, 'CHUNK');
    const rowEnd = b.let('rowEnd', min(add(start, 'CHUNK'), uniform('seqQ')));
    const rows: RowLoop = (outer, rowBody) => outer.for('i', start, (i) => lt(i, rowEnd), rowBody);
    body(b, { batch, chunk, rows });
  });
}

type RowLoop = (b: BlockBuilder, body: (inner: BlockBuilder, i: Expr) => void) => void;

/** `for (var h = 0u; h < H; h++) { body }`, on one line or as a block. */
function overHeads(b: BlockBuilder, body: (inner: BlockBuilder, h: Expr) => void, oneLine = false) {
  b.for('h', u32(0), (h) => lt(h, 'H'), body, { oneLine });
}
const overHeadsOneLine = (b: BlockBuilder, body: (inner: BlockBuilder, h: Expr) => void) =>
  overHeads(b, body, true);

/** Word `h` of chunk `chunk`'s row of the `[B, chunks, H]` chunk counts. */
const chunkCountTerms = (batch: Expr, chunk: Expr, h: Expr) => [
  mul(add(mul(batch, uniform('chunks')), chunk), 'H'),
  h,
];
const chunkCountAt = (view: ArrayView, batch: Expr, chunk: Expr, h: Expr) =>
  view.at(...chunkCountTerms(batch, chunk, h));

/** select: top-k per row, the softmax weights of the kept logits, kept rows per chunk. */
export function headRoutingSelectKernel(shape: HeadRoutingShape, loopIterations: SizeExpr): Kernel {
  const k = headRoutingKernel(shape, 'select');
  const A = shape.aux.name;
  overChunkRows(k, (b, { batch, chunk, rows }) => {
    const kept = b.var('kept', undefined, T.array(T.u32, 'H'));
    overHeadsOneLine(b, (body, h) => body.assign(index(kept, h), u32(0)));
    rows(b, (row, i) => {
      const at = row.let('at', mul(add(mul(batch, uniform('seqQ')), i), 'H'));
      const w = chooseTopK(row, at, arrayView(A, 'routerBase'));
      overHeads(row, (body, h) => {
        const weight = body.let('weight', div(index(w, h), 'sum'));
        arrayView(A, 'weightsBase').store(body, [at, h], bitsOfF32(weight));
        body.if(
          gt(weight, f32(0)),
          (then) => then.compound(index(kept, h), '+=', u32(1)),
          undefined,
          { oneLine: true },
        );
      });
    });
    overHeadsOneLine(b, (body, h) =>
      arrayView(A, 'chunkCountsBase').store(body, chunkCountTerms(batch, chunk, h), index(kept, h)),
    );
  });
  return k.loopIterations(loopIterations).build();
}

/**
 * k rounds of "highest logit not taken yet" over the row's logits at `at`; strict > keeps
 * ties on the lower head. Leaves `w` (exp(logit - top) of the kept heads, 0 elsewhere) and
 * `sum` in scope.
 */
function chooseTopK(b: BlockBuilder, at: Expr, router: ArrayView): Expr {
  const taken = b.var('taken', undefined, T.array(T.bool, 'H'));
  const w = b.var('w', undefined, T.array(T.f32, 'H'));
  overHeadsOneLine(b, (body, h) => {
    body.assign(index(taken, h), bool(false));
    body.assign(index(w, h), f32(0));
  });
  const top = b.var('top', f32(0));
  const sum = b.var('sum', f32(0));
  b.comment('k rounds of "highest logit not taken yet"; strict > keeps ties on the lower head.');
  b.for(
    'r',
    u32(0),
    (r) => lt(r, 'K'),
    (round, r) => {
      const best = round.var('best', 'H');
      const bestLogit = round.var('bestLogit', f32(0));
      overHeads(round, (body, h) => {
        const logit = body.let('logit', f32OfBits(router.at(at, h)));
        body.if(and(not(index(taken, h)), or(eq(best, 'H'), gt(logit, bestLogit))), (then) => {
          then.assign(best, h);
          then.assign(bestLogit, logit);
        });
      });
      round.assign(index(taken, best), bool(true));
      round.if(eq(r, u32(0)), (then) => then.assign(top, bestLogit), undefined, {
        oneLine: true,
      });
      const e = round.let('e', call('exp', sub(bestLogit, top)));
      round.assign(index(w, best), e);
      round.compound(sum, '+=', e);
    },
  );
  return w;
}

/**
 * scan, one workgroup: per (b, h) the exclusive prefix of the chunk counts (in place) and the
 * kept count; then one invocation totals the tiles of each group's lists in (b, local head)
 * order, the order the per-query kernels search.
 */
export function headRoutingScanKernel(
  shape: HeadRoutingShape,
  queryTile: (group: Group) => number,
  loopIterations: SizeExpr,
): Kernel {
  const k = headRoutingKernel(shape, 'scan');
  const A = shape.aux.name;
  k.singleWorkgroup();
  k.main((b) => {
    b.for(
      'e',
      'lid',
      (e) => lt(e, mul(uniform('batch'), 'H')),
      (pair, e) => {
        const batch = pair.let('b', div(e, 'H'));
        const h = pair.let('h', mod(e, 'H'));
        const running = pair.var('running', u32(0));
        pair.for(
          'c',
          u32(0),
          (c) => lt(c, uniform('chunks')),
          (body, c) => {
            const at = body.let(
              'at',
              add(uniform('chunkCountsBase'), ...chunkCountTerms(batch, c, h)),
            );
            const n = body.let('n', index(A, at));
            body.store(A, at, running);
            body.compound(running, '+=', n);
          },
        );
        arrayView(A, 'countsBase').store(pair, [e], running);
      },
      { step: u32(HEAD_ROUTING_WORKGROUP) },
    );
    b.barrier('storage');
    b.if(eq('lid', u32(0)), (first) => {
      const tiles = first.var('tiles', u32(0));
      for (const group of shape.attention.groups)
        groupTileTotals(first, tiles, group, queryTile(group), A);
    });
  });
  return k.loopIterations(loopIterations).build();
}

/** Running total of query tiles over the group's lists, (b, local head) order. */
function groupTileTotals(b: BlockBuilder, tiles: Expr, g: Group, tile: number, A: string) {
  b.comment(
    `group ${g.name}: heads [${g.headOffset}, ${g.headOffset + g.heads}), query tile ${tile}`,
  );
  b.assign(tiles, u32(0));
  b.for(
    'b',
    u32(0),
    (batch) => lt(batch, uniform('batch')),
    (outer, batch) =>
      outer.for(
        'hl',
        u32(0),
        (hl) => lt(hl, u32(g.heads)),
        (body, hl) => {
          const kept = body.let(
            'kept',
            arrayView(A, 'countsBase').at(mul(batch, 'H'), u32(g.headOffset), hl),
          );
          body.compound(tiles, '+=', div(sub(add(kept, u32(tile)), u32(1)), u32(tile)));
          arrayView(A, 'tileEndBase').store(
            body,
            [mul(uniform('batch'), u32(g.headOffset)), mul(batch, u32(g.heads)), hl],
            tiles,
          );
        },
      ),
  );
}

/** scatter: kept rows into their list slots, zeros into `o` for every dropped pair. */
export function headRoutingScatterKernel(
  shape: HeadRoutingShape,
  o: BufferSlot,
  oBase: SizeExpr,
  rowWords: number,
  loopIterations: SizeExpr,
): Kernel {
  const k = headRoutingKernel(shape, 'scatter');
  const A = shape.aux.name;
  k.uniform('oBase', oBase);
  k.storage(o.binding, o.name, 'read_write', T.u32);
  k.consts([{ name: 'OW', type: T.u32, value: u32(rowWords), beforeMain: true }]);
  overChunkRows(k, (b, { batch, chunk, rows }) => {
    const next = b.var('next', undefined, T.array(T.u32, 'H'));
    overHeadsOneLine(b, (body, h) =>
      body.assign(index(next, h), chunkCountAt(arrayView(A, 'chunkCountsBase'), batch, chunk, h)),
    );
    rows(b, (row, i) =>
      overHeads(row, (body, h) => {
        const at = mul(add(mul(batch, uniform('seqQ')), i), 'H');
        const weight = body.let('weight', f32OfBits(arrayView(A, 'weightsBase').at(at, h)));
        body.if(
          gt(weight, f32(0)),
          (kept) => {
            const slot = mul(add(mul(batch, 'H'), h), uniform('seqQ'));
            arrayView(A, 'rowsBase').store(kept, [slot, index(next, h)], i);
            kept.compound(index(next, h), '+=', u32(1));
          },
          (dropped) => {
            dropped.comment('A dropped (row, head) pair is never computed: its output is 0.');
            const layout = shape.attention.layout;
            const oRow = dropped.let(
              'oRow',
              add(uniform('oBase'), rowIndex(layout, 'H', uniform('seqQ'), 'OW', batch, h, i)),
            );
            dropped.for(
              'd',
              u32(0),
              (d) => lt(d, 'OW'),
              (zero, d) => zero.store(o.name, add(oRow, d), u32(0)),
              { oneLine: true },
            );
          },
        );
      }),
    );
  });
  return k.loopIterations(loopIterations).build();
}
