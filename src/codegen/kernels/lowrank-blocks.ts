// Kernel IR blocks of the low-rank kernels: every one opens with the group's constants, its
// Params and storage buffers (f16 q/k/v rows as packed halves, with the unpack/pack helpers
// they need), and a `main` that splits the folded dispatch into (batch and head, tile). The
// linformer kernels build on these directly; the attend and nystrom templates render the
// constants and row addressing through emit-lowrank-attend.ts until they build IR themselves.

import {
  add,
  call,
  index,
  type Operand,
  div,
  KernelBuilder,
  mod,
  T,
  u32,
  uniform,
  type BlockBuilder,
} from '../../kernel/build.js';
import { rowIndex, type TensorLayout } from '../../kernel/blocks/layout.js';
import { PACK_ROW, UNPACK_ROW } from '../../kernel/blocks/row-codec.js';
import type { Expr, KernelConst, Type } from '../../kernel/ir.js';
import type { SizeExpr } from '../plan.js';

/** Invocations per workgroup of every low-rank kernel. */
export const WORKGROUP = 64;

/** A storage buffer as one kernel declares it. */
export interface KernelBuffer {
  readonly name: string;
  readonly binding: number;
  readonly access: 'read' | 'read_write';
  /** `vec2<u32>`: four packed halves (a q/k/v/o tensor under dtype f16). */
  readonly element: 'f32' | 'vec4<f32>' | 'vec2<u32>';
}

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
  readonly dtype: 'f32' | 'f16';
}

/** Words of one row vector of q/k/v/o: four halves in two words under f16. */
export function tensorUnitWords(shape: GroupShape): number {
  return shape.dtype === 'f16' ? 2 : shape.width;
}

export function lowRankConstants(shape: GroupShape): KernelConst[] {
  const W = shape.width;
  const int = (name: string, value: number): KernelConst => ({
    name,
    type: T.u32,
    value: u32(value),
  });
  return [
    int('DW', shape.headDim / W),
    int('DVW', shape.valueDim / W),
    int('HEADS', shape.heads),
    int('KV_HEADS', shape.kvHeads),
    int('GROUP_SIZE', shape.heads / shape.kvHeads),
    int('HEAD_OFFSET', shape.headOffset),
    int('KV_HEAD_OFFSET', shape.kvHeadOffset),
    int('TOTAL_HEADS', shape.totalHeads),
    int('TOTAL_KV_HEADS', shape.totalKvHeads),
    int('WG', WORKGROUP),
  ];
}

const ELEMENT_TYPES: Record<KernelBuffer['element'], Type> = {
  f32: T.f32,
  'vec4<f32>': T.vec(4, 'f32'),
  'vec2<u32>': T.vec(2, 'u32'),
};

/** Element `at` of a declared buffer as f32 values (unpacking halves). */
export function loadElement(buffer: KernelBuffer, at: Operand): Expr {
  const e = index(buffer.name, at);
  return buffer.element === 'vec2<u32>' ? call(UNPACK_ROW.name, e) : e;
}

/** First unit of row `row` of a q/k/v/o tensor at uniform offset `base` (b in scope). */
export function tensorRow(
  layout: TensorLayout,
  base: Operand,
  head: Operand,
  totalHeads: Operand,
  seq: Operand,
  row: Operand,
  width: Operand,
): Expr {
  return add(base, rowIndex(layout, totalHeads, seq, width, 'b', head, row));
}

/**
 * A low-rank kernel's declarations: header, constants (`late` ones next to `main`), Params,
 * buffers and the row helpers halves need. Returns the builder for `main`.
 */
export function lowRankKernel(
  title: string,
  shape: GroupShape,
  uniforms: readonly { readonly name: string; readonly value: SizeExpr }[],
  buffers: readonly KernelBuffer[],
  late: readonly KernelConst[],
): KernelBuilder {
  const k = new KernelBuilder(WORKGROUP);
  k.header(`attnc low-rank: ${title}; attention ${shape.attention}, group ${shape.group}`);
  k.consts(lowRankConstants(shape));
  for (const u of uniforms) k.uniform(u.name, u.value);
  for (const b of buffers) k.storage(b.binding, b.name, b.access, ELEMENT_TYPES[b.element]);
  const halves = buffers.filter((b) => b.element === 'vec2<u32>');
  if (halves.length > 0) k.function(UNPACK_ROW);
  if (halves.some((b) => b.access === 'read_write')) k.function(PACK_ROW);
  k.consts(late.map((c) => ({ ...c, beforeMain: true })));
  k.gridIndex(
    'workgroup',
    'linear',
    'total',
    'Dispatches fold (batch, head, tile) into up to two dimensions.',
  );
  return k;
}

/** `tile` and `bh` (batch and local head) of this workgroup, from the folded index. */
export function splitTile(b: BlockBuilder, tilesUniform: string): { tile: Expr; bh: Expr } {
  const tile = b.let('tile', mod('linear', uniform(tilesUniform)));
  const bh = b.let('bh', div('linear', uniform(tilesUniform)));
  return { tile, bh };
}
