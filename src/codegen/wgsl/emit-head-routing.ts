// Mixture of heads (`head_routing: top(k)`, language.md section 8) on the device. Three small
// kernels turn the run-time `router` logits [B, Nq, H] into, per (batch, head), the sorted
// list of query rows that keep that head, so the fused softmax kernels launch workgroups over
// kept rows only and never compute a dropped (row, head) pair:
//
//   head_routing.select   one invocation per (b, chunk of CHUNK rows): top-k per row (ties to
//                         the lower head), weights = softmax over the kept logits, and the
//                         number of kept rows per head in the chunk
//   head_routing.scan     one workgroup: per (b, h) the exclusive prefix of the chunk counts
//                         (in place), the kept count, and per group the running total of
//                         query tiles over (b, local head): where each list's tiles start
//   head_routing.scatter  one invocation per (b, chunk): writes kept rows to their list
//                         position (so lists are sorted, deterministic) and writes 0 to `o`
//                         for every dropped (row, head) pair (no reliance on zeroed buffers)
//
// Every group walks the lists: softmax groups through `routedRows` (codegen/kernels/softmax-rows.ts, tiles of TQ rows),
// the per-query kernels of kernelized, low-rank and data-dependent-mask groups through
// `selectKeptRow` (kernel/blocks/kept-rows.ts), so key-side work alone (states, projections, landmarks, route steps) is
// per (batch, kv head) and no dropped pair is computed anywhere. A kept head whose weight
// underflows to 0 in f32 is treated as dropped: its output would be 0 * o = 0 either way. All tables live in `aux` (u32 words; f32 values are bitcast).

import type { Attention, Group } from '../../ir/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import { wordCodec } from '../../kernel/blocks/row-codec.js';
import type { Kernel, BufferSlot } from '../../kernel/ir.js';
import {
  HEAD_ROUTING_WORKGROUP,
  headRoutingScanKernel,
  headRoutingScatterKernel,
  headRoutingSelectKernel,
  type HeadRoutingShape,
} from '../kernels/head-routing.js';
import { loopCost } from './loop-budget.js';

/** llvmpipe's loop iterations per invocation (src/runtime/loop-budget.ts has the same). */
const LLVMPIPE_LOOP_BUDGET = 65_535;

/** Query rows per invocation of the select and scatter kernels, at most. */
export const ROUTE_CHUNK = 64;

/**
 * Query rows per invocation of the select and scatter kernels for `heads` heads, top(k) and
 * value rows of `valueWords` u32 words: ROUTE_CHUNK, halved until one invocation's loops fit
 * llvmpipe's 65,535 iterations (loop-budget.ts), counting every loop as a loop even where
 * Mesa unrolls it. Per row, select runs k rounds over the heads; scatter zeroes the output
 * row of each dropped head. 1 always fits: heads <= 128 and value_dim <= 256.
 */
export function routeChunk(heads: number, k: number, valueWords: number): number {
  const perRow = routeRowLoops(heads, k, valueWords);
  let chunk = ROUTE_CHUNK;
  while (chunk > 1 && 2 * loopCost(heads) + 1 + chunk * perRow > LLVMPIPE_LOOP_BUDGET) chunk /= 2;
  return chunk;
}

/** Loop iterations per row of select (k rounds over the heads) or scatter, the larger. */
function routeRowLoops(heads: number, k: number, valueWords: number): number {
  const select = loopCost(heads) + k * (loopCost(heads) + 1) + loopCost(k) + loopCost(heads) + 1;
  const scatter = loopCost(heads) * (loopCost(valueWords) + 1) + 1;
  return Math.max(select, scatter);
}

function valueWordsOf(attention: Attention): number {
  return attention.valueDim / wordCodec(attention.dtype, 1).valuesPerWord;
}

/** Word offsets (in `aux`) of the head-routing tables. */
export interface HeadRoutingArrays {
  /** The `router` input `[B, Nq, H]` f32. */
  readonly router: SizeExpr;
  /** `[B, Nq, H]` f32: the softmax weight of each kept head, 0 for a dropped one. */
  readonly weights: SizeExpr;
  /** `[B, ceil(Nq / CHUNK), H]` u32: kept rows per chunk, then (after scan) their list offset. */
  readonly chunkCounts: SizeExpr;
  /** `[B, H]` u32: kept rows per (b, h). */
  readonly counts: SizeExpr;
  /** `[B, H]` u32, group by group: running total of query tiles over (b, local head). */
  readonly tileEnd: SizeExpr;
  /** `[B, H, Nq]` u32: the kept rows of (b, h), ascending, in its first `counts` slots. */
  readonly rows: SizeExpr;
}

/** Adds the routing tables to `aux` (element counts symbolic in batch/seqQ). */
export function layoutHeadRouting(
  attention: Attention,
  add: (name: string, elements: SizeExpr, element: 'f32' | 'u32') => SizeExpr,
): HeadRoutingArrays {
  const heads = attention.heads;
  const chunk = routeChunk(
    heads,
    Math.min(attention.headRouting?.k ?? heads, heads),
    valueWordsOf(attention),
  );
  const chunks = size.ceilDiv('seqQ', chunk);
  return {
    router: add('router', size.mul('batch', 'seqQ', heads), 'f32'),
    weights: add('head_routing.weights', size.mul('batch', 'seqQ', heads), 'f32'),
    chunkCounts: add('head_routing.chunk_counts', size.mul('batch', chunks, heads), 'u32'),
    counts: add('head_routing.counts', size.mul('batch', heads), 'u32'),
    tileEnd: add('head_routing.tile_end', size.mul('batch', heads), 'u32'),
    rows: add('head_routing.rows', size.mul('batch', heads, 'seqQ'), 'u32'),
  };
}

export interface RoutingKernel {
  readonly name: string;
  readonly kernel: Kernel;
  /** Invocations (threads) the dispatch must cover. */
  readonly invocations: SizeExpr;
}

/**
 * The select, scan and scatter kernels (kernels/head-routing.ts), in dispatch order. `o` is
 * bound as u32 words; `oBase` is the word offset of `o` in its buffer.
 */
export function emitHeadRoutingKernels(
  attention: Attention,
  arrays: HeadRoutingArrays,
  aux: BufferSlot,
  o: BufferSlot,
  oBase: SizeExpr,
  /** Kept rows per workgroup of the group's per-query kernel (its tile of the lists). */
  queryTile: (group: Group) => number,
): RoutingKernel[] {
  const routing = attention.headRouting;
  if (!routing) throw new Error('internal error: no head_routing');
  const H = attention.heads;
  const K = Math.min(routing.k, H);
  const rowWords = valueWordsOf(attention);
  const chunk = routeChunk(H, K, rowWords);
  const chunks = size.ceilDiv('seqQ', chunk);
  const uniforms = [
    { name: 'batch', value: 'batch' as SizeExpr },
    { name: 'seqQ', value: 'seqQ' as SizeExpr },
    { name: 'chunks', value: chunks },
    { name: 'total', value: size.mul('batch', chunks) },
    { name: 'routerBase', value: arrays.router },
    { name: 'weightsBase', value: arrays.weights },
    { name: 'chunkCountsBase', value: arrays.chunkCounts },
    { name: 'countsBase', value: arrays.counts },
    { name: 'tileEndBase', value: arrays.tileEnd },
    { name: 'rowsBase', value: arrays.rows },
  ];
  const shape: HeadRoutingShape = { attention, k: K, chunk, uniforms, aux };
  const perChunk = size.mul('batch', chunks);
  // Loop iterations per invocation (loop-budget.ts). select and scatter: fixed by the chunk;
  // scan: per (b, h) pair of the invocation a pass over the chunks, then the group totals.
  const chunkLoops = 2 * loopCost(H) + 1 + chunk * routeRowLoops(H, K, rowWords);
  const pairsPerInvocation = size.ceilDiv(size.mul('batch', H), HEAD_ROUTING_WORKGROUP);
  const scanLoops = size.add(
    size.mul(size.add(pairsPerInvocation, 1), size.add(chunks, 2)),
    ...attention.groups.map((g) => size.add(size.mul('batch', loopCost(g.heads)), 1)),
  );
  return [
    {
      name: 'head_routing.select',
      kernel: headRoutingSelectKernel(shape, chunkLoops),
      invocations: perChunk,
    },
    {
      name: 'head_routing.scan',
      kernel: headRoutingScanKernel(shape, queryTile, scanLoops),
      invocations: 1,
    },
    {
      name: 'head_routing.scatter',
      kernel: headRoutingScatterKernel(shape, o, oBase, rowWords, chunkLoops),
      invocations: perChunk,
    },
  ];
}

/** Word offsets the fused softmax kernel of a routed attention reads. */
export interface RoutedRowsArrays {
  readonly k: number;
  readonly weights: SizeExpr;
  readonly counts: SizeExpr;
  readonly tileEnd: SizeExpr;
  readonly rows: SizeExpr;
}

/**
 * Upper bound on the query tiles of a group's kept-row lists: `min(k, Hg)` kept heads per row
 * in the group, so at most `ceil(B Nq min(k, Hg) / TQ) + B Hg` tiles, and never more than the
 * unrouted `B Hg ceil(Nq / TQ)`. Workgroups past the real total return at once.
 */
export function routedTileBound(
  routing: RoutedRowsArrays,
  groupHeads: number,
  queryTile: number,
): SizeExpr {
  const keptPerRow = Math.min(routing.k, groupHeads);
  return size.min(
    size.mul('batch', groupHeads, size.ceilDiv('seqQ', queryTile)),
    size.add(
      size.ceilDiv(size.mul('batch', 'seqQ', keptPerRow), queryTile),
      size.mul('batch', groupHeads),
    ),
  );
}

export function routedRowsUniforms(routing: RoutedRowsArrays): { name: string; value: SizeExpr }[] {
  return [
    { name: 'routeWeightsBase', value: routing.weights },
    { name: 'routeCountsBase', value: routing.counts },
    { name: 'routeTileEndBase', value: routing.tileEnd },
    { name: 'routeRowsBase', value: routing.rows },
  ];
}

/**
 * Uniforms `selectKeptRow` (kernel/blocks/kept-rows.ts) reads. Batch and seqQ get names of
 * their own so that no kernel's own uniforms clash with them.
 */
export function keptRowUniforms(routing: RoutedRowsArrays): { name: string; value: SizeExpr }[] {
  return [
    { name: 'routeBatch', value: 'batch' },
    { name: 'routeSeqQ', value: 'seqQ' },
    ...routedRowsUniforms(routing),
  ];
}
