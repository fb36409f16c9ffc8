// What the three linear-attention kernels share: constants of the group, storage declarations,
// loads of q/k/v in units of the plan's vector width W (f32, or f16 halves packed two per u32),
// row addressing for both layouts, and the feature map phi emitted inline on W features at a
// time. phi is only ever computed into registers or workgroup memory, never into a storage
// buffer. States are addressed in W-element units too: S row t is DV / W vectors, z follows.

import type { Attention, FeatureMap, Group, LinearPlan } from '../../ir/ir.js';
import { featureDim } from '../../ir/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import { f32Lit } from './f32-literal.js';
import { paramsStructLines } from './params-struct.js';

/** A storage binding: WGSL variable name and binding number (q/k/v may share one). */
export interface LinearBinding {
  readonly name: string;
  readonly binding: number;
}

/** The shapes every linear kernel of a group is specialized for. */
export interface LinearShape {
  readonly attention: Attention;
  readonly group: Group;
  readonly map: FeatureMap;
  readonly plan: LinearPlan;
  readonly causal: boolean;
}

export type Uniforms = { name: string; value: SizeExpr }[];

/** Words of one state slot: S (features x value_dim) then z (features). */
export function slotWords(features: number, valueDim: number): number {
  return features * (valueDim + 1);
}

/** The vector type of the plan, its zero, and a dot product that also works on scalars. */
export function vectorTypes(plan: LinearPlan): {
  vec: string;
  zero: string;
  dot: (a: string, b: string) => string;
} {
  return plan.vectorWidth === 4
    ? { vec: 'vec4<f32>', zero: 'vec4<f32>(0.0)', dot: (a, b) => `dot(${a}, ${b})` }
    : { vec: 'f32', zero: '0.0', dot: (a, b) => `(${a} * ${b})` };
}

/** A word offset (multiple of 4) in units of the plan's vectors, for f32 arrays. */
export function inVectors(words: SizeExpr, plan: LinearPlan): SizeExpr {
  return plan.vectorWidth === 1 ? words : size.ceilDiv(words, plan.vectorWidth);
}

export function linearConstants(shape: LinearShape): string[] {
  const { attention, group, plan, map } = shape;
  const features = featureDim(map, attention.headDim);
  const W = plan.vectorWidth;
  const lines = [
    `const W: u32 = ${W}u;`,
    `const D: u32 = ${attention.headDim}u;`,
    `const DV: u32 = ${attention.valueDim}u;`,
    `const DPHI: u32 = ${features}u;`,
    `const DW: u32 = ${attention.headDim / W}u;`,
    `const DVW: u32 = ${attention.valueDim / W}u;`,
    `const DPHIW: u32 = ${features / W}u;`,
    `// One state slot in vectors: S (DPHI rows of DVW) then z (DPHIW).`,
    `const SLOT: u32 = ${slotWords(features, attention.valueDim) / W}u;`,
    `const ZOFF: u32 = ${(features * attention.valueDim) / W}u;`,
    `const C: u32 = ${plan.chunk}u;`,
    `const F: u32 = ${plan.featureBlock}u;`,
    `const FW: u32 = ${plan.featureBlock / W}u;`,
    `const HEADS: u32 = ${group.heads}u;`,
    `const KV_HEADS: u32 = ${group.kvHeads}u;`,
    `const GROUP_SIZE: u32 = ${group.heads / group.kvHeads}u;`,
    `const HEAD_OFFSET: u32 = ${group.headOffset}u;`,
    `const KV_HEAD_OFFSET: u32 = ${group.kvHeadOffset}u;`,
    `const TOTAL_HEADS: u32 = ${attention.heads}u;`,
    `const TOTAL_KV_HEADS: u32 = ${attention.kvHeads}u;`,
  ];
  if (map.kind === 'favor') {
    lines.push(
      `// FAVOR+: x' = x D^(-1/4); phi(x)_t = exp(W_t·x' - |x'|^2/2) / sqrt(m) (no stabilizer, as the reference).`,
      `const IN_SCALE: f32 = ${f32Lit(Math.pow(attention.headDim, -0.25))};`,
      `const OUT_SCALE: f32 = ${f32Lit(1 / Math.sqrt(map.features))};`,
    );
  }
  return lines;
}

export function paramsStruct(uniforms: Uniforms): string[] {
  return [...paramsStructLines(uniforms), ''];
}

/**
 * Storage declarations, one per distinct binding; `tensor` arrays are q/k/v/o (vectors of the
 * plan, or u32 words of packed halves under dtype f16), `state` the group's f32 states (and
 * FAVOR+'s W) as vectors of the plan.
 */
export function declareBindings(
  shape: LinearShape,
  decls: readonly {
    binding: LinearBinding;
    access: 'read' | 'read_write';
    kind: 'tensor' | 'state';
  }[],
): string[] {
  const { vec } = vectorTypes(shape.plan);
  const f16 = shape.attention.dtype === 'f16';
  const seen = new Set<string>();
  const lines = ['@group(0) @binding(0) var<uniform> P: Params;'];
  for (const { binding, access, kind } of decls) {
    if (seen.has(binding.name)) continue;
    seen.add(binding.name);
    const element = kind === 'tensor' && f16 ? 'u32' : vec;
    lines.push(
      `@group(0) @binding(${binding.binding}) var<storage, ${access}> ${binding.name}: array<${element}>;`,
    );
  }
  return lines;
}

/**
 * `fn NAME(e: u32) -> VEC`: vector `e` (in units of W elements) of a tensor whose offset is the
 * uniform `base` (vectors under f32, words under f16, where a vector is one or two words of
 * packed halves).
 */
export function loadFunction(
  shape: LinearShape,
  name: string,
  buffer: string,
  base: string,
): string {
  const { vec } = vectorTypes(shape.plan);
  if (shape.attention.dtype !== 'f16')
    return `fn ${name}(e: u32) -> ${vec} { return ${buffer}[P.${base} + e]; }`;
  if (shape.plan.vectorWidth === 4) {
    return (
      `fn ${name}(e: u32) -> vec4<f32> {\n` +
      `  let a = P.${base} + 2u * e;\n` +
      `  return vec4<f32>(unpack2x16float(${buffer}[a]), unpack2x16float(${buffer}[a + 1u]));\n` +
      `}`
    );
  }
  return (
    `fn ${name}(e: u32) -> f32 {\n` +
    `  let w = unpack2x16float(${buffer}[P.${base} + (e >> 1u)]);\n` +
    `  return select(w.x, w.y, (e & 1u) == 1u);\n` +
    `}`
  );
}

/** Offset uniform of a tensor: vectors under f32, words under f16. */
export function tensorBase(shape: LinearShape, words: SizeExpr): SizeExpr {
  return shape.attention.dtype === 'f16' ? words : inVectors(words, shape.plan);
}

/**
 * Index (in vectors) of row (b, head, position) of a `[B, H, N, W]` (bhnd) or `[B, N, H, W]`
 * tensor whose rows are `width` vectors.
 */
export function rowIndex(
  bhnd: boolean,
  heads: string,
  seq: string,
  width: string,
  b: string,
  head: string,
  pos: string,
): string {
  return bhnd
    ? `((${b} * ${heads} + ${head}) * ${seq} + ${pos}) * ${width}`
    : `((${b} * ${seq} + ${pos}) * ${heads} + ${head}) * ${width}`;
}

/**
 * FW again, as a run-time uniform, for the feature loops (phi blocks and the state rows).
 * Mesa fully unrolls a loop with a constant bound, and the unrolled feature loops of a
 * linear output kernel kept llvmpipe's LLVM compiling for over ten minutes (cold cache);
 * with this bound each kernel compiles in seconds. The loops inside stay unrolled.
 */
export function featureRowsUniform(plan: LinearShape['plan']): { name: string; value: number } {
  return { name: 'featureRows', value: plan.featureBlock / plan.vectorWidth };
}

/**
 * Inline code computing the phi vectors `t0w + fw` (fw < FW, in units of W features) of a row
 * and handing each to `store`. Elementwise maps read vector `t` of the row through `load`;
 * FAVOR+ needs the row in the private array `x<tag>` (DW vectors) and its `halfNorm<tag>` (see
 * `favorRowPrelude`), and reads W from `lin` at `P.wBase`. Vectors past DPHIW (a partial last
 * block) are 0, so they add nothing.
 */
export function phiBlock(
  shape: LinearShape,
  options: {
    readonly indent: string;
    readonly t0w: string;
    readonly row: string;
    readonly load: string;
    readonly tag: string;
    readonly store: (fw: string, value: string) => string;
  },
): string[] {
  const { map, plan, attention } = shape;
  const features = featureDim(map, attention.headDim);
  const partial = features % plan.featureBlock !== 0;
  const { vec, zero } = vectorTypes(plan);
  const { indent, t0w, row, load, tag, store } = options;
  const guard = (value: string) => (partial ? `select(${zero}, ${value}, t < DPHIW)` : value);
  const clamped = partial ? 'min(t, DPHIW - 1u)' : 't';
  const lines: string[] = [];
  const e = (line: string) => lines.push(indent + line);
  e('for (var fw = 0u; fw < P.featureRows; fw++) {');
  e(`  let t = ${t0w} + fw;`);
  switch (map.kind) {
    case 'elu1':
      e(`  let x = ${load}(${row} + ${clamped});`);
      e(`  ${store('fw', guard(`select(exp(x), x + 1.0, x > ${zero})`))}`);
      break;
    case 'relu':
      e(`  let x = ${load}(${row} + ${clamped});`);
      e(`  ${store('fw', guard(`max(x, ${zero})`))}`);
      break;
    case 'favor': {
      e(`  let w0 = P.wBase + ${clamped} * W * DW;`);
      e(`  var s = ${zero};`);
      if (plan.vectorWidth === 4) {
        e('  for (var x = 0u; x < DW; x++) {');
        e(`    let xv = x${tag}[x];`);
        e(
          '    s += vec4<f32>(dot(lin[w0 + x], xv), dot(lin[w0 + DW + x], xv), ' +
            'dot(lin[w0 + 2u * DW + x], xv), dot(lin[w0 + 3u * DW + x], xv));',
        );
        e('  }');
      } else {
        e(`  for (var x = 0u; x < DW; x++) { s += lin[w0 + x] * x${tag}[x]; }`);
      }
      e(`  ${store('fw', guard(`exp(s * IN_SCALE - ${vec}(halfNorm${tag})) * OUT_SCALE`))}`);
      break;
    }
    default: {
      const never: never = map;
      throw new Error(`internal error: feature map ${JSON.stringify(never)}`);
    }
  }
  e('}');
  return lines;
}

/** FAVOR+ only: the row into `x<tag>` (DW vectors) and `halfNorm<tag> = |x'|^2 / 2`. */
export function favorRowPrelude(
  shape: LinearShape,
  indent: string,
  row: string,
  load: string,
  tag: string,
): string[] {
  const { vec, dot } = vectorTypes(shape.plan);
  return [
    `${indent}var x${tag}: array<${vec}, DW>;`,
    `${indent}var norm${tag} = 0.0;`,
    `${indent}for (var d = 0u; d < DW; d++) { let x = ${load}(${row} + d); x${tag}[d] = x; norm${tag} += ${dot('x', 'x')}; }`,
    `${indent}let halfNorm${tag} = norm${tag} * IN_SCALE * IN_SCALE * 0.5;`,
  ];
}

/** Dispatches fold (batch, head, tile) into up to two dimensions. */
export const LINEAR_INDEX = 'let linear = wid.x + wid.y * nwg.x;';

export const MAIN_BUILTINS = [
  '  @builtin(workgroup_id) wid: vec3<u32>,',
  '  @builtin(num_workgroups) nwg: vec3<u32>,',
  '  @builtin(local_invocation_index) lid: u32,',
];
