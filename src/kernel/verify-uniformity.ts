// Barriers and subgroup operations only in uniform control flow (WGSL's uniformity analysis
// rejects a subgroup operation a dependent branch guards, as it rejects such a barrier). A
// value is invocation-dependent when it reads `lid` or another per-invocation builtin (`lane`),
// loads from storage or workgroup memory, calls a helper, a subgroup operation or an atomic,
// or is assigned under invocation-dependent control;
// `workgroupUniformLoad` is uniform by WGSL's definition. Names are tracked per lexical scope (an inner `let c` does not taint an outer
// one) and flow-insensitively within it (a var is dependent if any assignment makes it so),
// which is conservative. A barrier is an
// error inside a branch or loop whose condition is dependent, inside a loop a dependent
// `break`/`continue` leaves, and anywhere after a dependent `return`.

import { gridStatements } from './blocks/grid.js';
import { SUBGROUP_BUILTINS } from './features.js';
import type { Expr, Kernel, Stmt } from './ir.js';
import { INVOCATION_BUILTINS, mainInputs } from './ir.js';
import type { KernelProblem } from './problem.js';
import { exprChildren, stmtBodies, stmtExprs } from './walk.js';

/** What makes a value invocation-dependent in one kernel. */
interface Sources {
  /** Storage bindings and workgroup variables: a load from them. */
  readonly loaded: ReadonlySet<string>;
  /** Helper functions and builtins whose result differs between invocations. */
  readonly calls: (fn: string) => boolean;
  /** Builtin inputs that differ between invocations. */
  readonly inputs: ReadonlySet<string>;
}

export function checkUniformity(kernel: Kernel): KernelProblem[] {
  const helpers = new Set(kernel.functions.map((f) => f.name));
  const sources: Sources = {
    loaded: new Set([...kernel.bindings, ...kernel.workgroupVars].map((d) => d.name)),
    calls: (fn) => helpers.has(fn) || SUBGROUP_BUILTINS.has(fn) || fn.startsWith('atomic'),
    inputs: new Set(
      mainInputs(kernel)
        .filter((i) => INVOCATION_BUILTINS.has(i.builtin))
        .map((i) => i.name),
    ),
  };
  const main = [...gridStatements(kernel.grid, kernel.workgroupSize), ...kernel.body];
  const scopes = dependentNames(main, sources);
  const problems: KernelProblem[] = [];
  const where = (context: string) => (context ? ` ${context}` : '');
  /** Checks a block; returns true when it may return in a dependent way. */
  const check = (stmts: readonly Stmt[], nonuniform: string, outer: Scope | null): boolean => {
    const scope = scopes.get(stmts) ?? new Scope(outer);
    const varies = variesIn(scope, sources);
    let returned = false;
    for (const s of stmts) {
      const context = returned ? 'after a return that depends on the invocation' : nonuniform;
      if (s.kind === 'barrier' && context)
        problems.push({
          rule: 'nonuniform-barrier',
          message: `main: a ${s.scope} barrier${where(context)}: not every invocation of the workgroup reaches it`,
        });
      if (context)
        for (const fn of new Set(stmtExprs(s).flatMap(subgroupCalls)))
          problems.push({
            rule: 'nonuniform-subgroup-op',
            message: `main: ${fn}${where(context)}: its lanes may not all reach it`,
          });
      if (s.kind === 'return' && context) returned = true;
      const condition = conditionOf(s);
      if (condition === null) continue;
      const bodies = stmtBodies(s);
      // A loop's condition and exits are judged in its body's scope (a for's counter lives there).
      const inBody = s.kind === 'if' ? varies : variesIn(scopes.get(bodies[0]!)!, sources);
      const inner =
        context ||
        (condition !== undefined && inBody(condition)
          ? `under a condition that depends on the invocation or on loaded data`
          : '') ||
        (s.kind !== 'if' && exitsDependently(bodies[0]!, inBody)
          ? 'in a loop that a break or continue leaves depending on the invocation'
          : '');
      for (const body of bodies) if (check(body, inner, scope)) returned = true;
    }
    return returned;
  };
  check(main, '', null);
  return problems;
}

const UNIFORM_LOAD = 'workgroupUniformLoad';

/** The subgroup operations an expression calls. */
function subgroupCalls(e: Expr): string[] {
  const own = e.kind === 'call' && SUBGROUP_BUILTINS.has(e.fn) ? [e.fn] : [];
  return [...own, ...exprChildren(e).flatMap(subgroupCalls)];
}

/**
 * The lets and vars of one block (WGSL scopes them lexically, so a name may be declared again
 * in an inner block): each name mapped to whether its value may differ between invocations.
 */
class Scope {
  readonly names = new Map<string, boolean>();
  constructor(readonly parent: Scope | null) {}

  lookup(name: string): Scope | null {
    return this.names.has(name) ? this : (this.parent?.lookup(name) ?? null);
  }
}

function variesIn(scope: Scope, sources: Sources): (e: Expr) => boolean {
  const varies = (e: Expr): boolean => {
    switch (e.kind) {
      case 'ref': {
        const owner = scope.lookup(e.name);
        return owner ? owner.names.get(e.name)! : sources.inputs.has(e.name);
      }
      case 'index':
        if (e.base.kind === 'ref' && sources.loaded.has(e.base.name)) return true;
        break;
      case 'call':
        // Uniform by WGSL's definition, whatever the variable holds.
        if (e.fn === UNIFORM_LOAD) return false;
        if (sources.calls(e.fn)) return true;
        break;
    }
    return exprChildren(e).some(varies);
  };
  return varies;
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

/**
 * Every block's scope with its names marked where their value may differ between
 * invocations, to a fixed point (a var assigned later in a loop taints earlier reads).
 * Flow-insensitive within a scope, which is conservative.
 */
function dependentNames(main: readonly Stmt[], sources: Sources): Map<readonly Stmt[], Scope> {
  const scopes = new Map<readonly Stmt[], Scope>();
  const scopeOf = (stmts: readonly Stmt[], parent: Scope | null) => {
    let scope = scopes.get(stmts);
    if (!scope) scopes.set(stmts, (scope = new Scope(parent)));
    return scope;
  };
  const target = (e: Expr): string | null =>
    e.kind === 'ref' ? e.name : e.kind === 'index' || e.kind === 'member' ? target(e.base) : null;
  const visit = (
    stmts: readonly Stmt[],
    scope: Scope,
    under: boolean,
    changed: { any: boolean },
  ): void => {
    const varies = variesIn(scope, sources);
    const mark = (name: string | null, why: boolean, declare = false) => {
      if (name === null) return;
      if (declare && !scope.names.has(name)) scope.names.set(name, false);
      const owner = scope.lookup(name);
      if (owner && why && !owner.names.get(name)) {
        owner.names.set(name, true);
        changed.any = true;
      }
    };
    for (const s of stmts) {
      if (s.kind === 'let' || s.kind === 'var')
        mark(s.name, under || (s.value !== undefined && varies(s.value)), true);
      if (s.kind === 'assign' || s.kind === 'compound')
        mark(target(s.target), under || varies(s.value));
      if (s.kind === 'increment') mark(target(s.target), under);
      const bodies = stmtBodies(s);
      if (s.kind === 'for') {
        const body = scopeOf(bodies[0]!, scope);
        visit([s.init], body, under, changed);
        visit([s.update], body, under || variesIn(body, sources)(s.cond), changed);
      }
      const cond = conditionOf(s);
      for (const body of bodies) {
        const inner = scopeOf(body, scope);
        const dependent = cond !== null && cond !== undefined && variesIn(inner, sources)(cond);
        visit(body, inner, under || dependent, changed);
      }
    }
  };
  for (let changed = { any: true }; changed.any;) {
    changed = { any: false };
    visit(main, scopeOf(main, null), false, changed);
  }
  return scopes;
}
