// Visits every statement, expression and type of a kernel once, for analyses that only need
// to see each node (features.ts); the verifier walks with scopes of its own.

import type { Expr, Kernel, Stmt, Type } from './ir.js';
import { unreachableKernelNode } from './ir.js';
import { gridStatements } from './blocks/grid.js';

export interface KernelVisitor {
  readonly expr?: (e: Expr) => void;
  readonly type?: (t: Type) => void;
}

export function walkKernel(kernel: Kernel, visit: KernelVisitor): void {
  const type = (t: Type): void => {
    visit.type?.(t);
    if (t.kind === 'array') {
      type(t.element);
      if (t.length) expr(t.length);
    }
  };
  const expr = (e: Expr): void => {
    visit.expr?.(e);
    for (const child of exprChildren(e)) expr(child);
    if (e.kind === 'construct') type(e.type);
  };
  const stmts = (list: readonly Stmt[]) => list.forEach(stmt);
  const stmt = (s: Stmt): void => {
    if ((s.kind === 'let' || s.kind === 'var') && s.type) type(s.type);
    for (const e of stmtExprs(s)) expr(e);
    for (const body of stmtBodies(s)) stmts(body);
  };
  kernel.consts.forEach((c) => (type(c.type), expr(c.value)));
  kernel.bindings.forEach((b) => type(b.element));
  kernel.workgroupVars.forEach((w) => type(w.type));
  for (const fn of kernel.functions) {
    fn.params.forEach((p) => type(p.type));
    if (fn.returns) type(fn.returns);
    stmts(fn.body);
  }
  stmts(gridStatements(kernel.grid, kernel.workgroupSize));
  stmts(kernel.body);
}

export function exprChildren(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'literal':
    case 'ref':
    case 'uniform':
      return [];
    case 'binary':
      return [e.left, e.right];
    case 'unary':
      return [e.operand];
    case 'call':
    case 'construct':
      return e.args;
    case 'index':
      return [e.base, e.index];
    case 'member':
      return [e.base];
    case 'paren':
      return [e.inner];
    default:
      return unreachableKernelNode(e);
  }
}

/** The expressions a statement evaluates itself (not those of nested blocks). */
export function stmtExprs(s: Stmt): readonly Expr[] {
  switch (s.kind) {
    case 'let':
      return [s.value];
    case 'var':
      return s.value ? [s.value] : [];
    case 'assign':
    case 'compound':
      return [s.target, s.value];
    case 'increment':
      return [s.target];
    case 'if':
    case 'while':
      return [s.cond];
    case 'for':
      return [...stmtExprs(s.init), s.cond, ...stmtExprs(s.update)];
    case 'return':
      return s.value ? [s.value] : [];
    case 'store':
      return [s.index, s.value];
    case 'call':
      return [s.call];
    case 'loop':
    case 'break':
    case 'continue':
    case 'barrier':
    case 'comment':
    case 'blank':
      return [];
    default:
      return unreachableKernelNode(s);
  }
}

/** Nested blocks of a statement, `else if` chains flattened. */
export function stmtBodies(s: Stmt): readonly (readonly Stmt[])[] {
  switch (s.kind) {
    case 'if':
      if (s.else === null) return [s.then];
      return Array.isArray(s.else) ? [s.then, s.else] : [s.then, [s.else as Stmt]];
    case 'for':
    case 'while':
    case 'loop':
      return [s.body];
    default:
      return [];
  }
}
