// The small softmax attention every low-rank program ends with (and nystrom also uses for its
// landmark values): each invocation owns one query row and walks a list of key rows with an
// online softmax in exp2 (lazy rescale, as in emit-softmax.ts), accumulating the value rows.
// Where the rows come from is given as WGSL index expressions, so one emitter serves
//   linformer: q (layout) over the r projected rows K', V';
//   nystrom:   q (layout) over the m landmark keys and mixed values, and
//              the m query landmarks over all Nk keys (layout) -> landmark values.
// No workgroup memory and no barriers: valid under every profile, rows past the end return.
// Under dtype f16, q/k/v/o rows are vec4s of halves packed in `vec2<u32>` (no adapter here has
// shader-f16); the buffer's declared element says how each row is read and written, so the
// index expressions stay in row-vector units either way and all arithmetic stays f32.

import type { SizeExpr } from '../plan.js';
import {
  keptRowDeclarations,
  keptRowSelection,
  keptRowUniforms,
  type RoutedRowsArrays,
  routedTileBound,
} from './emit-head-routing.js';
import { PACK_ROW_WGSL, UNPACK_ROW_WGSL } from './kernel-ir-pieces.js';
import { f32Lit } from './f32-literal.js';
import { paramsStructLines } from './params-struct.js';

export interface LowRankKernel {
  readonly wgsl: string;
  readonly workgroupSize: number;
  readonly uniforms: readonly { readonly name: string; readonly value: SizeExpr }[];
}

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

/** A WGSL assignment of `value` to element `index` of a declared buffer (packing halves). */
export function storeTo(
  buffers: readonly KernelBuffer[],
  name: string,
  index: string,
  value: string,
): string {
  const packed = bufferNamed(buffers, name).element === 'vec2<u32>';
  return `${name}[${index}] = ${packed ? `packRow(${value})` : value};`;
}

function bufferNamed(buffers: readonly KernelBuffer[], name: string): KernelBuffer {
  const found = buffers.find((b) => b.name === name);
  if (!found) throw new Error(`internal error: buffer ${name} is not declared`);
  return found;
}

export const WORKGROUP = 64;

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

export interface SmallAttentionSpec {
  readonly title: string;
  readonly shape: GroupShape;
  readonly scale: number;
  readonly buffers: readonly KernelBuffer[];
  /** Uniforms beyond `total` and `rowTiles` (array bases, sizes), with their values. */
  readonly uniforms: readonly { readonly name: string; readonly value: SizeExpr }[];
  /** Query rows per (batch, head). */
  readonly rows: SizeExpr;
  /** Extra `const` declarations the expressions below use. */
  readonly constants: readonly string[];
  /** WGSL expression: the number of key rows each query walks. */
  readonly keys: string;
  /**
   * WGSL expressions (in units of the row vector) over `b`, `hl`, `h`, `hkl`, `hk`, `row`
   * and, for keys and values, `j`.
   */
  readonly queryRow: string;
  readonly keyRow: string;
  readonly valueRow: string;
  readonly outputRow: string;
  readonly queryBuffer: string;
  readonly keyBuffer: string;
  readonly valueBuffer: string;
  readonly outputBuffer: string;
  /**
   * Head routing (query rows of q only): walk the kept-row lists in `aux` instead of every row,
   * scaling each row by its routing weight (emit-head-routing.ts).
   */
  readonly headRouting?: {
    readonly arrays: RoutedRowsArrays;
    readonly aux: { readonly name: string; readonly binding: number };
  };
}

export function emitSmallAttention(spec: SmallAttentionSpec): LowRankKernel {
  const W = spec.shape.width;
  const vec = W === 4 ? 'vec4<f32>' : 'f32';
  const zero = W === 4 ? 'vec4<f32>(0.0)' : '0.0';
  const dot = (a: string, b: string) => (W === 4 ? `dot(${a}, ${b})` : `${a} * ${b}`);
  const load = (buffer: string, index: string) => loadFrom(spec.buffers, buffer, index);
  const uniforms = [
    { name: 'total', value: totalOf(spec.shape.heads, spec.rows) },
    { name: 'rowTiles', value: { op: 'ceilDiv', args: [spec.rows, WORKGROUP] } as SizeExpr },
    { name: 'rows', value: spec.rows },
    ...spec.uniforms,
  ];
  const routing = spec.headRouting;
  if (routing) {
    uniforms[0] = {
      name: 'total',
      value: routedTileBound(routing.arrays, spec.shape.heads, WORKGROUP),
    };
    uniforms.push(...keptRowUniforms(routing.arrays));
  }
  const L = kernelPrelude(spec.title, spec.shape, uniforms, spec.buffers);
  const read = (index: string) => `${routing?.aux.name}[${index}]`;
  if (routing)
    L.push(
      `@group(0) @binding(${routing.aux.binding}) var<storage, read> ${routing.aux.name}: array<u32>;`,
      ...keptRowDeclarations(read, false),
    );
  L.push(...spec.constants, '', ...mainOpening('rowTiles'));
  L.push(
    ...(routing
      ? [
          ...keptRowSelection(read, WORKGROUP, false),
          '  let hkl = hl / GROUP_SIZE;',
          '  let hk = KV_HEAD_OFFSET + hkl;',
          '  let row = routeRow;',
        ]
      : [
          '  let hl = bh % HEADS;',
          '  let b = bh / HEADS;',
          '  let h = HEAD_OFFSET + hl;',
          '  let hkl = hl / GROUP_SIZE;',
          '  let hk = KV_HEAD_OFFSET + hkl;',
          '  let row = tile * WG + lid;',
          '  if (row >= P.rows) { return; }',
        ]),
    `  let qRow = ${spec.queryRow};`,
    `  let oRow = ${spec.outputRow};`,
    '  // q pre-scaled by scale * log2(e): the softmax runs in exp2.',
    `  var qv: array<${vec}, DW>;`,
    `  var acc: array<${vec}, DVW>;`,
    `  for (var d = 0u; d < DW; d++) { qv[d] = ${load(spec.queryBuffer, 'qRow + d')} * ${f32Lit(spec.scale * Math.LOG2E)}; }`,
    `  for (var d = 0u; d < DVW; d++) { acc[d] = ${zero}; }`,
    '  var m = -3.0e38;',
    '  var l = 0.0;',
    `  let keys = ${spec.keys};`,
    '  for (var j = 0u; j < keys; j++) {',
    `    let kRow = ${spec.keyRow};`,
    `    let vRow = ${spec.valueRow};`,
    '    var s = 0.0;',
    `    for (var d = 0u; d < DW; d++) { s += ${dot('qv[d]', load(spec.keyBuffer, 'kRow + d'))}; }`,
    '    // Lazy rescale: only when the running max grows (the first key rescales 0 by 0).',
    '    // (Two or four keys per step were 20-40% slower on llvmpipe.)',
    '    if (s > m) {',
    '      let c = exp2(m - s);',
    '      l *= c;',
    '      for (var d = 0u; d < DVW; d++) { acc[d] *= c; }',
    '      m = s;',
    '    }',
    '    let w = exp2(s - m);',
    '    l += w;',
    `    for (var d = 0u; d < DVW; d++) { acc[d] += w * ${load(spec.valueBuffer, 'vRow + d')}; }`,
    '  }',
    `  let inv = select(0.0, 1.0 / l, l > 0.0)${routing ? ' * routeWeight' : ''};`,
    `  for (var d = 0u; d < DVW; d++) { ${storeTo(spec.buffers, spec.outputBuffer, 'oRow + d', 'acc[d] * inv')} }`,
    '}',
  );
  return { wgsl: L.join('\n') + '\n', workgroupSize: WORKGROUP, uniforms };
}

/** Workgroups of a (batch, heads, ceil(rows / WORKGROUP)) grid. */
export function totalOf(heads: number, rows: SizeExpr): SizeExpr {
  return { op: 'mul', args: ['batch', heads, { op: 'ceilDiv', args: [rows, WORKGROUP] }] };
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
