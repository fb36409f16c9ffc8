// Linformer's projection kernels. `K' = E K`, `V' = F V` per (batch, kv head) with the run-time
// `E`, `F` `[Hkv, r, max_seq]`. The projection is split over chunks of keys: invocation
// (b, kv head, chunk, t) sums `E[t, n] k_n` and `F[t, n] v_n` over its chunk, holding the two
// projected rows in registers, so K and V are each read once per chunk by the workgroup
// (every invocation of it loads the same key row) and E, F once in all. A second kernel sums
// the chunk partials in chunk order (deterministic, no atomics) into `[B, Hkv, r, D + Dv]`.
// Under dtype f16 only K and V are halves (unpacked on load); E, F and the partials are f32.
// Both carry their loop-iteration bound for llvmpipe's budget (docs/runtime.md): the
// projection walks one chunk of keys (its per-key row loops in short loops that Mesa unrolls),
// the sum walks the chunks.
// A KV cache (src/runtime/cache/projected-rows.ts) runs the same two kernels per appended
// chunk: the projection reads its E, F columns from the cache's count of keys appended before
// the chunk (`cachedCount`), and the sum adds the chunk's K', V' to the rows kept so far
// (`into`). `projectedRowsAttend` is the attend both the plan and the cache run over K', V'.

import { rowStart, type TensorLayout } from '../../kernel/blocks/layout.js';
import {
  add,
  construct,
  div,
  f32,
  ge,
  index,
  lt,
  min,
  mod,
  mul,
  paren,
  T,
  u32,
  uniform,
  type BlockBuilder,
} from '../../kernel/build.js';
import { forShortLoops } from '../../kernel/blocks/short-loops.js';
import type { Expr, Kernel } from '../../kernel/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import { constantLoopCost, loopCost } from '../wgsl/loop-budget.js';
import {
  type ArrayPlace,
  bufferView,
  declareBuffers,
  type GroupShape,
  type KernelBuffer,
  lowRankKernel,
  LOWRANK_WORKGROUP,
  tensorUnitWords,
} from './lowrank-blocks.js';
import type { SmallAttentionSpec } from './lowrank-attend.js';

export interface ProjectionArrays {
  readonly k: ArrayPlace;
  readonly v: ArrayPlace;
  readonly e: ArrayPlace;
  readonly f: ArrayPlace;
  readonly partial: ArrayPlace;
}

const zeroOf = (shape: GroupShape): Expr =>
  shape.width === 4 ? construct(T.vec(4, 'f32'), f32(0)) : f32(0);

export interface ProjectOptions {
  /**
   * The KV cache's append: word 0 of E's buffer holds (as an f32 value, exact below 2^24) the
   * count of keys appended before this chunk, whose key n sits at column count + n of E and F.
   */
  readonly cachedCount?: boolean;
}

export function linformerProjectKernel(
  shape: GroupShape,
  layout: TensorLayout,
  rank: number,
  chunk: number,
  maxSeq: number,
  buffers: readonly KernelBuffer[],
  arrays: ProjectionArrays,
  options: ProjectOptions = {},
): Kernel {
  const W = shape.width;
  const chunks: SizeExpr = { op: 'ceilDiv', args: ['seqK', chunk] };
  const rowTiles = Math.ceil(rank / LOWRANK_WORKGROUP);
  const tensorUnit = tensorUnitWords(shape);
  const { k, main, build } = lowRankKernel(
    'linformer projection, one key chunk',
    shape,
    { op: 'mul', args: ['batch', shape.kvHeads, chunks, rowTiles] },
    { name: 'tiles', value: { op: 'mul', args: [chunks, rowTiles] } },
  );
  k.uniform('chunks', chunks);
  k.uniform('seqK', 'seqK');
  k.uniform('kBase', { op: 'ceilDiv', args: [arrays.k.base, tensorUnit] });
  k.uniform('vBase', { op: 'ceilDiv', args: [arrays.v.base, tensorUnit] });
  k.uniform('eBase', arrays.e.base);
  k.uniform('fBase', arrays.f.base);
  k.uniform('partialBase', { op: 'ceilDiv', args: [arrays.partial.base, W] });
  declareBuffers(k, buffers);
  for (const [name, value] of [
    ['RANK', rank],
    ['CHUNK', chunk],
    ['MAX_SEQ', maxSeq],
    ['ROW_TILES', rowTiles],
  ] as const)
    k.constBeforeMain(name, T.u32, u32(value));
  const kView = bufferView(buffers, arrays.k.buffer);
  const vView = bufferView(buffers, arrays.v.buffer);
  const vec = W === 4 ? T.vec(4, 'f32') : T.f32;
  main((b, { tile, bh }) => {
    const hkl = b.let('hkl', mod(bh, 'KV_HEADS'));
    b.let('b', div(bh, 'KV_HEADS'));
    const hk = b.let('hk', add('KV_HEAD_OFFSET', hkl));
    const c = b.let('c', div(tile, 'ROW_TILES'));
    const t = b.let('t', add(mul(paren(mod(tile, 'ROW_TILES')), 'WG'), 'lid'));
    b.returnIf(ge(t, 'RANK'));
    b.var('accK', undefined, T.array(vec, 'DW'));
    b.var('accV', undefined, T.array(vec, 'DVW'));
    overRow(b, 'DW', (body, d) => body.assign(index('accK', d), zeroOf(shape)));
    overRow(b, 'DVW', (body, d) => body.assign(index('accV', d), zeroOf(shape)));
    const first = options.cachedCount
      ? b.let('first', construct(T.u32, index(arrays.e.buffer, u32(0))))
      : null;
    const projectionRow = (base: string) => {
      const row = add(uniform(base), mul(add(mul(hk, 'RANK'), t), 'MAX_SEQ'));
      return first ? add(row, first) : row;
    };
    const eRow = b.let('eRow', projectionRow('eBase'));
    const fRow = b.let('fRow', projectionRow('fBase'));
    const n0 = b.let('n0', mul(c, 'CHUNK'));
    const n1 = b.let('n1', min(add(n0, 'CHUNK'), uniform('seqK')));
    b.comment('(Four keys per step, sharing accumulator loads, was ~25% slower on llvmpipe.)');
    b.for(
      'n',
      n0,
      (n) => lt(n, n1),
      (key, n) => {
        const e = key.let('e', index(arrays.e.buffer, add(eRow, n)));
        const f = key.let('f', index(arrays.f.buffer, add(fRow, n)));
        const place = {
          batch: 'b',
          head: hk,
          heads: 'TOTAL_KV_HEADS',
          seq: uniform('seqK'),
          row: n,
        };
        const row = (base: string, width: string) => rowStart(layout, uniform(base), place, width);
        const kRow = key.let('kRow', row('kBase', 'DW'));
        const vRow = key.let('vRow', row('vBase', 'DVW'));
        forShortLoops(key, 'DW', shape.headDim / W, (body, d) =>
          body.compound(index('accK', d), '+=', mul(e, kView.load(add(kRow, d)))),
        );
        forShortLoops(key, 'DVW', shape.valueDim / W, (body, d) =>
          body.compound(index('accV', d), '+=', mul(f, vView.load(add(vRow, d)))),
        );
      },
    );
    b.comment('Partial row t of chunk c: [B, KV_HEADS, chunks, RANK, DW + DVW].');
    const partialRow = add(
      mul(add(mul(add(mul('b', 'KV_HEADS'), hkl), uniform('chunks')), c), 'RANK'),
      t,
    );
    const out = b.let('out', add(uniform('partialBase'), mul(partialRow, add('DW', 'DVW'))));
    const partial = arrays.partial.buffer;
    overRow(b, 'DW', (body, d) => body.store(partial, add(out, d), index('accK', d)));
    overRow(b, 'DVW', (body, d) => body.store(partial, add(out, 'DW', d), index('accV', d)));
  });
  // A chunk of keys, a step each (their row loops unrolled); the accumulators' init and store.
  const rows = constantLoopCost(shape.headDim / W) + constantLoopCost(shape.valueDim / W);
  return { ...build(), loopIterations: loopCost(chunk) + 2 * rows };
}

/** `for (var d = 0u; d < count; d++) { ... }` on one line. */
function overRow(b: BlockBuilder, count: string, body: (b: BlockBuilder, d: Expr) => void): void {
  b.range('d', count, body, { oneLine: true });
}

/**
 * Sums the chunk partials in `buffer` into K', V' at `projectedBase`: of the same buffer, or
 * added to what `into` holds there (the KV cache's rows).
 */
export function linformerReduceKernel(
  shape: GroupShape,
  rank: number,
  chunk: number,
  buffer: KernelBuffer,
  partialBase: SizeExpr,
  projectedBase: SizeExpr,
  into?: KernelBuffer,
): Kernel {
  const W = shape.width;
  const rowWords = (shape.headDim + shape.valueDim) / W;
  const elements: SizeExpr = { op: 'mul', args: ['batch', shape.kvHeads, rank, rowWords] };
  const workgroups: SizeExpr = { op: 'ceilDiv', args: [elements, LOWRANK_WORKGROUP] };
  const { k, main, build } = lowRankKernel(
    'linformer projection, sum of chunks',
    shape,
    workgroups,
    {
      name: 'tiles',
      value: workgroups,
    },
  );
  k.uniform('elements', elements);
  k.uniform('chunks', { op: 'ceilDiv', args: ['seqK', chunk] });
  k.uniform('partialBase', { op: 'ceilDiv', args: [partialBase, W] });
  k.uniform('projectedBase', { op: 'ceilDiv', args: [projectedBase, W] });
  declareBuffers(k, into ? [buffer, into] : [buffer]);
  k.constBeforeMain('RANK', T.u32, u32(rank));
  k.constBeforeMain('ROW', T.u32, u32(rowWords));
  const s = buffer.name;
  main((b) => {
    const x = b.let('x', add(mul('linear', 'WG'), 'lid'));
    b.returnIf(ge(x, uniform('elements')));
    b.comment('x indexes [B, KV_HEADS, RANK, ROW]; its chunk partials are RANK * ROW apart.');
    const head = b.let('head', div(x, mul('RANK', 'ROW')));
    const inHead = b.let('inHead', mod(x, mul('RANK', 'ROW')));
    const first = b.let(
      'first',
      add(uniform('partialBase'), mul(head, uniform('chunks'), 'RANK', 'ROW'), inHead),
    );
    const sum = b.var('sum', zeroOf(shape));
    b.range(
      'c',
      uniform('chunks'),
      (body, c) => body.compound(sum, '+=', index(s, add(first, mul(c, 'RANK', 'ROW')))),
      { oneLine: true },
    );
    const at = add(uniform('projectedBase'), x);
    if (into) b.store(into.name, at, add(index(into.name, at), sum));
    else b.store(s, at, sum);
  });
  // One step per chunk of keys and the loop's exit.
  return { ...build(), loopIterations: size.add(size.ceilDiv('seqK', chunk), 1) };
}

/**
 * The attend over linformer's r projected rows `[B, KV_HEADS, RANK, DW + DVW]` (K' then V' in
 * each row) at word `projectedBase` of the key buffer: what smallAttentionKernel needs beyond
 * the query rows, for the plan's last step and the KV cache's attend alike.
 */
export function projectedRowsAttend(
  rank: number,
  projectedBase: SizeExpr,
): Pick<
  SmallAttentionSpec,
  'title' | 'uniforms' | 'keys' | 'keyCount' | 'constants' | 'keyRow' | 'valueRow'
> {
  const projectedRow = add(
    uniform('projectedBase'),
    mul(add(mul(add(mul('b', 'KV_HEADS'), 'hkl'), 'ROWS'), 'j'), add('DW', 'DVW')),
  );
  return {
    title: `linformer attention over ${rank} projected rows`,
    uniforms: [{ name: 'projectedBase', value: projectedBase }],
    keys: 'ROWS',
    keyCount: rank,
    constants: [{ name: 'ROWS', value: rank }],
    keyRow: projectedRow,
    valueRow: add(projectedRow, 'DW'),
  };
}
