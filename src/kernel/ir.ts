// The kernel IR: one compute kernel as data, from which render-wgsl.ts writes the only WGSL
// text and verify.ts checks it against the device profile. Readonly tagged unions, like the
// attention IR: emitters build values (build.ts), nothing edits text afterwards, and there is
// no escape hatch for WGSL text (test/architecture/wgsl-text.test.ts keeps it so). Formatting
// hints (`oneLine`, `blank`, explicit `paren`, a literal's spelling) are part of the IR on
// purpose: they keep the rendered WGSL byte-identical to the templates it replaced, so
// migrations are reviewable.

import type { SizeExpr } from '../codegen/plan.js';

export type Scalar = 'f32' | 'u32' | 'i32' | 'f16' | 'bool';

export type Type =
  | { readonly kind: 'scalar'; readonly scalar: Scalar }
  | { readonly kind: 'vec'; readonly size: 2 | 3 | 4; readonly scalar: Scalar }
  /** `atomic<u32>`: workgroup memory that invocations update with `atomicAdd` and friends. */
  | { readonly kind: 'atomic'; readonly scalar: 'u32' | 'i32' }
  /** `length` null: a runtime-sized array (the element array of a storage binding). */
  | { readonly kind: 'array'; readonly element: Type; readonly length: Expr | null };

export type BinaryOp =
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '<'
  | '<='
  | '>'
  | '>='
  | '=='
  | '!='
  | '&&'
  | '||'
  | '&'
  | '|'
  | '^'
  | '<<'
  | '>>';

/** `&`: the address of a workgroup variable (`workgroupUniformLoad(&x)`). */
export type UnaryOp = '-' | '!' | '~' | '&';

export type Expr =
  /**
   * `hex`: spelled `0x...u` (all-ones masks read better so). `bare`: an integer without a
   * suffix (WGSL's abstract int, as in `array<T, 256>`). `scientific`: an f32 spelled with
   * a mantissa and an exponent (`-3.0e38`).
   */
  | {
      readonly kind: 'literal';
      readonly scalar: Scalar;
      readonly value: number | boolean;
      readonly hex?: boolean;
      readonly bare?: boolean;
      readonly scientific?: boolean;
    }
  /** A let, var, const, function parameter, builtin input, binding or workgroup variable. */
  | { readonly kind: 'ref'; readonly name: string }
  /** `P.name`: one field of the kernel's Params uniform. */
  | { readonly kind: 'uniform'; readonly name: string }
  | {
      readonly kind: 'binary';
      readonly op: BinaryOp;
      readonly left: Expr;
      readonly right: Expr;
    }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly operand: Expr }
  /** A WGSL builtin function or one of the kernel's helper functions. */
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Expr[] }
  | { readonly kind: 'construct'; readonly type: Type; readonly args: readonly Expr[] }
  | { readonly kind: 'index'; readonly base: Expr; readonly index: Expr }
  | { readonly kind: 'member'; readonly base: Expr; readonly member: string }
  /** Parentheses the author wants even where precedence does not need them. */
  | { readonly kind: 'paren'; readonly inner: Expr };

export type CompoundOp = '+=' | '-=' | '*=' | '/=' | '%=' | '&=' | '|=' | '^=';

/**
 * `sameLine` (let, var, assign): written on the line of the statement before it
 * (`let a = x; let b = y;`).
 */
export type Stmt =
  | {
      readonly kind: 'let';
      readonly name: string;
      readonly type?: Type;
      readonly value: Expr;
      readonly sameLine?: boolean;
    }
  | {
      readonly kind: 'var';
      readonly name: string;
      readonly type?: Type;
      readonly value?: Expr;
      readonly sameLine?: boolean;
    }
  | {
      readonly kind: 'assign';
      readonly target: Expr;
      readonly value: Expr;
      readonly sameLine?: boolean;
    }
  | {
      readonly kind: 'compound';
      readonly target: Expr;
      readonly op: CompoundOp;
      readonly value: Expr;
    }
  | { readonly kind: 'increment'; readonly target: Expr; readonly op: '++' | '--' }
  /**
   * `else` an `if` statement renders as `} else if`. `oneLine`: `if (c) { s; }` (or
   * `if (c) { s; } else { t; }`), also inside a one-line block.
   */
  | {
      readonly kind: 'if';
      readonly cond: Expr;
      readonly then: readonly Stmt[];
      readonly else: readonly Stmt[] | IfStmt | null;
      readonly oneLine?: boolean;
    }
  | {
      readonly kind: 'for';
      readonly init: VarStmt;
      readonly cond: Expr;
      readonly update: Stmt;
      readonly body: readonly Stmt[];
      readonly oneLine?: boolean;
    }
  | { readonly kind: 'while'; readonly cond: Expr; readonly body: readonly Stmt[] }
  | { readonly kind: 'loop'; readonly body: readonly Stmt[] }
  | { readonly kind: 'break' }
  | { readonly kind: 'continue' }
  | { readonly kind: 'return'; readonly value?: Expr }
  | { readonly kind: 'barrier'; readonly scope: 'workgroup' | 'storage' }
  /** `binding[index] = value`: a write through a read_write storage binding. */
  | {
      readonly kind: 'store';
      readonly binding: string;
      readonly index: Expr;
      readonly value: Expr;
    }
  | { readonly kind: 'comment'; readonly text: string }
  /** An empty line, for grouping. */
  | { readonly kind: 'blank' }
  /** A call whose result is unused (e.g. a helper that stores). */
  | { readonly kind: 'call'; readonly call: Expr & { readonly kind: 'call' } };

export type IfStmt = Stmt & { readonly kind: 'if' };
export type VarStmt = Stmt & { readonly kind: 'var' };

/**
 * A module-scope `const`; `doc` lines are comments written above it. `beforeMain`: written
 * after the declarations and helpers, next to `main` (constants only `main` reads).
 */
export interface KernelConst {
  readonly name: string;
  readonly type: Type;
  readonly value: Expr;
  readonly doc?: readonly string[];
  readonly beforeMain?: boolean;
}

/** One field of the Params uniform: its name in WGSL and the host's run-time value. */
export interface KernelUniform {
  readonly name: string;
  readonly value: SizeExpr;
}

/** A storage buffer binding of group 0 (binding 0 is always the Params uniform). */
export interface KernelBinding {
  readonly binding: number;
  readonly name: string;
  readonly access: 'read' | 'read_write';
  readonly element: Type;
}

/** Where a kernel finds one buffer: its WGSL name and binding number. */
export type BufferSlot = Pick<KernelBinding, 'name' | 'binding'>;

/** `blankBefore`: empty lines written above it, beyond the one that ends the section before. */
export interface WorkgroupVar {
  readonly name: string;
  readonly type: Type;
  readonly doc?: readonly string[];
  readonly blankBefore?: number;
}

export interface HelperFunction {
  readonly name: string;
  readonly params: readonly { readonly name: string; readonly type: Type }[];
  readonly returns: Type | null;
  readonly body: readonly Stmt[];
  readonly doc?: readonly string[];
  /** `fn f(...) -> T { s; }` on one line (a one-statement accessor). */
  readonly oneLine?: boolean;
  /** Empty lines written above it (as for `WorkgroupVar`). */
  readonly blankBefore?: number;
}

/**
 * How `main` finds its work. Both fold a 2D dispatch (`(wid.x + wid.y * nwg.x)`, the host
 * splits counts past maxComputeWorkgroupsPerDimension): `invocation` numbers invocations
 * (`* WG + lid`), `workgroup` numbers workgroups. `bound`: the uniform that counts them;
 * past it `main` returns at once.
 */
export interface Grid {
  /** `single-workgroup`: one workgroup, dispatched once; `main` takes only `lid`. */
  readonly kind: 'invocation' | 'workgroup' | 'single-workgroup';
  readonly index: string;
  readonly bound: string | null;
  /** A comment line above the decoding. */
  readonly comment?: string;
}

/** A builtin input of `main` (`@builtin(builtin) name: type`). */
export interface BuiltinInput {
  readonly name: string;
  readonly builtin: string;
  readonly type: Type;
}

export interface Kernel {
  readonly kind: 'kernel';
  /** Comment lines at the top of the WGSL (without `// `). */
  readonly header: readonly string[];
  readonly consts: readonly KernelConst[];
  /** The Params uniform's u32 fields, in order (the host writes them in this order). */
  readonly uniforms: readonly KernelUniform[];
  readonly bindings: readonly KernelBinding[];
  readonly workgroupVars: readonly WorkgroupVar[];
  readonly functions: readonly HelperFunction[];
  readonly workgroupSize: number;
  readonly grid: Grid;
  /** Builtin inputs `main` reads beyond the grid's (`SUBGROUP_INPUTS`), declared after them. */
  readonly inputs?: readonly BuiltinInput[];
  readonly body: readonly Stmt[];
  /** An upper bound of the loop iterations one invocation runs (loop-budget.ts), if known. */
  readonly loopIterations?: SizeExpr;
  /**
   * Formatting hint: constants, storage bindings, then Params and `P`, with no blank lines
   * between (the route kernels' layout), instead of one section each.
   */
  readonly compactDeclarations?: boolean;
}

/** Builtin inputs of `main`, always declared (the grid decoding reads them). */
export const MAIN_INPUTS: readonly BuiltinInput[] = [
  { name: 'wid', builtin: 'workgroup_id', type: { kind: 'vec', size: 3, scalar: 'u32' } },
  { name: 'nwg', builtin: 'num_workgroups', type: { kind: 'vec', size: 3, scalar: 'u32' } },
  { name: 'lid', builtin: 'local_invocation_index', type: { kind: 'scalar', scalar: 'u32' } },
];

/**
 * The subgroup builtins (WGSL's `subgroups` extension): the lane's index in its subgroup and
 * the subgroup's size, a run-time value (4 on SwiftShader, 32 on NVIDIA, 32 or 64 on AMD).
 */
export const SUBGROUP_INPUTS: readonly BuiltinInput[] = [
  { name: 'lane', builtin: 'subgroup_invocation_id', type: { kind: 'scalar', scalar: 'u32' } },
  { name: 'sgSize', builtin: 'subgroup_size', type: { kind: 'scalar', scalar: 'u32' } },
];

/**
 * Builtins whose value differs between the invocations of a workgroup (the uniformity check
 * treats what reads them as invocation-dependent); the others (workgroup_id, subgroup_size,
 * ...) are the same in every invocation.
 */
export const INVOCATION_BUILTINS: ReadonlySet<string> = new Set([
  'local_invocation_index',
  'local_invocation_id',
  'global_invocation_id',
  'subgroup_invocation_id',
]);

/**
 * The builtin inputs `main` declares: the grid's (a single workgroup needs only its invocation
 * index), then the kernel's own.
 */
export function mainInputs(kernel: Pick<Kernel, 'grid' | 'inputs'>): readonly BuiltinInput[] {
  const grid =
    kernel.grid.kind === 'single-workgroup'
      ? MAIN_INPUTS.filter((i) => i.name === 'lid')
      : MAIN_INPUTS;
  return [...grid, ...(kernel.inputs ?? [])];
}

export function unreachableKernelNode(x: never): never {
  throw new Error(`internal error: unhandled kernel IR node ${JSON.stringify(x)}`);
}
