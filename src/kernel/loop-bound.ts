// The loop iterations one invocation of a kernel may run, derived from the kernel IR itself:
// every loop's trip count (constant trips times run-time trips, from its bounds, the
// kernel's constants and the host values of its uniforms) and what its body runs. Mesa's
// llvmpipe ends every loop of an invocation after one budget of iterations with no error
// (docs/runtime.md, "llvmpipe's loop budget"), so every kernel must carry such a bound; a
// kernel built on the IR gets it here and cannot forget it. A loop whose trip count the IR
// does not show (a `while`, `loop`, a bound read from memory or changed in its body) makes
// the kernel underivable, and its builder must then state a bound by hand
// (`KernelBuilder.loopIterations`). The result must never be below what the kernel runs; it
// may be above (e.g. both branches of an `if` are not added, but the larger one is taken).
//
// Costs follow what was measured on llvmpipe: a loop that runs n times spends n + 1 (its last
// test too); a loop with constant bounds of at most UNROLLED_TRIPS trips is unrolled and
// costs only what its body costs, once per trip.

import { size, type SizeExpr } from '../codegen/plan.js';
import { UNROLLED_TRIPS } from './blocks/short-loops.js';
import { gridStatements } from './blocks/grid.js';
import type { Expr, HelperFunction, Kernel, Scalar, Stmt } from './ir.js';
import { unreachableKernelNode } from './ir.js';
import { exprChildren } from './walk.js';

export type DerivedLoopBound =
  | { readonly kind: 'bounded'; readonly iterations: SizeExpr }
  /** `where`: the function and loop whose trips the IR does not show. */
  | { readonly kind: 'unknown'; readonly where: string };

class Underivable extends Error {}

/**
 * The lets visible at a statement, each with its value closed at its declaration (`close`):
 * lets and constants substituted, a var, loop variable or parameter replaced by MUTABLE, so a
 * later shadowing name or a changed var cannot alter what an earlier let meant.
 */
type Scope = ReadonlyMap<string, Expr>;

/** Builtin inputs of `main`: immutable, so two reads of one are the same value. */
const BUILTINS = new Set(['lid', 'wid', 'nwg']);

/** A value that may change (a var, a loop variable, a parameter): never the same twice. */
const MUTABLE: Expr = { kind: 'call', fn: '<mutable>', args: [] };

export function deriveLoopIterations(kernel: Kernel): DerivedLoopBound {
  try {
    const body = [...gridStatements(kernel.grid, kernel.workgroupSize), ...kernel.body];
    return { kind: 'bounded', iterations: new LoopBoundDeriver(kernel).blockCost(body, new Map()) };
  } catch (error) {
    if (error instanceof Underivable) return { kind: 'unknown', where: error.message };
    throw error;
  }
}

/**
 * What the derivation of one kernel shares: its constants, uniforms and helpers, the costs of
 * the helpers already derived, and where it is (for the message of an underivable loop).
 */
class LoopBoundDeriver {
  private readonly consts: ReadonlyMap<string, Expr>;
  private readonly constTypes: ReadonlyMap<string, Scalar | null>;
  private readonly uniforms: ReadonlyMap<string, SizeExpr>;
  private readonly functions: ReadonlyMap<string, HelperFunction>;
  private readonly helperCosts = new Map<string, SizeExpr>();
  private where = 'main';

  constructor(kernel: Kernel) {
    this.consts = new Map(kernel.consts.map((c) => [c.name, c.value]));
    this.constTypes = new Map(
      kernel.consts.map((c) => [c.name, c.type.kind === 'array' ? null : c.type.scalar]),
    );
    this.uniforms = new Map(kernel.uniforms.map((u) => [u.name, u.value]));
    this.functions = new Map(kernel.functions.map((f) => [f.name, f]));
  }

  private fail(what: string): never {
    throw new Underivable(`${this.where}: ${what}`);
  }

  /** The expression with every let and constant substituted and every mutable name marked. */
  private close(e: Expr, scope: Scope): Expr {
    switch (e.kind) {
      case 'ref': {
        const value = scope.get(e.name);
        if (value !== undefined) return value;
        const constant = this.consts.get(e.name);
        if (constant !== undefined) return this.close(constant, new Map());
        return BUILTINS.has(e.name) ? e : MUTABLE;
      }
      case 'binary':
        return { ...e, left: this.close(e.left, scope), right: this.close(e.right, scope) };
      case 'unary':
        return { ...e, operand: this.close(e.operand, scope) };
      case 'call':
      case 'construct':
        return { ...e, args: e.args.map((arg) => this.close(arg, scope)) };
      case 'index':
        return { ...e, base: this.close(e.base, scope), index: this.close(e.index, scope) };
      case 'member':
        return { ...e, base: this.close(e.base, scope) };
      case 'paren':
        return { ...e, inner: this.close(e.inner, scope) };
      case 'literal':
      case 'uniform':
        return e;
      default:
        return unreachableKernelNode(e);
    }
  }

  /** The same value: equal once closed, and nothing in it that may change. */
  private sameExpr(a: Expr, b: Expr, scope: Scope): boolean {
    const [x, y] = [JSON.stringify(this.close(a, scope)), JSON.stringify(this.close(b, scope))];
    return x === y && !x.includes(JSON.stringify(MUTABLE));
  }

  /** An upper bound of a u32 expression's value, or null where the IR does not show one. */
  private upper(e: Expr, scope: Scope): SizeExpr | null {
    switch (e.kind) {
      case 'literal':
        return typeof e.value === 'number' && e.value >= 0 ? e.value : null;
      case 'ref': {
        const value = scope.get(e.name) ?? this.consts.get(e.name);
        return value === undefined ? null : this.upper(value, scope);
      }
      case 'uniform':
        return this.uniforms.get(e.name) ?? null;
      case 'paren':
        return this.upper(e.inner, scope);
      case 'binary':
        return this.upperOfBinary(e, scope);
      case 'call': {
        if (e.fn === 'u32' && e.args.length === 1) return this.upper(e.args[0]!, scope);
        const bounds = e.args.map((arg) => this.upper(arg, scope));
        if (e.fn === 'min') {
          const known = bounds.filter((b): b is SizeExpr => b !== null);
          return known.length === 0 ? null : min(...known);
        }
        if (e.fn === 'max')
          return bounds.every((b) => b !== null) ? max(...(bounds as SizeExpr[])) : null;
        return null;
      }
      case 'unary':
      case 'construct':
      case 'index':
      case 'member':
        return null;
      default:
        return unreachableKernelNode(e);
    }
  }

  /** `upper` of a binary expression. */
  private upperOfBinary(e: Expr & { kind: 'binary' }, scope: Scope): SizeExpr | null {
    const a = this.upper(e.left, scope);
    switch (e.op) {
      case '+':
      case '*': {
        const b = this.upper(e.right, scope);
        return a === null || b === null ? null : e.op === '+' ? add(a, b) : mul(a, b);
      }
      // A u32 difference is at most its minuend (a wrap would be a kernel bug).
      case '-':
        return a;
      case '/': {
        const divisor = this.constantValue(e.right, scope);
        return a === null || divisor === null || divisor < 1 ? null : ceilDiv(a, divisor);
      }
      case '%': {
        const b = this.upper(e.right, scope);
        return b === null ? a : a === null ? b : min(a, b);
      }
      case '>>': {
        const shift = this.constantValue(e.right, scope);
        return a === null || shift === null ? null : ceilDiv(a, 2 ** shift);
      }
      default:
        return null;
    }
  }

  /** The value of an expression of literals and constants only (Mesa sees it as constant). */
  private constantValue(e: Expr, scope: Scope): number | null {
    if (!this.isConstant(e, scope)) return null;
    const value = this.upper(e, scope);
    return typeof value === 'number' ? value : null;
  }
  private isConstant(e: Expr, scope: Scope): boolean {
    switch (e.kind) {
      case 'literal':
        return true;
      case 'ref':
        return (
          !scope.has(e.name) &&
          this.consts.has(e.name) &&
          this.isConstant(this.consts.get(e.name)!, scope)
        );
      case 'paren':
        return this.isConstant(e.inner, scope);
      case 'binary':
        return this.isConstant(e.left, scope) && this.isConstant(e.right, scope);
      case 'call':
        return (
          ['min', 'max', 'u32'].includes(e.fn) && e.args.every((a) => this.isConstant(a, scope))
        );
      default:
        return false;
    }
  }

  /** The scalar type of an expression, as far as a loop variable's start needs it. */
  private scalarOf(e: Expr, scope: Scope): Scalar | null {
    switch (e.kind) {
      case 'literal':
        return e.scalar;
      case 'uniform':
        return 'u32';
      case 'ref': {
        if (['lid', 'wid', 'nwg'].includes(e.name) && !scope.has(e.name)) return 'u32';
        const value = scope.get(e.name);
        if (value !== undefined) return this.scalarOf(value, scope);
        return this.constTypes.get(e.name) ?? null;
      }
      case 'paren':
        return this.scalarOf(e.inner, scope);
      case 'binary':
        return ['+', '-', '*', '/', '%', '>>', '&'].includes(e.op)
          ? this.scalarOf(e.left, scope)
          : null;
      case 'call':
        if (e.fn === 'u32') return 'u32';
        return e.fn === 'min' || e.fn === 'max' ? this.scalarOf(e.args[0]!, scope) : null;
      case 'member':
        return e.base.kind === 'ref' && ['wid', 'nwg'].includes(e.base.name) ? 'u32' : null;
      default:
        return e.kind === 'construct' && e.type.kind === 'scalar' ? e.type.scalar : null;
    }
  }

  /** Trips of `for (var i = start; i < end; i += step)`; `end` inclusive for `<=`. */
  private trips(start: Expr, end: Expr, scope: Scope): SizeExpr | null {
    const bare = resolveLets(end, scope);
    if (bare.kind === 'call' && bare.fn === 'min') {
      const known = bare.args
        .map((arg) => this.trips(start, arg, scope))
        .filter((t): t is SizeExpr => t !== null);
      return known.length === 0 ? null : min(...known);
    }
    // `j < start + n` runs n times whatever start is.
    if (bare.kind === 'binary' && bare.op === '+' && this.sameExpr(bare.left, start, scope))
      return this.upper(bare.right, scope);
    // A segment of a split: `floor(s X / M)` to `floor((s + c) X / M)` is at most ceil(c X / M).
    const segment = this.segmentTrips(resolveLets(start, scope), bare, scope);
    if (segment !== null) return segment;
    const last = this.upper(end, scope);
    if (last === null) return null;
    const first = this.constantValue(start, scope);
    if (first !== null) return typeof last === 'number' ? Math.max(0, last - first) : last;
    // An unknown u32 start is at least 0; an i32 one could be below it.
    return this.scalarOf(start, scope) === 'u32' ? last : null;
  }

  private segmentTrips(start: Expr, end: Expr, scope: Scope): SizeExpr | null {
    if (start.kind !== 'binary' || start.op !== '/' || end.kind !== 'binary' || end.op !== '/')
      return null;
    const divisor = this.constantValue(end.right, scope);
    if (divisor === null || divisor < 1 || !this.sameExpr(start.right, end.right, scope))
      return null;
    const [from, to] = [resolveLets(start.left, scope), resolveLets(end.left, scope)];
    if (from.kind !== 'binary' || from.op !== '*' || to.kind !== 'binary' || to.op !== '*')
      return null;
    if (!this.sameExpr(from.right, to.right, scope)) return null;
    const [s0, s1] = [resolveLets(from.left, scope), resolveLets(to.left, scope)];
    if (s1.kind !== 'binary' || s1.op !== '+' || !this.sameExpr(s1.left, s0, scope)) return null;
    const c = this.constantValue(s1.right, scope);
    const X = this.upper(to.right, scope);
    return c === null || X === null ? null : ceilDiv(mul(X, c), divisor);
  }

  private loopCost(s: Stmt & { kind: 'for' }, scope: Scope): SizeExpr {
    const name = s.init.name;
    const start = s.init.value ?? this.fail(`loop variable '${name}' has no start`);
    const cond = unparen(s.cond);
    if (
      cond.kind !== 'binary' ||
      (cond.op !== '<' && cond.op !== '<=') ||
      cond.left.kind !== 'ref' ||
      cond.left.name !== name
    )
      return this.fail(`the loop over '${name}' does not test '${name} < end'`);
    const step = this.stepOf(s.update, name, scope);
    if (step === null) return this.fail(`the loop over '${name}' does not step it by a constant`);
    if (assigns(s.body, name)) return this.fail(`the loop over '${name}' changes it in its body`);
    let count = this.trips(start, cond.right, scope);
    if (count === null) return this.fail(`the trips of the loop over '${name}' are not known`);
    if (cond.op === '<=') count = add(count, 1);
    if (step > 1) count = ceilDiv(count, step);
    // Inside the body the loop variable is unknown (not its start).
    const inner = new Map(scope);
    inner.set(name, MUTABLE);
    // Helpers the condition calls run at every test, those of the update at every trip.
    const test = this.callsCost(s.cond);
    const body = add(
      this.blockCost(s.body, inner),
      test,
      this.callsCost(s.update.kind === 'compound' ? s.update.value : literalZero),
    );
    const unrolled =
      typeof count === 'number' &&
      count <= UNROLLED_TRIPS &&
      this.isConstant(start, scope) &&
      this.isConstant(cond.right, scope);
    // Every trip pays its body; a loop that is not unrolled also pays a step per trip and its
    // final test.
    return add(mul(count, unrolled ? body : add(body, 1)), unrolled ? 0 : 1, test);
  }

  private stepOf(update: Stmt, name: string, scope: Scope): number | null {
    if (update.kind === 'increment' && update.op === '++' && isRef(update.target, name)) return 1;
    if (update.kind === 'compound' && update.op === '+=' && isRef(update.target, name)) {
      const step = this.constantValue(update.value, scope);
      return step !== null && step >= 1 ? step : null;
    }
    return null;
  }

  /** Helper calls an expression makes, each paying its helper's cost once per evaluation. */
  private callsCost(e: Expr): SizeExpr {
    let total: SizeExpr = 0;
    const visit = (x: Expr): void => {
      if (x.kind === 'call' && this.functions.has(x.fn)) total = add(total, this.helperCost(x.fn));
      for (const child of exprChildren(x)) visit(child);
    };
    visit(e);
    return total;
  }

  private helperCost(name: string): SizeExpr {
    const known = this.helperCosts.get(name);
    if (known !== undefined) return known;
    const fn: HelperFunction = this.functions.get(name)!;
    const outer = this.where;
    this.where = `fn ${name}`;
    const cost = this.blockCost(fn.body, new Map(fn.params.map((param) => [param.name, MUTABLE])));
    this.where = outer;
    this.helperCosts.set(name, cost);
    return cost;
  }

  blockCost(stmts: readonly Stmt[], outer: Scope): SizeExpr {
    const scope = new Map(outer);
    let total: SizeExpr = 0;
    for (const s of stmts) {
      switch (s.kind) {
        case 'let':
          total = add(total, this.callsCost(s.value));
          scope.set(s.name, this.close(s.value, scope));
          break;
        case 'var':
          if (s.value) total = add(total, this.callsCost(s.value));
          // A var may change: its name no longer stands for an outer value.
          scope.set(s.name, MUTABLE);
          break;
        case 'assign':
        case 'compound':
          total = add(total, this.callsCost(s.target), this.callsCost(s.value));
          break;
        case 'increment':
          total = add(total, this.callsCost(s.target));
          break;
        case 'store':
          total = add(total, this.callsCost(s.index), this.callsCost(s.value));
          break;
        case 'call':
          total = add(total, this.callsCost(s.call));
          break;
        case 'return':
          if (s.value) total = add(total, this.callsCost(s.value));
          break;
        case 'if': {
          const otherwise =
            s.else === null
              ? 0
              : this.blockCost(Array.isArray(s.else) ? s.else : [s.else as Stmt], scope);
          total = add(total, this.callsCost(s.cond), max(this.blockCost(s.then, scope), otherwise));
          break;
        }
        case 'for':
          total = add(total, this.callsCost(s.init.value ?? literalZero), this.loopCost(s, scope));
          break;
        case 'while':
        case 'loop':
          return this.fail(`a '${s.kind}' loop has no trip count the IR shows`);
        case 'break':
        case 'continue':
        case 'barrier':
        case 'comment':
        case 'blank':
          break;
        default:
          return unreachableKernelNode(s);
      }
    }
    return total;
  }
}

const literalZero: Expr = { kind: 'literal', scalar: 'u32', value: 0 };

function unparen(e: Expr): Expr {
  return e.kind === 'paren' ? unparen(e.inner) : e;
}

function isRef(e: Expr, name: string): boolean {
  return e.kind === 'ref' && e.name === name;
}

/** The expression a let stands for (parentheses dropped), at the top level. */
function resolveLets(e: Expr, scope: Scope): Expr {
  const bare = unparen(e);
  const value = bare.kind === 'ref' ? scope.get(bare.name) : undefined;
  return value === undefined ? bare : resolveLets(value, scope);
}

/** Whether a block writes a name (assignment, compound assignment or increment). */
function assigns(stmts: readonly Stmt[], name: string): boolean {
  return stmts.some((s) => {
    if (
      (s.kind === 'assign' || s.kind === 'compound' || s.kind === 'increment') &&
      isRef(s.target, name)
    )
      return true;
    if (s.kind === 'if') {
      const otherwise = s.else === null ? [] : Array.isArray(s.else) ? s.else : [s.else as Stmt];
      return assigns(s.then, name) || assigns(otherwise, name);
    }
    if (s.kind === 'for') return assigns(s.body, name) || assigns([s.update], name);
    if (s.kind === 'while' || s.kind === 'loop') return assigns(s.body, name);
    return false;
  });
}

// Size arithmetic that folds constants and drops zeros and unit factors, so the plan's
// bounds stay readable.
function add(...terms: SizeExpr[]): SizeExpr {
  const constant = terms.reduce<number>((sum, t) => (typeof t === 'number' ? sum + t : sum), 0);
  const rest = terms.filter((t) => typeof t !== 'number');
  if (rest.length === 0) return constant;
  return constant === 0 && rest.length === 1
    ? rest[0]!
    : size.add(...rest, ...(constant === 0 ? [] : [constant]));
}

function mul(a: SizeExpr, b: SizeExpr): SizeExpr {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  if (a === 0 || b === 0) return 0;
  if (a === 1) return b;
  if (b === 1) return a;
  return typeof b === 'number' ? size.mul(a, b) : size.mul(b, a);
}

function ceilDiv(a: SizeExpr, b: number): SizeExpr {
  if (typeof a === 'number') return Math.ceil(a / b);
  return b === 1 ? a : size.ceilDiv(a, b);
}

function min(...args: SizeExpr[]): SizeExpr {
  const numbers = args.filter((a): a is number => typeof a === 'number');
  const rest = args.filter((a) => typeof a !== 'number');
  const all = numbers.length === 0 ? rest : [...rest, Math.min(...numbers)];
  return all.length === 1 ? all[0]! : size.min(...all);
}

function max(...args: SizeExpr[]): SizeExpr {
  const numbers = args.filter((a): a is number => typeof a === 'number');
  const rest = args.filter((a) => typeof a !== 'number');
  if (rest.length === 0) return Math.max(...numbers);
  const all =
    numbers.length === 0 || Math.max(...numbers) === 0 ? rest : [...rest, Math.max(...numbers)];
  return all.length === 1 ? all[0]! : size.max(...all);
}
