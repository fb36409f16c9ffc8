// Kernels of the KV cache's projected rows of a linformer group
// (src/runtime/cache/projected-rows.ts): per (batch, kv head) the cache keeps K' = E K and
// V' = F V over every key appended so far, `[B, Hkv_g, r, D + Dv]` f32 (the plan's
// kv_projected layout), instead of the keys. They are the plan's own linformer kernels
// (linformer.ts, lowrank-attend.ts) on the cache's buffers:
//
//   project  the appended chunk's k, v (T rows, the spec's layout and dtype) times the E, F
//            columns at the chunk's absolute positions, by chunks of keys, into `partial`
//   reduce   the chunk partials added to the kept rows (`rows`)
//   advance  the appended count, in word 0 of the `ef` buffer (the project kernel's first
//            column), so a decode step writes no uniform; an f32 value (not u32 bits: an f32
//            load may flush the subnormal those bits would be), exact up to MAX_COUNTED
//   attend   the queries (q, T rows) over the r kept rows, into this group's heads of o
//
// The `ef` buffer: word 0 the count (padded to 256 bytes), then E `[Hkv, r, max_seq]`, then F
// at the next multiple of 256 bytes. Sizes: `batch`, `seqK` = the appended tokens,
// `seqQ` = the query rows. `total` of project, reduce and attend counts workgroups (the
// low-rank grid), advance's invocations.

import type { TensorLayout } from '../../kernel/blocks/layout.js';
import { rowStart } from '../../kernel/blocks/layout.js';
import { add, construct, index, KernelBuilder, T, u32, uniform } from '../../kernel/build.js';
import type { Kernel } from '../../kernel/ir.js';
import type { SizeExpr } from '../plan.js';
import { SIDE_TABLE_HEADER_WORDS } from './cache-side-tables.js';
import { linformerProjectKernel, linformerReduceKernel, projectedRowsAttend } from './linformer.js';
import { QUERY_PLACE, smallAttentionKernel } from './lowrank-attend.js';
import { f32Codec, type GroupShape, type KernelBuffer, tensorCodec } from './lowrank-blocks.js';
import type { RowCodec } from '../../kernel/blocks/row-codec.js';

/** Words before E in the `ef` buffer: the appended count, padded to 256 bytes. */
export const EF_HEADER_WORDS = SIDE_TABLE_HEADER_WORDS;

/** The most positions the f32 count holds exactly (2^24): the largest max_seq with a cache. */
export const MAX_COUNTED = 2 ** 24;

/** Word offsets of E and F in the `ef` buffer (F at a 256-byte boundary, to bind it alone). */
export function efLayout(
  kvHeads: number,
  rank: number,
  maxSeq: number,
): { readonly e: number; readonly f: number; readonly words: number } {
  const elements = kvHeads * rank * maxSeq;
  const f = EF_HEADER_WORDS + Math.ceil(elements / EF_HEADER_WORDS) * EF_HEADER_WORDS;
  return { e: EF_HEADER_WORDS, f, words: f + elements };
}

export interface ProjectedRowsShape {
  readonly shape: GroupShape;
  readonly layout: TensorLayout;
  readonly rank: number;
  /** Keys per chunk of the projection (the plan's linformer-project chunk). */
  readonly chunk: number;
  readonly maxSeq: number;
  /** The group's score scale. */
  readonly scale: number;
}

export interface ProjectedRowsKernels {
  /** Bindings: k, v, ef, partial. */
  readonly project: Kernel;
  /** Bindings: partial, rows. */
  readonly reduce: Kernel;
  /** Bindings: ef (its word 0). */
  readonly advance: Kernel;
  /** Bindings: q, rows, o. */
  readonly attend: Kernel;
}

export function projectedRowsKernels(p: ProjectedRowsShape): ProjectedRowsKernels {
  const { shape, rank, chunk, maxSeq } = p;
  const tensor = tensorCodec(shape);
  const vec = f32Codec(shape.width);
  const buffer = (
    name: string,
    binding: number,
    codec: RowCodec,
    written = false,
  ): KernelBuffer => ({ name, binding, access: written ? 'read_write' : 'read', codec });
  const ef = efLayout(shape.totalKvHeads, rank, maxSeq);
  const project = linformerProjectKernel(
    shape,
    p.layout,
    rank,
    chunk,
    maxSeq,
    [
      buffer('k_buf', 1, tensor),
      buffer('v_buf', 2, tensor),
      buffer('ef_buf', 3, f32Codec(1)),
      buffer('partial_buf', 4, vec, true),
    ],
    {
      k: { buffer: 'k_buf', base: 0 },
      v: { buffer: 'v_buf', base: 0 },
      e: { buffer: 'ef_buf', base: ef.e },
      f: { buffer: 'ef_buf', base: ef.f },
      partial: { buffer: 'partial_buf', base: 0 },
    },
    { cachedCount: true },
  );
  const reduce = linformerReduceKernel(
    shape,
    rank,
    chunk,
    buffer('partial_buf', 1, vec),
    0,
    0,
    buffer('rows_buf', 2, vec, true),
  );
  const attendBuffers = [
    buffer('q_buf', 1, tensor),
    buffer('rows_buf', 2, vec),
    buffer('o_buf', 3, tensor, true),
  ];
  const over = projectedRowsAttend(rank, 0);
  const rows: SizeExpr = 'seqQ';
  const attend = smallAttentionKernel({
    ...over,
    title: `KV cache: ${over.title}`,
    shape,
    scale: p.scale,
    buffers: attendBuffers,
    uniforms: [
      { name: 'seqQ', value: 'seqQ' },
      { name: 'qBase', value: 0 },
      { name: 'oBase', value: 0 },
      ...over.uniforms,
    ],
    rows,
    queryRow: rowStart(p.layout, uniform('qBase'), QUERY_PLACE, 'DW'),
    outputRow: rowStart(p.layout, uniform('oBase'), QUERY_PLACE, 'DVW'),
    queryBuffer: 'q_buf',
    keyBuffer: 'rows_buf',
    valueBuffer: 'rows_buf',
    outputBuffer: 'o_buf',
  });
  return { project, reduce, advance: advanceKernel(), attend };
}

/** One invocation adds the appended chunk's T to the count (an f32 value) in word 0 of `ef`. */
function advanceKernel(): Kernel {
  const k = new KernelBuilder(1);
  k.header('attnc cache: linformer projected rows: count the appended keys (after the projection)');
  const seqK = k.uniform('seqK', 'seqK');
  k.uniform('total', 1);
  const ef = k.storage(1, 'ef_buf', 'read_write', T.f32);
  k.singleWorkgroup();
  k.main((b) => b.store(ef, u32(0), add(index(ef, u32(0)), construct(T.f32, seqK))));
  return k.build();
}
