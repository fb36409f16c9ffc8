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

import type { TensorLayout } from '../../kernel/blocks/layout.js';
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
import type { Expr, KernelConst } from '../../kernel/ir.js';
import type { BoundedKernel } from '../kernel-source.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import { constantLoopCost, loopCost } from '../wgsl/loop-budget.js';
import {
  type GroupShape,
  type KernelBuffer,
  loadElement,
  lowRankKernel,
  splitTile,
  tensorRow,
  tensorUnitWords,
  WORKGROUP,
} from './lowrank-blocks.js';

export interface ProjectionArrays {
  /** Buffer variables (WGSL names) and word offsets. */
  readonly k: { readonly buffer: string; readonly base: SizeExpr };
  readonly v: { readonly buffer: string; readonly base: SizeExpr };
  readonly e: { readonly buffer: string; readonly base: SizeExpr };
  readonly f: { readonly buffer: string; readonly base: SizeExpr };
  readonly partial: { readonly buffer: string; readonly base: SizeExpr };
}

const constant = (name: string, value: number): KernelConst => ({
  name,
  type: T.u32,
  value: u32(value),
});

const zeroOf = (shape: GroupShape): Expr =>
  shape.width === 4 ? construct(T.vec(4, 'f32'), f32(0)) : f32(0);

export function linformerProjectKernel(
  shape: GroupShape,
  layout: TensorLayout,
  rank: number,
  chunk: number,
  maxSeq: number,
  buffers: readonly KernelBuffer[],
  arrays: ProjectionArrays,
): BoundedKernel {
  const W = shape.width;
  const chunks: SizeExpr = { op: 'ceilDiv', args: ['seqK', chunk] };
  const rowTiles = Math.ceil(rank / WORKGROUP);
  const tensorUnit = tensorUnitWords(shape);
  const uniforms: { name: string; value: SizeExpr }[] = [
    { name: 'total', value: { op: 'mul', args: ['batch', shape.kvHeads, chunks, rowTiles] } },
    { name: 'tiles', value: { op: 'mul', args: [chunks, rowTiles] } },
    { name: 'chunks', value: chunks },
    { name: 'seqK', value: 'seqK' },
    { name: 'kBase', value: { op: 'ceilDiv', args: [arrays.k.base, tensorUnit] } },
    { name: 'vBase', value: { op: 'ceilDiv', args: [arrays.v.base, tensorUnit] } },
    { name: 'eBase', value: arrays.e.base },
    { name: 'fBase', value: arrays.f.base },
    { name: 'partialBase', value: { op: 'ceilDiv', args: [arrays.partial.base, W] } },
  ];
  const late = [
    constant('RANK', rank),
    constant('CHUNK', chunk),
    constant('MAX_SEQ', maxSeq),
    constant('ROW_TILES', rowTiles),
  ];
  const k = lowRankKernel('linformer projection, one key chunk', shape, uniforms, buffers, late);
  const buffer = (name: string) => buffers.find((b) => b.name === name)!;
  const vec = W === 4 ? T.vec(4, 'f32') : T.f32;
  k.main((b) => {
    const { tile, bh } = splitTile(b, 'tiles');
    const hkl = b.let('hkl', mod(bh, 'KV_HEADS'));
    b.let('b', div(bh, 'KV_HEADS'));
    const hk = b.let('hk', add('KV_HEAD_OFFSET', hkl));
    const c = b.let('c', div(tile, 'ROW_TILES'));
    const t = b.let('t', add(mul(paren(mod(tile, 'ROW_TILES')), 'WG'), 'lid'));
    b.if(ge(t, 'RANK'), (r) => r.return(), undefined, { oneLine: true });
    b.var('accK', undefined, T.array(vec, 'DW'));
    b.var('accV', undefined, T.array(vec, 'DVW'));
    overRow(b, 'DW', (body, d) => body.assign(index('accK', d), zeroOf(shape)));
    overRow(b, 'DVW', (body, d) => body.assign(index('accV', d), zeroOf(shape)));
    const projectionRow = (base: string) =>
      add(uniform(base), mul(add(mul(hk, 'RANK'), t), 'MAX_SEQ'));
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
        const row = (base: string, width: string) =>
          tensorRow(layout, uniform(base), hk, 'TOTAL_KV_HEADS', uniform('seqK'), n, width);
        const kRow = key.let('kRow', row('kBase', 'DW'));
        const vRow = key.let('vRow', row('vBase', 'DVW'));
        forShortLoops(key, 'DW', shape.headDim / W, (body, d) =>
          body.compound(
            index('accK', d),
            '+=',
            mul(e, loadElement(buffer(arrays.k.buffer), add(kRow, d))),
          ),
        );
        forShortLoops(key, 'DVW', shape.valueDim / W, (body, d) =>
          body.compound(
            index('accV', d),
            '+=',
            mul(f, loadElement(buffer(arrays.v.buffer), add(vRow, d))),
          ),
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
  return { ...k.build(), loopIterations: loopCost(chunk) + 2 * rows };
}

/** `for (var d = 0u; d < count; d++) { ... }` on one line. */
function overRow(b: BlockBuilder, count: string, body: (b: BlockBuilder, d: Expr) => void): void {
  b.for('d', u32(0), (d) => lt(d, count), body, { oneLine: true });
}

export function linformerReduceKernel(
  shape: GroupShape,
  rank: number,
  chunk: number,
  buffer: KernelBuffer,
  partialBase: SizeExpr,
  projectedBase: SizeExpr,
): BoundedKernel {
  const W = shape.width;
  const rowWords = (shape.headDim + shape.valueDim) / W;
  const elements: SizeExpr = { op: 'mul', args: ['batch', shape.kvHeads, rank, rowWords] };
  const uniforms: { name: string; value: SizeExpr }[] = [
    { name: 'total', value: { op: 'ceilDiv', args: [elements, WORKGROUP] } },
    { name: 'tiles', value: { op: 'ceilDiv', args: [elements, WORKGROUP] } },
    { name: 'elements', value: elements },
    { name: 'chunks', value: { op: 'ceilDiv', args: ['seqK', chunk] } },
    { name: 'partialBase', value: { op: 'ceilDiv', args: [partialBase, W] } },
    { name: 'projectedBase', value: { op: 'ceilDiv', args: [projectedBase, W] } },
  ];
  const late = [constant('RANK', rank), constant('ROW', rowWords)];
  const k = lowRankKernel('linformer projection, sum of chunks', shape, uniforms, [buffer], late);
  const s = buffer.name;
  k.main((b) => {
    splitTile(b, 'tiles');
    const x = b.let('x', add(mul('linear', 'WG'), 'lid'));
    b.if(ge(x, uniform('elements')), (r) => r.return(), undefined, { oneLine: true });
    b.comment('x indexes [B, KV_HEADS, RANK, ROW]; its chunk partials are RANK * ROW apart.');
    const head = b.let('head', div(x, mul('RANK', 'ROW')));
    const inHead = b.let('inHead', mod(x, mul('RANK', 'ROW')));
    const first = b.let(
      'first',
      add(uniform('partialBase'), mul(head, uniform('chunks'), 'RANK', 'ROW'), inHead),
    );
    const sum = b.var('sum', zeroOf(shape));
    b.for(
      'c',
      u32(0),
      (c) => lt(c, uniform('chunks')),
      (body, c) => body.compound(sum, '+=', index(s, add(first, mul(c, 'RANK', 'ROW')))),
      { oneLine: true },
    );
    b.store(s, add(uniform('projectedBase'), x), sum);
  });
  // One step per chunk of keys and the loop's exit.
  return { ...k.build(), loopIterations: size.add(size.ceilDiv('seqK', chunk), 1) };
}
