// The kernel builder: emitters write kernels as code that reads like the kernel
// (`b.let('x', ...)`, `b.for(...)`, `b.if(...)`) and get a `Kernel` value back. Expression
// helpers take an `Operand`: an expression, or a string naming a let/var/const/binding (a
// reference). There is no way to write WGSL text here: render-wgsl.ts alone does that.

import type { SizeExpr } from '../codegen/plan.js';
import type {
  BinaryOp,
  BuiltinInput,
  CompoundOp,
  Expr,
  Grid,
  HelperFunction,
  Kernel,
  KernelBinding,
  KernelConst,
  KernelUniform,
  Scalar,
  Stmt,
  Type,
  VarStmt,
  WorkgroupVar,
} from './ir.js';

/** An expression, or the name of something in scope (shorthand for `ref(name)`). */
export type Operand = Expr | string;

const expr = (x: Operand): Expr => (typeof x === 'string' ? { kind: 'ref', name: x } : x);

// ---- types -------------------------------------------------------------------------------

export const T = {
  f32: { kind: 'scalar', scalar: 'f32' } as Type,
  u32: { kind: 'scalar', scalar: 'u32' } as Type,
  i32: { kind: 'scalar', scalar: 'i32' } as Type,
  f16: { kind: 'scalar', scalar: 'f16' } as Type,
  bool: { kind: 'scalar', scalar: 'bool' } as Type,
  vec: (size: 2 | 3 | 4, scalar: Scalar): Type => ({ kind: 'vec', size, scalar }),
  atomicU32: { kind: 'atomic', scalar: 'u32' } as Type,
  array: (element: Type, length: Operand | number | null = null): Type => ({
    kind: 'array',
    element,
    length: typeof length === 'number' ? u32(length) : length === null ? null : expr(length),
  }),
};

// ---- expressions -------------------------------------------------------------------------

export const ref = (name: string): Expr => ({ kind: 'ref', name });
export const u32 = (value: number): Expr => ({ kind: 'literal', scalar: 'u32', value });
/** A u32 literal spelled in hex (`0xffffffffu`). */
export const hexU32 = (value: number): Expr => ({
  kind: 'literal',
  scalar: 'u32',
  value,
  hex: true,
});
/** An integer without a suffix (WGSL's abstract int: `array<T, 256>`). */
export const int = (value: number): Expr => ({
  kind: 'literal',
  scalar: 'u32',
  value,
  bare: true,
});
export const i32 = (value: number): Expr => ({ kind: 'literal', scalar: 'i32', value });
export const f32 = (value: number): Expr => ({ kind: 'literal', scalar: 'f32', value });
/** An f32 spelled with a mantissa and an exponent (`-3.0e38`), as a far-out sentinel reads. */
export const f32Scientific = (value: number): Expr => ({
  kind: 'literal',
  scalar: 'f32',
  value,
  scientific: true,
});
export const bool = (value: boolean): Expr => ({ kind: 'literal', scalar: 'bool', value });
/** `P.name`. */
export const uniform = (name: string): Expr => ({ kind: 'uniform', name });

export const binary = (op: BinaryOp, left: Operand, right: Operand): Expr => ({
  kind: 'binary',
  op,
  left: expr(left),
  right: expr(right),
});

/** Left-associated chain: `add(a, b, c)` is `a + b + c`. */
const chain =
  (op: BinaryOp) =>
  (first: Operand, ...rest: Operand[]): Expr =>
    rest.reduce<Expr>((acc, x) => binary(op, acc, x), expr(first));

export const add = chain('+');
export const sub = chain('-');
export const mul = chain('*');
export const div = chain('/');
export const mod = chain('%');
export const and = chain('&&');
export const or = chain('||');
export const lt = (a: Operand, b: Operand) => binary('<', a, b);
export const le = (a: Operand, b: Operand) => binary('<=', a, b);
export const gt = (a: Operand, b: Operand) => binary('>', a, b);
export const ge = (a: Operand, b: Operand) => binary('>=', a, b);
export const eq = (a: Operand, b: Operand) => binary('==', a, b);
export const ne = (a: Operand, b: Operand) => binary('!=', a, b);
export const neg = (x: Operand): Expr => ({ kind: 'unary', op: '-', operand: expr(x) });
export const not = (x: Operand): Expr => ({ kind: 'unary', op: '!', operand: expr(x) });
/** `&name`: the pointer an atomic or `workgroupUniformLoad` takes. */
export const addressOf = (name: string): Expr => ({ kind: 'unary', op: '&', operand: ref(name) });
/** `workgroupUniformLoad(&name)`: a workgroup variable's value, the same in every invocation. */
export const workgroupUniformLoad = (name: string): Expr =>
  call('workgroupUniformLoad', addressOf(name));
export const paren = (x: Operand): Expr => ({ kind: 'paren', inner: expr(x) });

export const call = (fn: string, ...args: Operand[]): Expr & { kind: 'call' } => ({
  kind: 'call',
  fn,
  args: args.map(expr),
});
export const min = (a: Operand, b: Operand) => call('min', a, b);
export const abs = (x: Operand) => call('abs', x);
export const max = (a: Operand, b: Operand) => call('max', a, b);
/** WGSL's `select(ifFalse, ifTrue, cond)`. */
export const select = (ifFalse: Operand, ifTrue: Operand, cond: Operand) =>
  call('select', ifFalse, ifTrue, cond);
export const construct = (type: Type, ...args: Operand[]): Expr => ({
  kind: 'construct',
  type,
  args: args.map(expr),
});
export const index = (base: Operand, i: Operand): Expr => ({
  kind: 'index',
  base: expr(base),
  index: expr(i),
});
export const member = (base: Operand, name: string): Expr => ({
  kind: 'member',
  base: expr(base),
  member: name,
});

// ---- statements --------------------------------------------------------------------------

export type Body = (b: BlockBuilder) => void;

/** Collects the statements of one block in order. */
export class BlockBuilder {
  readonly stmts: Stmt[] = [];

  /** `let name = value;`, returning a reference to it. */
  let(name: string, value: Operand, type?: Type): Expr {
    this.stmts.push({ kind: 'let', name, value: expr(value), ...(type ? { type } : {}) });
    return ref(name);
  }

  var(name: string, value?: Operand, type?: Type): Expr {
    this.stmts.push(varStmt(name, value, type));
    return ref(name);
  }

  /** Writes the last let, var or assignment on the line of the statement before it. */
  sameLine(): void {
    const last = this.stmts.pop();
    if (
      last === undefined ||
      this.stmts.length === 0 ||
      (last.kind !== 'let' && last.kind !== 'var' && last.kind !== 'assign')
    )
      throw new Error('internal error: sameLine after no let, var or assignment');
    this.stmts.push({ ...last, sameLine: true });
  }

  assign(target: Operand, value: Operand): void {
    this.stmts.push({ kind: 'assign', target: expr(target), value: expr(value) });
  }

  compound(target: Operand, op: CompoundOp, value: Operand): void {
    this.stmts.push({ kind: 'compound', target: expr(target), op, value: expr(value) });
  }

  increment(target: Operand): void {
    this.stmts.push({ kind: 'increment', target: expr(target), op: '++' });
  }

  decrement(target: Operand): void {
    this.stmts.push({ kind: 'increment', target: expr(target), op: '--' });
  }

  /** `oneLine`: `if (c) { s; }` (a short guard), or `if (c) { s; } else { t; }`. */
  if(cond: Operand, then: Body, otherwise?: Body, options: { oneLine?: boolean } = {}): void {
    this.stmts.push({
      kind: 'if',
      cond: expr(cond),
      then: block(then),
      else: otherwise ? block(otherwise) : null,
      ...(options.oneLine ? { oneLine: true } : {}),
    });
  }

  /**
   * `for (var name = start; cond(name); name++) { body(name) }`; `step`: `name += step`;
   * `down`: `name--`.
   */
  for(
    name: string,
    start: Operand,
    cond: (i: Expr) => Expr,
    body: (b: BlockBuilder, i: Expr) => void,
    options: { oneLine?: boolean; step?: Operand; down?: boolean } = {},
  ): void {
    const i = ref(name);
    this.stmts.push({
      kind: 'for',
      init: varStmt(name, start),
      cond: cond(i),
      update:
        options.step === undefined
          ? { kind: 'increment', target: i, op: options.down ? '--' : '++' }
          : { kind: 'compound', target: i, op: '+=', value: expr(options.step) },
      body: block((b) => body(b, i)),
      ...(options.oneLine ? { oneLine: true } : {}),
    });
  }

  /** `for (var name = 0u; name < end; name++) { body(name) }`: the common counted loop. */
  range(
    name: string,
    end: Operand,
    body: (b: BlockBuilder, i: Expr) => void,
    options: { oneLine?: boolean } = {},
  ): void {
    this.for(name, u32(0), (i) => lt(i, end), body, options);
  }

  /** `if (cond) { return; }`: a guard on one line. */
  returnIf(cond: Operand): void {
    this.if(cond, (b) => b.return(), undefined, { oneLine: true });
  }

  while(cond: Operand, body: Body): void {
    this.stmts.push({ kind: 'while', cond: expr(cond), body: block(body) });
  }

  loop(body: Body): void {
    this.stmts.push({ kind: 'loop', body: block(body) });
  }

  break(): void {
    this.stmts.push({ kind: 'break' });
  }

  continue(): void {
    this.stmts.push({ kind: 'continue' });
  }

  return(value?: Operand): void {
    this.stmts.push(
      value === undefined ? { kind: 'return' } : { kind: 'return', value: expr(value) },
    );
  }

  barrier(scope: 'workgroup' | 'storage' = 'workgroup'): void {
    this.stmts.push({ kind: 'barrier', scope });
  }

  /** `binding[index] = value;` through a read_write storage binding. */
  store(binding: string, at: Operand, value: Operand): void {
    this.stmts.push({ kind: 'store', binding, index: expr(at), value: expr(value) });
  }

  comment(text: string): void {
    this.stmts.push({ kind: 'comment', text });
  }

  blank(): void {
    this.stmts.push({ kind: 'blank' });
  }

  call(fn: string, ...args: Operand[]): void {
    this.stmts.push({ kind: 'call', call: call(fn, ...args) });
  }
}

function varStmt(name: string, value?: Operand, type?: Type): VarStmt {
  return {
    kind: 'var',
    name,
    ...(type ? { type } : {}),
    ...(value === undefined ? {} : { value: expr(value) }),
  };
}

export function block(body: Body): readonly Stmt[] {
  const b = new BlockBuilder();
  body(b);
  return b.stmts;
}

// ---- kernels -----------------------------------------------------------------------------

/** Builds one `Kernel`: declarations in the order they are made, then `main`. */
export class KernelBuilder {
  private readonly headerLines: string[] = [];
  private readonly constDecls: KernelConst[] = [];
  private readonly uniforms: KernelUniform[] = [];
  private readonly bindings: KernelBinding[] = [];
  private readonly workgroupVars: WorkgroupVar[] = [];
  private readonly functions: HelperFunction[] = [];
  private grid: Grid | null = null;
  private readonly extraInputs: BuiltinInput[] = [];
  private body: readonly Stmt[] | null = null;
  private loopBound: SizeExpr | null = null;
  private compact = false;

  constructor(readonly workgroupSize: number) {}

  header(...lines: string[]): this {
    this.headerLines.push(...lines);
    return this;
  }

  /** Module-scope constants built elsewhere (a family's shared constants). */
  consts(list: readonly KernelConst[]): this {
    this.constDecls.push(...list);
    return this;
  }

  /** A module-scope constant; returns a reference to it. */
  const(name: string, type: Type, value: Operand, doc?: readonly string[]): Expr {
    this.constDecls.push({ name, type, value: expr(value), ...(doc ? { doc } : {}) });
    return ref(name);
  }

  /** A module-scope constant written next to `main` (`KernelConst.beforeMain`). */
  constBeforeMain(name: string, type: Type, value: Operand): Expr {
    this.constDecls.push({ name, type, value: expr(value), beforeMain: true });
    return ref(name);
  }

  /** A field of the Params uniform with its host value; returns the load `P.name`. */
  uniform(name: string, value: SizeExpr): Expr {
    this.uniforms.push({ name, value });
    return uniform(name);
  }

  storage(binding: number, name: string, access: 'read' | 'read_write', element: Type): string {
    this.bindings.push({ binding, name, access, element });
    return name;
  }

  workgroupVar(
    name: string,
    type: Type,
    doc?: readonly string[],
    options: { blankBefore?: number } = {},
  ): Expr {
    this.workgroupVars.push({ name, type, ...(doc ? { doc } : {}), ...options });
    return ref(name);
  }

  function(fn: HelperFunction): this {
    this.functions.push(fn);
    return this;
  }

  /** How `main` numbers its work (see `Grid`); returns a reference to the index. */
  gridIndex(kind: Grid['kind'], index: string, bound: string | null, comment?: string): Expr {
    this.grid = { kind, index, bound, ...(comment === undefined ? {} : { comment }) };
    return ref(index);
  }

  /** The most loop iterations one invocation runs, recorded in the host plan (loop-budget.ts). */
  loopIterations(bound: SizeExpr): this {
    this.loopBound = bound;
    return this;
  }

  /** Declarations without blank lines, storage before Params (see `Kernel`). */
  compactDeclarations(): this {
    this.compact = true;
    return this;
  }

  /** One workgroup, dispatched once: no grid decoding, `main` reads only `lid`. */
  singleWorkgroup(): this {
    this.grid = { kind: 'single-workgroup', index: 'lid', bound: null };
    return this;
  }

  /** Builtin inputs of `main` beyond the grid's (`SUBGROUP_INPUTS`); returns references. */
  inputs(list: readonly BuiltinInput[]): Expr[] {
    this.extraInputs.push(...list);
    return list.map((i) => ref(i.name));
  }

  main(body: Body): this {
    this.body = block(body);
    return this;
  }

  build(): Kernel {
    if (this.grid === null || this.body === null)
      throw new Error('internal error: a kernel needs a grid and a body');
    return {
      kind: 'kernel',
      header: this.headerLines,
      consts: this.constDecls,
      uniforms: this.uniforms,
      bindings: this.bindings,
      workgroupVars: this.workgroupVars,
      functions: this.functions,
      workgroupSize: this.workgroupSize,
      grid: this.grid,
      ...(this.extraInputs.length > 0 ? { inputs: this.extraInputs } : {}),
      body: this.body,
      ...(this.loopBound === null ? {} : { loopIterations: this.loopBound }),
      ...(this.compact ? { compactDeclarations: true } : {}),
    };
  }
}
