// A compact text form of the kernel IR for `attnc explain --kernels` and its goldens: the
// declarations one a line, then `main` as an indented outline. Expressions read as the WGSL
// they render to. Sizes the host computes print as formulas over batch, seqQ and seqK.

import type { SizeExpr } from '../codegen/plan.js';
import type { Kernel, Stmt } from './ir.js';
import { unreachableKernelNode } from './ir.js';
import { renderExpr, renderType } from './render-wgsl.js';
import { deriveLoopIterations } from './loop-bound.js';

export function printKernel(name: string, kernel: Kernel): string {
  const grid = kernel.grid;
  const lines = [
    `kernel ${name}`,
    ...kernel.header.map((h) => `  // ${h}`),
    ...kernel.consts.map((c) => `  const ${c.name}: ${renderType(c.type)} = ${expr(c.value)}`),
    ...kernel.uniforms.map((u) => `  uniform ${u.name} = ${printSize(u.value)}`),
    ...kernel.bindings.map(
      (b) => `  storage ${b.binding} ${b.name}: ${b.access} array<${renderType(b.element)}>`,
    ),
    ...kernel.workgroupVars.map((w) => `  workgroup ${w.name}: ${renderType(w.type)}`),
    ...kernel.functions.flatMap((fn) => [
      `  fn ${fn.name}(${fn.params.map((p) => `${p.name}: ${renderType(p.type)}`).join(', ')})` +
        (fn.returns ? ` -> ${renderType(fn.returns)}` : ''),
      ...printStatements(fn.body, 2),
    ]),
    ...(kernel.inputs ?? []).map(
      (i) => `  input ${i.name}: ${renderType(i.type)} = builtin ${i.builtin}`,
    ),
    `  main workgroup_size ${kernel.workgroupSize}, ${grid.kind} ${grid.index}` +
      (grid.bound ? ` < P.${grid.bound}` : '') +
      printLoopBound(kernel),
    ...printStatements(kernel.body, 2),
  ];
  return lines.join('\n') + '\n';
}

const expr = renderExpr;

function printStatements(stmts: readonly Stmt[], depth: number): string[] {
  return stmts.flatMap((s) => printStatement(s, depth));
}

function printStatement(s: Stmt, depth: number): string[] {
  const pad = '  '.repeat(depth);
  const nested = (body: readonly Stmt[]) => printStatements(body, depth + 1);
  const typed = (t: Stmt & { kind: 'let' | 'var' }) => (t.type ? `: ${renderType(t.type)}` : '');
  switch (s.kind) {
    case 'let':
      return [`${pad}let ${s.name}${typed(s)} = ${expr(s.value)}`];
    case 'var':
      return [`${pad}var ${s.name}${typed(s)}${s.value ? ` = ${expr(s.value)}` : ''}`];
    case 'assign':
      return [`${pad}${expr(s.target)} = ${expr(s.value)}`];
    case 'compound':
      return [`${pad}${expr(s.target)} ${s.op} ${expr(s.value)}`];
    case 'increment':
      return [`${pad}${expr(s.target)}${s.op}`];
    case 'if': {
      const otherwise = s.else === null ? [] : Array.isArray(s.else) ? s.else : [s.else as Stmt];
      return [
        `${pad}if ${expr(s.cond)}`,
        ...nested(s.then),
        ...(s.else === null ? [] : [`${pad}else`, ...nested(otherwise)]),
      ];
    }
    case 'for': {
      const [init] = printStatement(s.init, 0);
      const [update] = printStatement(s.update, 0);
      return [`${pad}for ${init}; ${expr(s.cond)}; ${update}`, ...nested(s.body)];
    }
    case 'while':
      return [`${pad}while ${expr(s.cond)}`, ...nested(s.body)];
    case 'loop':
      return [`${pad}loop`, ...nested(s.body)];
    case 'break':
    case 'continue':
      return [`${pad}${s.kind}`];
    case 'return':
      return [`${pad}return${s.value ? ` ${expr(s.value)}` : ''}`];
    case 'barrier':
      return [`${pad}barrier ${s.scope}`];
    case 'store':
      return [`${pad}store ${s.binding}[${expr(s.index)}] = ${expr(s.value)}`];
    case 'comment':
      return [`${pad}// ${s.text}`];
    case 'blank':
      return [];
    case 'call':
      return [`${pad}${expr(s.call)}`];
    default:
      return unreachableKernelNode(s);
  }
}

/** A host size as a formula: `batch * (ceilDiv(seqQ, 64) + ceilDiv(seqK, 64))`. */
export function printSize(e: SizeExpr, parent: 'add' | 'mul' | 'subtrahend' | null = null): string {
  if (typeof e === 'number') return String(e);
  if (typeof e === 'string') return e;
  switch (e.op) {
    case 'add':
    case 'sub': {
      // The subtrahend keeps its parentheses: a - (b + c).
      const text = e.args
        .map((a, i) => printSize(a, e.op === 'sub' && i > 0 ? 'subtrahend' : 'add'))
        .join(e.op === 'add' ? ' + ' : ' - ');
      return parent === 'mul' || parent === 'subtrahend' ? `(${text})` : text;
    }
    case 'mul':
      return e.args.map((a) => printSize(a, 'mul')).join(' * ');
    case 'min':
    case 'max':
    case 'ceilDiv':
      return `${e.op}(${e.args.map((a) => printSize(a)).join(', ')})`;
    default:
      return unreachableKernelNode(e.op);
  }
}

/** The builder's bound, or the one derived from the loops (loop-bound.ts), marked so. */
function printLoopBound(kernel: Kernel): string {
  if (kernel.loopIterations !== undefined)
    return `, loop iterations <= ${printSize(kernel.loopIterations)}`;
  const derived = deriveLoopIterations(kernel);
  return derived.kind === 'bounded'
    ? `, loop iterations <= ${printSize(derived.iterations)} (derived)`
    : `, loop iterations unknown (${derived.where})`;
}
