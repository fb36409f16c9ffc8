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
import { size } from '../plan.js';
import { UNROLLED_TRIPS } from '../../kernel/blocks/short-loops.js';
import { constantLoopCost } from './loop-budget.js';
import {
  keptRowDeclarations,
  keptRowSelection,
  keptRowUniforms,
  type RoutedRowsArrays,
  routedTileBound,
} from './emit-head-routing.js';
import { raw, T } from '../../kernel/build.js';
import { renderConsts, renderExpr } from '../../kernel/render-wgsl.js';
import {
  type GroupShape,
  type KernelBuffer,
  lowRankConstants,
  tensorRow as tensorRowExpr,
  WORKGROUP,
} from '../kernels/lowrank-blocks.js';
import { PACK_ROW_WGSL, UNPACK_ROW_WGSL } from './kernel-ir-pieces.js';
import { f32Lit } from '../../kernel/f32-literal.js';
import { paramsStructLines } from './params-struct.js';

// The shapes moved to kernels/lowrank-blocks.ts; the nystrom emitter and the plan read them here.
export type { GroupShape, KernelBuffer };
export { tensorUnitWords, WORKGROUP } from '../kernels/lowrank-blocks.js';

export interface LowRankKernel {
  readonly wgsl: string;
  readonly workgroupSize: number;
  readonly uniforms: readonly { readonly name: string; readonly value: SizeExpr }[];
  /** An upper bound of one invocation's loop iterations (docs/runtime.md, "llvmpipe's loop budget"). */
  readonly loopIterations?: SizeExpr;
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

/** Constants, Params and buffer declarations every low-rank kernel opens with. */
export function kernelPrelude(
  title: string,
  shape: GroupShape,
  uniforms: readonly { readonly name: string }[],
  buffers: readonly KernelBuffer[],
): string[] {
  const L = [
    `// attnc low-rank: ${title}; attention ${shape.attention}, group ${shape.group}`,
    ...renderConsts(lowRankConstants(shape)),
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
  /** The same count as a size expression, for the loop-iteration bound. */
  readonly keyCount: SizeExpr;
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
  const DW = spec.shape.headDim / W;
  const DVW = spec.shape.valueDim / W;
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
    ...shortLoops('DW', DW, (d) => `s += ${dot(`qv[${d}]`, load(spec.keyBuffer, `kRow + ${d}`))};`),
    '    // Lazy rescale: only when the running max grows (the first key rescales 0 by 0).',
    '    // (Two or four keys per step were 20-40% slower on llvmpipe.)',
    '    if (s > m) {',
    '      let c = exp2(m - s);',
    '      l *= c;',
    ...shortLoops('DVW', DVW, (d) => `acc[${d}] *= c;`).map((line) => `  ${line}`),
    '      m = s;',
    '    }',
    '    let w = exp2(s - m);',
    '    l += w;',
    ...shortLoops('DVW', DVW, (d) => `acc[${d}] += w * ${load(spec.valueBuffer, `vRow + ${d}`)};`),
    '  }',
    `  let inv = select(0.0, 1.0 / l, l > 0.0)${routing ? ' * routeWeight' : ''};`,
    `  for (var d = 0u; d < DVW; d++) { ${storeTo(spec.buffers, spec.outputBuffer, 'oRow + d', 'acc[d] * inv')} }`,
    '}',
  );
  // Per key a step (its row loops unrolled); per row the q, acc and output loops, the key
  // loop's exit and, with head routing, the kept-row search.
  const perRow = constantLoopCost(DW) + 2 * constantLoopCost(DVW) + 1 + (routing ? 64 : 0);
  const loopIterations = size.add(spec.keyCount, perRow);
  return { wgsl: L.join('\n') + '\n', workgroupSize: WORKGROUP, uniforms, loopIterations };
}

/**
 * `for (var d = 0u; d < count; d++) { body }` (4 spaces in) as loops of at most
 * UNROLLED_TRIPS constant trips, which Mesa unrolls: the text form of
 * src/kernel/blocks/short-loops.ts for this template.
 */
function shortLoops(count: string, trips: number, body: (d: string) => string): string[] {
  const lines: string[] = [];
  for (let start = 0; start < trips || start === 0; start += UNROLLED_TRIPS) {
    const end = start + UNROLLED_TRIPS >= trips ? count : `${start + UNROLLED_TRIPS}u`;
    lines.push(`    for (var d = ${start}u; d < ${end}; d++) { ${body('d')} }`);
  }
  return lines;
}

/** Workgroups of a (batch, heads, ceil(rows / WORKGROUP)) grid. */
export function totalOf(heads: number, rows: SizeExpr): SizeExpr {
  return { op: 'mul', args: ['batch', heads, { op: 'ceilDiv', args: [rows, WORKGROUP] }] };
}

/** lowrank-blocks.ts's `tensorRow` over names and expressions given as WGSL text. */
export function tensorRow(
  layout: 'bhnd' | 'bnhd',
  base: string,
  head: string,
  totalHeads: string,
  seq: string,
  row: string,
  width: string,
): string {
  const text = (x: string) => raw(T.u32, x);
  return renderExpr(
    tensorRowExpr(
      layout,
      text(base),
      text(head),
      text(totalHeads),
      text(seq),
      text(row),
      text(width),
    ),
  );
}
