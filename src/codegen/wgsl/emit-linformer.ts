// Linformer's projection kernels. `K' = E K`, `V' = F V` per (batch, kv head) with the run-time
// `E`, `F` `[Hkv, r, max_seq]`. The projection is split over chunks of keys: invocation
// (b, kv head, chunk, t) sums `E[t, n] k_n` and `F[t, n] v_n` over its chunk, holding the two
// projected rows in registers, so K and V are each read once per chunk by the workgroup
// (every invocation of it loads the same key row) and E, F once in all. A second kernel sums
// the chunk partials in chunk order (deterministic, no atomics) into `[B, Hkv, r, D + Dv]`.
// Under dtype f16 only K and V are halves (unpacked on load); E, F and the partials are f32.

import type { SizeExpr } from '../plan.js';
import {
  type GroupShape,
  type KernelBuffer,
  kernelPrelude,
  loadFrom,
  type LowRankKernel,
  mainOpening,
  tensorRow,
  tensorUnitWords,
  WORKGROUP,
} from './emit-lowrank-attend.js';

export interface ProjectionArrays {
  /** Buffer variables (WGSL names) and word offsets. */
  readonly k: { readonly buffer: string; readonly base: SizeExpr };
  readonly v: { readonly buffer: string; readonly base: SizeExpr };
  readonly e: { readonly buffer: string; readonly base: SizeExpr };
  readonly f: { readonly buffer: string; readonly base: SizeExpr };
  readonly partial: { readonly buffer: string; readonly base: SizeExpr };
}

export function emitLinformerProject(
  shape: GroupShape,
  layout: 'bhnd' | 'bnhd',
  rank: number,
  chunk: number,
  maxSeq: number,
  buffers: readonly KernelBuffer[],
  arrays: ProjectionArrays,
): LowRankKernel {
  const W = shape.width;
  const vec = W === 4 ? 'vec4<f32>' : 'f32';
  const zero = W === 4 ? 'vec4<f32>(0.0)' : '0.0';
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
  const kRowAt = (n: string) =>
    tensorRow(layout, 'P.kBase', 'hk', 'TOTAL_KV_HEADS', 'P.seqK', n, 'DW');
  const vRowAt = (n: string) =>
    tensorRow(layout, 'P.vBase', 'hk', 'TOTAL_KV_HEADS', 'P.seqK', n, 'DVW');
  const L = kernelPrelude('linformer projection, one key chunk', shape, uniforms, buffers);
  L.push(
    `const RANK: u32 = ${rank}u;`,
    `const CHUNK: u32 = ${chunk}u;`,
    `const MAX_SEQ: u32 = ${maxSeq}u;`,
    `const ROW_TILES: u32 = ${rowTiles}u;`,
    '',
    ...mainOpening('tiles'),
    '  let hkl = bh % KV_HEADS;',
    '  let b = bh / KV_HEADS;',
    '  let hk = KV_HEAD_OFFSET + hkl;',
    '  let c = tile / ROW_TILES;',
    '  let t = (tile % ROW_TILES) * WG + lid;',
    '  if (t >= RANK) { return; }',
    `  var accK: array<${vec}, DW>;`,
    `  var accV: array<${vec}, DVW>;`,
    `  for (var d = 0u; d < DW; d++) { accK[d] = ${zero}; }`,
    `  for (var d = 0u; d < DVW; d++) { accV[d] = ${zero}; }`,
    '  let eRow = P.eBase + (hk * RANK + t) * MAX_SEQ;',
    '  let fRow = P.fBase + (hk * RANK + t) * MAX_SEQ;',
    '  let n0 = c * CHUNK;',
    '  let n1 = min(n0 + CHUNK, P.seqK);',
    '  // (Four keys per step, sharing accumulator loads, was ~25% slower on llvmpipe.)',
    '  for (var n = n0; n < n1; n++) {',
    `    let e = ${arrays.e.buffer}[eRow + n];`,
    `    let f = ${arrays.f.buffer}[fRow + n];`,
    `    let kRow = ${kRowAt('n')};`,
    `    let vRow = ${vRowAt('n')};`,
    `    for (var d = 0u; d < DW; d++) { accK[d] += e * ${loadFrom(buffers, arrays.k.buffer, 'kRow + d')}; }`,
    `    for (var d = 0u; d < DVW; d++) { accV[d] += f * ${loadFrom(buffers, arrays.v.buffer, 'vRow + d')}; }`,
    '  }',
    '  // Partial row t of chunk c: [B, KV_HEADS, chunks, RANK, DW + DVW].',
    '  let out = P.partialBase + (((b * KV_HEADS + hkl) * P.chunks + c) * RANK + t) * (DW + DVW);',
    `  for (var d = 0u; d < DW; d++) { ${arrays.partial.buffer}[out + d] = accK[d]; }`,
    `  for (var d = 0u; d < DVW; d++) { ${arrays.partial.buffer}[out + DW + d] = accV[d]; }`,
    '}',
  );
  return { wgsl: L.join('\n') + '\n', workgroupSize: WORKGROUP, uniforms };
}

export function emitLinformerReduce(
  shape: GroupShape,
  rank: number,
  chunk: number,
  buffer: KernelBuffer,
  partialBase: SizeExpr,
  projectedBase: SizeExpr,
): LowRankKernel {
  const W = shape.width;
  const zero = W === 4 ? 'vec4<f32>(0.0)' : '0.0';
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
  const L = kernelPrelude('linformer projection, sum of chunks', shape, uniforms, [buffer]);
  const s = buffer.name;
  L.push(
    `const RANK: u32 = ${rank}u;`,
    `const ROW: u32 = ${rowWords}u;`,
    '',
    ...mainOpening('tiles'),
    '  let x = linear * WG + lid;',
    '  if (x >= P.elements) { return; }',
    '  // x indexes [B, KV_HEADS, RANK, ROW]; its chunk partials are RANK * ROW apart.',
    '  let head = x / (RANK * ROW);',
    '  let inHead = x % (RANK * ROW);',
    '  let first = P.partialBase + head * P.chunks * RANK * ROW + inHead;',
    `  var sum = ${zero};`,
    `  for (var c = 0u; c < P.chunks; c++) { sum += ${s}[first + c * RANK * ROW]; }`,
    `  ${s}[P.projectedBase + x] = sum;`,
    '}',
  );
  return { wgsl: L.join('\n') + '\n', workgroupSize: WORKGROUP, uniforms };
}
