// The WGSL renderer: the only module that turns kernel IR into WGSL text. It writes the
// `enable` directives the kernel's features need (features.ts), the header and constants,
// the Params uniform struct, the bindings, workgroup memory, helpers and `main` with its grid
// decoding (blocks/grid.ts). Two-space indents, one statement a line, parentheses only where
// precedence needs them or the IR asks for them (`paren`).

import { f32Lit, f32ScientificLit } from './f32-literal.js';
import { gridStatements } from './blocks/grid.js';
import { kernelFeatures, type KernelFeature } from './features.js';
import type { BinaryOp, Expr, HelperFunction, Kernel, KernelConst, Stmt, Type } from './ir.js';
import { mainInputs, unreachableKernelNode } from './ir.js';

export function renderKernel(kernel: Kernel): string {
  const top = [
    ...kernel.header.map((line) => `// ${line}`),
    ...renderConsts(kernel.consts.filter((c) => !c.beforeMain)),
  ];
  const params = ['struct Params {', ...kernel.uniforms.map((u) => `  ${u.name}: u32,`), '}'];
  const uniform = '@group(0) @binding(0) var<uniform> P: Params;';
  const storage = kernel.bindings.map(
    (b) =>
      `@group(0) @binding(${b.binding}) var<storage, ${b.access}> ${b.name}: ${renderType({ kind: 'array', element: b.element, length: null })};`,
  );
  const declarations = kernel.compactDeclarations
    ? [[...top, ...storage, ...params, uniform]]
    : [top, params, [uniform, ...storage]];
  const sections: string[][] = [
    enableDirectives(kernelFeatures(kernel)),
    ...declarations,
    kernel.workgroupVars.flatMap((w) => [
      ...blankLines(w.blankBefore),
      ...docLines(w.doc),
      `var<workgroup> ${w.name}: ${renderType(w.type)};`,
    ]),
    kernel.functions.flatMap((fn) => [...blankLines(fn.blankBefore), ...renderFunction(fn)]),
    renderConsts(kernel.consts.filter((c) => c.beforeMain)),
    renderMain(kernel),
  ];
  return (
    sections
      .filter((s) => s.length > 0)
      .map((s) => s.join('\n'))
      .join('\n\n') + '\n'
  );
}

/** The `enable` directives of the features a kernel uses. */
export function enableDirectives(features: readonly KernelFeature[]): string[] {
  return [
    ...(features.includes('shader-f16') ? ['enable f16;'] : []),
    ...(features.includes('subgroups') ? ['enable subgroups;'] : []),
  ];
}

/** Module-scope constants, each after its doc comment lines. */
export function renderConsts(consts: readonly KernelConst[]): string[] {
  return consts.flatMap((c) => [
    ...docLines(c.doc),
    `const ${c.name}: ${renderType(c.type)} = ${renderExpr(c.value)};`,
  ]);
}

function blankLines(count: number | undefined): string[] {
  return new Array<string>(count ?? 0).fill('');
}

function docLines(doc: readonly string[] | undefined): string[] {
  return (doc ?? []).map((line) => `// ${line}`);
}

export function renderFunction(fn: HelperFunction): string[] {
  const params = fn.params.map((p) => `${p.name}: ${renderType(p.type)}`).join(', ');
  const returns = fn.returns ? ` -> ${renderType(fn.returns)}` : '';
  if (fn.oneLine)
    return [
      ...docLines(fn.doc),
      ...renderBlock(`fn ${fn.name}(${params})${returns}`, fn.body, 0, true),
    ];
  return [
    ...docLines(fn.doc),
    `fn ${fn.name}(${params})${returns} {`,
    ...renderStatements(fn.body, 1),
    '}',
  ];
}

function renderMain(kernel: Kernel): string[] {
  const inputs = mainInputs(kernel);
  const input = (i: (typeof inputs)[number]) =>
    `@builtin(${i.builtin}) ${i.name}: ${renderType(i.type)}`;
  return [
    `@compute @workgroup_size(${kernel.workgroupSize})`,
    ...(inputs.length === 1
      ? [`fn main(${input(inputs[0]!)}) {`]
      : ['fn main(', ...inputs.map((i) => `  ${input(i)},`), ') {']),
    ...renderStatements(gridStatements(kernel.grid, kernel.workgroupSize), 1),
    ...renderStatements(kernel.body, 1),
    '}',
  ];
}

export function renderType(type: Type): string {
  switch (type.kind) {
    case 'scalar':
      return type.scalar;
    case 'vec':
      return `vec${type.size}<${type.scalar}>`;
    case 'atomic':
      return `atomic<${type.scalar}>`;
    case 'array':
      return type.length === null
        ? `array<${renderType(type.element)}>`
        : `array<${renderType(type.element)}, ${renderExpr(type.length)}>`;
    default:
      return unreachableKernelNode(type);
  }
}

// ---- statements --------------------------------------------------------------------------

const indentOf = (depth: number) => '  '.repeat(depth);

export function renderStatements(stmts: readonly Stmt[], depth: number): string[] {
  const lines: string[] = [];
  for (const s of stmts) {
    const rendered = renderStatement(s, depth);
    if ((s.kind === 'let' || s.kind === 'var' || s.kind === 'assign') && s.sameLine)
      lines.push(`${lines.pop()!} ${rendered.join('').trimStart()}`);
    else lines.push(...rendered);
  }
  return lines;
}

function renderStatement(s: Stmt, depth: number): string[] {
  const pad = indentOf(depth);
  switch (s.kind) {
    case 'if':
      return renderIf(s, depth);
    case 'for': {
      const head = `for (${renderSimple(s.init)}; ${renderExpr(s.cond)}; ${renderSimple(s.update)})`;
      return renderBlock(pad + head, s.body, depth, s.oneLine ?? false);
    }
    case 'while':
      return renderBlock(`${pad}while (${renderExpr(s.cond)})`, s.body, depth, false);
    case 'loop':
      return renderBlock(`${pad}loop`, s.body, depth, false);
    case 'blank':
      return [''];
    default:
      return [`${pad}${renderSimple(s)}${s.kind === 'comment' ? '' : ';'}`];
  }
}

function renderBlock(head: string, body: readonly Stmt[], depth: number, oneLine: boolean) {
  if (oneLine) return [`${head} { ${renderInline(body)} }`];
  return [`${head} {`, ...renderStatements(body, depth + 1), `${indentOf(depth)}}`];
}

/** The statements of a one-line block: simple ones, and one-line ifs. */
function renderInline(body: readonly Stmt[]): string {
  return body
    .map((s) => (s.kind === 'if' && s.oneLine ? renderInlineIf(s) : renderSimple(s) + ';'))
    .join(' ');
}

function renderInlineIf(s: Stmt & { kind: 'if' }): string {
  const head = `if (${renderExpr(s.cond)}) { ${renderInline(s.then)} }`;
  if (s.else === null) return head;
  if (!Array.isArray(s.else)) throw new Error('internal error: else-if in a one-line if');
  return `${head} else { ${renderInline(s.else as readonly Stmt[])} }`;
}

function renderIf(s: Stmt & { kind: 'if' }, depth: number): string[] {
  const pad = indentOf(depth);
  if (s.oneLine) return [pad + renderInlineIf(s)];
  const lines = [`${pad}if (${renderExpr(s.cond)}) {`, ...renderStatements(s.then, depth + 1)];
  let rest = s.else;
  while (rest !== null && !Array.isArray(rest)) {
    const elseIf = rest as Stmt & { kind: 'if' };
    lines.push(`${pad}} else if (${renderExpr(elseIf.cond)}) {`);
    lines.push(...renderStatements(elseIf.then, depth + 1));
    rest = elseIf.else;
  }
  if (rest !== null) lines.push(`${pad}} else {`, ...renderStatements(rest, depth + 1));
  lines.push(`${pad}}`);
  return lines;
}

/** A statement that fits on one line, without its `;`. */
function renderSimple(s: Stmt): string {
  switch (s.kind) {
    case 'let':
      return `let ${s.name}${s.type ? `: ${renderType(s.type)}` : ''} = ${renderExpr(s.value)}`;
    case 'var':
      return `var ${s.name}${s.type ? `: ${renderType(s.type)}` : ''}${s.value ? ` = ${renderExpr(s.value)}` : ''}`;
    case 'assign':
      return `${renderExpr(s.target)} = ${renderExpr(s.value)}`;
    case 'compound':
      return `${renderExpr(s.target)} ${s.op} ${renderExpr(s.value)}`;
    case 'increment':
      return `${renderExpr(s.target)}${s.op}`;
    case 'break':
    case 'continue':
      return s.kind;
    case 'return':
      return s.value ? `return ${renderExpr(s.value)}` : 'return';
    case 'barrier':
      return s.scope === 'workgroup' ? 'workgroupBarrier()' : 'storageBarrier()';
    case 'store':
      return `${s.binding}[${renderExpr(s.index)}] = ${renderExpr(s.value)}`;
    case 'comment':
      return `// ${s.text}`;
    case 'call':
      return renderExpr(s.call);
    case 'if':
    case 'for':
    case 'while':
    case 'loop':
    case 'blank':
      throw new Error(`internal error: a ${s.kind} statement in a one-line block`);
    default:
      return unreachableKernelNode(s);
  }
}

// ---- expressions -------------------------------------------------------------------------

/** Binding strength of each binary operator (higher binds tighter). */
const PRECEDENCE: Record<BinaryOp, number> = {
  '||': 1,
  '&&': 1,
  '|': 2,
  '&': 2,
  '^': 2,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '==': 3,
  '!=': 3,
  '<<': 4,
  '>>': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};
const UNARY = 7;
const POSTFIX = 8;

function precedenceOf(e: Expr): number {
  if (e.kind === 'binary') return PRECEDENCE[e.op];
  if (e.kind === 'unary') return UNARY;
  return POSTFIX;
}

const BITWISE = PRECEDENCE['&'];
const SHIFT = PRECEDENCE['<<'];

/**
 * WGSL needs parentheses when a child binds looser, to mix logical or bitwise operators, and
 * wherever its grammar wants a unary expression: both operands of a shift, the right operand
 * of a bitwise operator, and the left one unless it continues the same operator's chain (so
 * `(a + b) >> c`, `(a + b) & c` and `(a & b) && c`, never the invalid unparenthesized forms).
 */
function needsParens(child: Expr, op: BinaryOp, side: 'left' | 'right'): boolean {
  if (child.kind !== 'binary') return false;
  const parent = PRECEDENCE[op];
  const mine = PRECEDENCE[child.op];
  if (parent === SHIFT) return true;
  if (parent === BITWISE) return side === 'right' || child.op !== op;
  if (mine === BITWISE) return true;
  if (mine !== parent) return mine < parent;
  if (parent <= 3 && child.op !== op) return true;
  return side === 'right' || parent === 3;
}

/** An expression in WGSL syntax (the printer shows expressions so too). */
export function renderExpr(e: Expr): string {
  const sub = renderExpr;
  switch (e.kind) {
    case 'literal':
      return renderLiteral(e);
    case 'ref':
      return e.name;
    case 'uniform':
      return `P.${e.name}`;
    case 'binary': {
      const side = (x: Expr, which: 'left' | 'right') =>
        needsParens(x, e.op, which) ? `(${sub(x)})` : sub(x);
      return `${side(e.left, 'left')} ${e.op} ${side(e.right, 'right')}`;
    }
    case 'unary':
      return `${e.op}${precedenceOf(e.operand) < UNARY ? `(${sub(e.operand)})` : sub(e.operand)}`;
    case 'call':
      return `${e.fn}(${e.args.map(sub).join(', ')})`;
    case 'construct':
      return `${renderType(e.type)}(${e.args.map(sub).join(', ')})`;
    case 'index':
      return `${postfixBase(e.base, sub)}[${sub(e.index)}]`;
    case 'member':
      return `${postfixBase(e.base, sub)}.${e.member}`;
    case 'paren':
      return `(${sub(e.inner)})`;
    default:
      return unreachableKernelNode(e);
  }
}

function postfixBase(base: Expr, sub: (e: Expr) => string): string {
  return precedenceOf(base) < POSTFIX ? `(${sub(base)})` : sub(base);
}

function renderLiteral(e: Expr & { kind: 'literal' }): string {
  const v = e.value;
  switch (e.scalar) {
    case 'bool':
      return String(v);
    case 'u32':
      if (e.bare) return `${Number(v)}`;
      return e.hex ? `0x${Number(v).toString(16)}u` : `${Number(v)}u`;
    case 'i32':
      return `${Number(v)}i`;
    case 'f32':
      return e.scientific ? f32ScientificLit(Number(v)) : f32Lit(Number(v));
    case 'f16':
      return `${f32Lit(Number(v))}h`;
    default:
      return unreachableKernelNode(e.scalar);
  }
}
