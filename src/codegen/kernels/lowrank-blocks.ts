// What every low-rank kernel shares (linformer and nystrom, ir/lowrank-ir.ts): the group's
// shape, the constants each kernel opens with, the (batch, head, tile) grid they are all
// dispatched over, and how their buffers are declared and read (q/k/v/o through the row codec
// of the attention's dtype, the low-rank scratch always as f32). Rows are addressed through
// kernel/blocks/layout.ts and read through kernel/blocks/tensor-view.ts; nothing here spells
// a layout or a codec.

import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import { div, KernelBuilder, mod, T, u32, type BlockBuilder } from '../../kernel/build.js';
import { rowCodec, type RowCodec, type StorageDType } from '../../kernel/blocks/row-codec.js';
import { tensorView, withCalledHelpers, type TensorView } from '../../kernel/blocks/tensor-view.js';
import type { Expr, Kernel } from '../../kernel/ir.js';

/** Invocations per workgroup of every low-rank kernel. */
export const LOWRANK_WORKGROUP = 64;

/** Shapes shared by every low-rank kernel of a group. */
export interface GroupShape {
  readonly attention: string;
  readonly group: string;
  /** Vector width of every row access: 4 when head_dim and value_dim allow, else 1. */
  readonly width: 1 | 4;
  readonly headDim: number;
  readonly valueDim: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headOffset: number;
  readonly kvHeadOffset: number;
  readonly totalHeads: number;
  readonly totalKvHeads: number;
  /** Storage type of q, k, v and o (E, F and scratch are always f32). */
  readonly dtype: StorageDType;
}

/** A storage buffer as one kernel declares it. */
export interface KernelBuffer {
  readonly name: string;
  readonly binding: number;
  readonly access: 'read' | 'read_write';
  /** How its elements are stored and read (row-codec.ts): q/k/v/o in the attention's dtype. */
  readonly codec: RowCodec;
}

/** An array a kernel reads or writes: the buffer's WGSL name and the array's word offset. */
export interface ArrayPlace {
  readonly buffer: string;
  readonly base: SizeExpr;
}

export { LOWEST_SCORE } from '../../kernel/blocks/online-softmax.js';

/** Workgroups of a (batch, heads, ceil(rows / LOWRANK_WORKGROUP)) grid. */
export function totalOf(heads: number, rows: SizeExpr): SizeExpr {
  return size.mul('batch', heads, size.ceilDiv(rows, LOWRANK_WORKGROUP));
}

/** q/k/v/o rows in the attention's storage dtype (the plan binds them so). */
export function tensorCodec(shape: GroupShape): RowCodec {
  return rowCodec(shape.dtype, shape.width, false);
}

/** E, F and the low-rank scratch: always f32, read `width` values at a time. */
export function f32Codec(width: 1 | 4): RowCodec {
  return rowCodec('f32', width, false);
}

/** Words of one row vector of q/k/v/o. */
export function tensorUnitWords(shape: GroupShape): number {
  return tensorCodec(shape).unitWords;
}

/** The kernel's storage bindings, in order. */
export function declareBuffers(k: KernelBuilder, buffers: readonly KernelBuffer[]): void {
  for (const b of buffers) k.storage(b.binding, b.name, b.access, b.codec.stored);
}

/** The codec a declared buffer's elements are read and written with. */
export function bufferCodec(buffers: readonly KernelBuffer[], name: string): RowCodec {
  const found = buffers.find((b) => b.name === name);
  if (!found) throw new Error(`internal error: buffer ${name} is not declared`);
  return found.codec;
}

/** A declared buffer as a tensor view (loads and stores in f32 through its codec). */
export function bufferView(buffers: readonly KernelBuffer[], name: string): TensorView {
  return tensorView(name, bufferCodec(buffers, name));
}

/** The workgroup's tile and (batch, local head), split from the folded grid index. */
export interface TileSplit {
  readonly tile: Expr;
  readonly bh: Expr;
}

/** A low-rank kernel under construction (see `lowRankKernel`). */
export interface LowRankKernel {
  readonly k: KernelBuilder;
  /** `main`, opened with `let tile` and `let bh`. */
  readonly main: (body: (b: BlockBuilder, split: TileSplit) => void) => void;
  /** The kernel, declaring the row codec helpers its code calls (packRow only if it stores). */
  readonly build: () => Kernel;
}

/**
 * A kernel opened with the group's constants, the Params fields `total` (workgroups) and
 * `tiles` (workgroups per (batch, head)), and the folded workgroup grid. The caller adds its
 * own uniforms, buffers (`declareBuffers`) and constants before `main`.
 */
export function lowRankKernel(
  title: string,
  shape: GroupShape,
  total: SizeExpr,
  tiles: { readonly name: string; readonly value: SizeExpr },
): LowRankKernel {
  const k = new KernelBuilder(LOWRANK_WORKGROUP);
  k.header(`attnc low-rank: ${title}; attention ${shape.attention}, group ${shape.group}`);
  const constants: [string, number][] = [
    ['DW', shape.headDim / shape.width],
    ['DVW', shape.valueDim / shape.width],
    ['HEADS', shape.heads],
    ['KV_HEADS', shape.kvHeads],
    ['GROUP_SIZE', shape.heads / shape.kvHeads],
    ['HEAD_OFFSET', shape.headOffset],
    ['KV_HEAD_OFFSET', shape.kvHeadOffset],
    ['TOTAL_HEADS', shape.totalHeads],
    ['TOTAL_KV_HEADS', shape.totalKvHeads],
    ['WG', LOWRANK_WORKGROUP],
  ];
  for (const [name, value] of constants) k.const(name, T.u32, u32(value));
  k.uniform('total', total);
  const perHead = k.uniform(tiles.name, tiles.value);
  const linear = k.gridIndex(
    'workgroup',
    'linear',
    'total',
    'Dispatches fold (batch, head, tile) into up to two dimensions.',
  );
  return {
    k,
    main: (body) =>
      k.main((b) => {
        const tile = b.let('tile', mod(linear, perHead));
        const bh = b.let('bh', div(linear, perHead));
        body(b, { tile, bh });
      }),
    build: () => withCalledHelpers(k.build(), tensorCodec(shape).helpers),
  };
}
