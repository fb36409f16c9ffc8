// What the linear-attention output kernel's template still writes as text: the Params struct,
// storage declarations and the opening of `main`; and the linear IR blocks
// (codegen/kernels/linear-blocks.ts: constants, loads, row addressing, phi) rendered to WGSL
// lines by the one renderer. The states kernel builds IR directly; this module goes away when
// the output kernel does too.

import { block, raw, T } from '../../kernel/build.js';
import {
  renderConsts,
  renderExpr,
  renderFunction,
  renderStatements,
} from '../../kernel/render-wgsl.js';
import type { LinearPlan } from '../../ir/ir.js';
import { rowIndex as layoutRowIndex } from '../../kernel/blocks/layout.js';
import * as blocks from '../kernels/linear-blocks.js';
import type { LinearBinding, LinearShape, Uniforms } from '../linear-shape.js';
import { paramsStructLines } from './params-struct.js';

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

export function linearConstants(shape: LinearShape): string[] {
  return renderConsts(blocks.linearConstants(shape));
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

/** `loadFunction` of linear-blocks.ts as WGSL text. */
export function loadFunction(
  shape: LinearShape,
  name: string,
  buffer: string,
  base: string,
): string {
  return renderFunction(blocks.loadFunction(shape, name, buffer, base)).join('\n');
}

/** WGSL text of `rowIndex` over names and expressions given as text. */
export function rowIndex(
  bhnd: boolean,
  heads: string,
  seq: string,
  width: string,
  b: string,
  head: string,
  pos: string,
): string {
  const text = (x: string) => raw(T.u32, x);
  return renderExpr(
    layoutRowIndex(
      bhnd ? 'bhnd' : 'bnhd',
      text(heads),
      text(seq),
      text(width),
      text(b),
      text(head),
      text(pos),
    ),
  );
}

/** `phiBlock` as lines at `indent`; `target(fw)` is the WGSL of where vector fw goes. */
export function phiBlock(
  shape: LinearShape,
  options: {
    readonly indent: string;
    readonly t0w: string;
    readonly row: string;
    readonly load: string;
    readonly tag: string;
    readonly target: (fw: string) => string;
  },
): string[] {
  const { vec } = blocks.linearVector(shape);
  const stmts = block((b) =>
    blocks.phiBlock(b, shape, {
      t0w: raw(T.u32, options.t0w),
      row: raw(T.u32, options.row),
      load: options.load,
      tag: options.tag,
      target: (fw) => raw(vec, options.target(renderExpr(fw))),
    }),
  );
  return renderStatements(stmts, options.indent.length / 2);
}

/** `favorRowPrelude` as lines at `indent`. */
export function favorRowPrelude(
  shape: LinearShape,
  indent: string,
  row: string,
  load: string,
  tag: string,
): string[] {
  const stmts = block((b) => blocks.favorRowPrelude(b, shape, raw(T.u32, row), load, tag));
  return renderStatements(stmts, indent.length / 2);
}

/** Dispatches fold (batch, head, tile) into up to two dimensions. */
export const LINEAR_INDEX = 'let linear = wid.x + wid.y * nwg.x;';

export const MAIN_BUILTINS = [
  '  @builtin(workgroup_id) wid: vec3<u32>,',
  '  @builtin(num_workgroups) nwg: vec3<u32>,',
  '  @builtin(local_invocation_index) lid: u32,',
];
