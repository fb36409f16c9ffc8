// Barriers only in uniform control flow. A value is invocation-dependent when it reads `lid`,
// loads from storage or workgroup memory, calls a helper, is raw text not marked uniform, or
// is assigned under invocation-dependent control. Names are tracked flow-insensitively (a
// var is dependent if any assignment makes it so), which is conservative. A barrier is an
// error inside a branch or loop whose condition is dependent, inside a loop a dependent
// `break`/`continue` leaves, and anywhere after a dependent `return`.

import { gridStatements } from './blocks/grid.js';
import type { Expr, Kernel, Stmt } from './ir.js';
import type { KernelProblem } from './problem.js';
import { exprChildren, stmtBodies } from './walk.js';

export function checkUniformity(kernel: Kernel): KernelProblem[] {
  const loaded = new Set([...kernel.bindings, ...kernel.workgroupVars].map((d) => d.name));
  const helpers = new Set(kernel.functions.map((f) => f.name));
  const main = [...gridStatements(kernel.grid, kernel.workgroupSize), ...kernel.body];
  const dependent = dependentNames(main, loaded, helpers);
  const varies = (e: Expr): boolean => {
    switch (e.kind) {
      case 'ref':
        return dependent.has(e.name);
      case 'raw':
        return e.uniform !== true;
      case 'index':
        if (e.base.kind === 'ref' && loaded.has(e.base.name)) return true;
        break;
      case 'call':
        if (helpers.has(e.fn)) return true;
        break;
    }
    return exprChildren(e).some(varies);
  };
  const problems: KernelProblem[] = [];
  const where = (context: string) => (context ? ` ${context}` : '');
  /** Checks a block; returns true when it may return in a dependent way. */
  const check = (stmts: readonly Stmt[], nonuniform: string): boolean => {
    let returned = false;
    for (const s of stmts) {
      const context = returned ? 'after a return that depends on the invocation' : nonuniform;
      if (s.kind === 'barrier' && context)
        problems.push({
          rule: 'nonuniform-barrier',
          message: `main: a ${s.scope} barrier${where(context)}: not every invocation of the workgroup reaches it`,
        });
      if (s.kind === 'return' && context) returned = true;
      const condition = conditionOf(s);
      if (condition === null) continue;
      const inner =
        context ||
        (condition !== undefined && varies(condition)
          ? `under a condition that depends on the invocation or on loaded data`
          : '') ||
        (s.kind !== 'if' && exitsDependently(stmtBodies(s)[0]!, varies)
          ? 'in a loop that a break or continue leaves depending on the invocation'
          : '');
      for (const body of stmtBodies(s)) if (check(body, inner)) returned = true;
    }
    return returned;
  };
  check(main, '');
  return problems;
}

/** The condition of a branch or loop (undefined for `loop`), or null for other statements. */
function conditionOf(s: Stmt): Expr | undefined | null {
  if (s.kind === 'if' || s.kind === 'while' || s.kind === 'for') return s.cond;
  return s.kind === 'loop' ? undefined : null;
}

/** A break or continue of this loop under a dependent condition (nested loops are theirs). */
function exitsDependently(body: readonly Stmt[], varies: (e: Expr) => boolean): boolean {
  return body.some((s) => {
    if (s.kind === 'if')
      return stmtBodies(s).some((b) =>
        varies(s.cond) ? b.some(exits) : exitsDependently(b, varies),
      );
    return false;
  });
}

function exits(s: Stmt): boolean {
  if (s.kind === 'break' || s.kind === 'continue') return true;
  return s.kind === 'if' && stmtBodies(s).some((b) => b.some(exits));
}

/** Names whose value may differ between invocations, to a fixed point. */
function dependentNames(
  main: readonly Stmt[],
  loaded: ReadonlySet<string>,
  helpers: ReadonlySet<string>,
): Set<string> {
  const dependent = new Set<string>(['lid']);
  const varies = (e: Expr): boolean =>
    (e.kind === 'ref' && dependent.has(e.name)) ||
    (e.kind === 'raw' && e.uniform !== true) ||
    (e.kind === 'index' && e.base.kind === 'ref' && loaded.has(e.base.name)) ||
    (e.kind === 'call' && helpers.has(e.fn)) ||
    exprChildren(e).some(varies);
  const target = (e: Expr): string | null =>
    e.kind === 'ref' ? e.name : e.kind === 'index' || e.kind === 'member' ? target(e.base) : null;
  const mark = (name: string | null, why: boolean, changed: { any: boolean }) => {
    if (name !== null && why && !dependent.has(name)) {
      dependent.add(name);
      changed.any = true;
    }
  };
  const visit = (stmts: readonly Stmt[], under: boolean, changed: { any: boolean }): void => {
    for (const s of stmts) {
      if (s.kind === 'let' || s.kind === 'var')
        mark(s.name, under || (s.value !== undefined && varies(s.value)), changed);
      if (s.kind === 'assign' || s.kind === 'compound')
        mark(target(s.target), under || varies(s.value), changed);
      if (s.kind === 'increment') mark(target(s.target), under, changed);
      if (s.kind === 'for') visit([s.init, s.update], under || varies(s.cond), changed);
      const cond = conditionOf(s);
      const inner = under || (cond !== null && cond !== undefined && varies(cond));
      for (const body of stmtBodies(s)) visit(body, inner, changed);
    }
  };
  for (let changed = { any: true }; changed.any;) {
    changed = { any: false };
    visit(main, false, changed);
  }
  return dependent;
}
