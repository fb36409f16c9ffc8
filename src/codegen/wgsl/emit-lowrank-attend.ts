// The WGSL-template prelude of linformer's projection kernels (emit-linformer.ts), until
// they are built on the kernel IR like the other low-rank kernels (src/codegen/kernels/:
// lowrank-common.ts, lowrank-attend.ts, nystrom.ts), whose shapes and codecs this reuses.
// Under dtype f16, q/k/v rows are vec4s of halves packed in `vec2<u32>`; the buffer's declared
// element says how each row is read, so index expressions stay in row-vector units.

import type { SizeExpr } from '../plan.js';
import {
  type GroupShape,
  type KernelBuffer,
  LOWRANK_WORKGROUP,
  tensorUnitWords,
} from '../kernels/lowrank-common.js';
import { PACK_ROW_WGSL, UNPACK_ROW_WGSL } from './emit-key-update.js';
import { paramsStructLines } from './params-struct.js';

export { type GroupShape, type KernelBuffer, tensorUnitWords };

export interface LowRankKernel {
  readonly wgsl: string;
  readonly workgroupSize: number;
  readonly uniforms: readonly { readonly name: string; readonly value: SizeExpr }[];
}

/** The WGSL type of q/k/v/o rows in storage. */
export function tensorElement(shape: GroupShape): KernelBuffer['element'] {
  if (shape.dtype === 'f16') {
    if (shape.width !== 4) throw new Error('internal error: f16 needs vector width 4');
    return 'vec2<u32>';
  }
  return shape.width === 4 ? 'vec4<f32>' : 'f32';
}

/** Reads element `index` of a declared buffer as f32 values (unpacking halves). */
export function loadFrom(buffers: readonly KernelBuffer[], name: string, index: string): string {
  const e = `${name}[${index}]`;
  return bufferNamed(buffers, name).element === 'vec2<u32>' ? `unpackRow(${e})` : e;
}

function bufferNamed(buffers: readonly KernelBuffer[], name: string): KernelBuffer {
  const found = buffers.find((b) => b.name === name);
  if (!found) throw new Error(`internal error: buffer ${name} is not declared`);
  return found;
}

export const WORKGROUP = LOWRANK_WORKGROUP;

/** Constants, Params and buffer declarations every low-rank kernel opens with. */
export function kernelPrelude(
  title: string,
  shape: GroupShape,
  uniforms: readonly { readonly name: string }[],
  buffers: readonly KernelBuffer[],
): string[] {
  const W = shape.width;
  const L = [
    `// attnc low-rank: ${title}; attention ${shape.attention}, group ${shape.group}`,
    `const DW: u32 = ${shape.headDim / W}u;`,
    `const DVW: u32 = ${shape.valueDim / W}u;`,
    `const HEADS: u32 = ${shape.heads}u;`,
    `const KV_HEADS: u32 = ${shape.kvHeads}u;`,
    `const GROUP_SIZE: u32 = ${shape.heads / shape.kvHeads}u;`,
    `const HEAD_OFFSET: u32 = ${shape.headOffset}u;`,
    `const KV_HEAD_OFFSET: u32 = ${shape.kvHeadOffset}u;`,
    `const TOTAL_HEADS: u32 = ${shape.totalHeads}u;`,
    `const TOTAL_KV_HEADS: u32 = ${shape.totalKvHeads}u;`,
    `const WG: u32 = ${WORKGROUP}u;`,
    '',
    ...paramsStructLines(uniforms),
    '',
    '@group(0) @binding(0) var<uniform> P: Params;',
  ];
  for (const b of buffers) {
    L.push(
      `@group(0) @binding(${b.binding}) var<storage, ${b.access}> ${b.name}: array<${b.element}>;`,
    );
  }
  L.push('');
  const halves = buffers.filter((b) => b.element === 'vec2<u32>');
  if (halves.length > 0) L.push(...UNPACK_ROW_WGSL);
  if (halves.some((b) => b.access === 'read_write')) L.push(...PACK_ROW_WGSL);
  if (halves.length > 0) L.push('');
  return L;
}

/** The opening of `main`: the folded dispatch index, split into (b, local head, tile). */
export function mainOpening(tilesUniform: string): string[] {
  return [
    `@compute @workgroup_size(${WORKGROUP})`,
    'fn main(',
    '  @builtin(workgroup_id) wid: vec3<u32>,',
    '  @builtin(num_workgroups) nwg: vec3<u32>,',
    '  @builtin(local_invocation_index) lid: u32,',
    ') {',
    '  // Dispatches fold (batch, head, tile) into up to two dimensions.',
    '  let linear = wid.x + wid.y * nwg.x;',
    '  if (linear >= P.total) { return; }',
    `  let tile = linear % P.${tilesUniform};`,
    `  let bh = linear / P.${tilesUniform};`,
  ];
}

/** Index of row `row` of head `head` in a q/k/v/o tensor, in row-vector units (plus base). */
export function tensorRow(
  layout: 'bhnd' | 'bnhd',
  base: string,
  head: string,
  totalHeads: string,
  seq: string,
  row: string,
  width: string,
): string {
  return layout === 'bhnd'
    ? `${base} + ((b * ${totalHeads} + ${head}) * ${seq} + ${row}) * ${width}`
    : `${base} + ((b * ${seq} + ${row}) * ${totalHeads} + ${head}) * ${width}`;
}
