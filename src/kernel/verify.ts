// The kernel verifier: checks a kernel against the device profile before it is rendered.
// compile.ts runs it on every kernel on the IR; a problem is a compiler bug (the emitter built
// a kernel the device cannot run or that reads an undefined name), so problems are values
// here and the caller turns them into an internal error that lists them all.
// Rules: every reference defined before use; storage bindings unique and within
// maxStorageBuffersPerShaderStage, stores only through read_write ones; workgroup memory
// within maxComputeWorkgroupStorageSize; the workgroup size within the profile's limits;
// barriers only in uniform control flow (not under a branch or loop whose condition depends
// on the invocation or on loaded data, nor after such a branch returned).

import type { KernelLimits } from '../target/profile.js';
import { gridStatements } from './blocks/grid.js';
import type { Expr, Kernel, Stmt } from './ir.js';
import { mainInputs } from './ir.js';
import { checkUniformity } from './verify-uniformity.js';
import { workgroupBytes } from './verify-memory.js';
import { exprChildren, stmtBodies, stmtExprs } from './walk.js';
import type { KernelProblem } from './problem.js';

export type { KernelProblem, KernelRule } from './problem.js';

export type VerifyLimits = Pick<
  KernelLimits,
  | 'maxStorageBuffersPerShaderStage'
  | 'maxComputeWorkgroupStorageSize'
  | 'maxComputeInvocationsPerWorkgroup'
  | 'maxComputeWorkgroupSizeX'
>;

export function verifyKernel(kernel: Kernel, limits: VerifyLimits): KernelProblem[] {
  return [
    ...checkBindings(kernel, limits),
    ...checkWorkgroupSize(kernel, limits),
    ...workgroupBytes(kernel, limits.maxComputeWorkgroupStorageSize),
    ...checkReferences(kernel),
    ...checkUniformity(kernel),
  ];
}

function checkBindings(kernel: Kernel, limits: VerifyLimits): KernelProblem[] {
  const problems: KernelProblem[] = [];
  const numbers = new Set<number>([0]);
  const names = new Set<string>(['P']);
  for (const b of kernel.bindings) {
    if (numbers.has(b.binding))
      problems.push({
        rule: 'duplicate-binding',
        message: `binding ${b.binding} (\`${b.name}\`) is used twice (0 is the Params uniform)`,
      });
    if (names.has(b.name))
      problems.push({ rule: 'duplicate-binding', message: `two bindings are named \`${b.name}\`` });
    numbers.add(b.binding);
    names.add(b.name);
  }
  const most = limits.maxStorageBuffersPerShaderStage;
  if (kernel.bindings.length > most)
    problems.push({
      rule: 'too-many-storage-buffers',
      message: `${kernel.bindings.length} storage bindings, but the profile allows ${most} per stage`,
    });
  return problems;
}

function checkWorkgroupSize(kernel: Kernel, limits: VerifyLimits): KernelProblem[] {
  const n = kernel.workgroupSize;
  const most = Math.min(limits.maxComputeWorkgroupSizeX, limits.maxComputeInvocationsPerWorkgroup);
  if (Number.isInteger(n) && n >= 1 && n <= most) return [];
  return [
    {
      rule: 'workgroup-size',
      message: `workgroup size ${n} is not an integer in 1..${most} (the profile's limits)`,
    },
  ];
}

/** Names in scope while walking: a chain of block scopes over the module scope. */
class Scope {
  private readonly names = new Set<string>();
  constructor(private readonly parent: Scope | null) {}
  define(name: string): void {
    this.names.add(name);
  }
  has(name: string): boolean {
    return this.names.has(name) || (this.parent?.has(name) ?? false);
  }
  child(): Scope {
    return new Scope(this);
  }
}

function checkReferences(kernel: Kernel): KernelProblem[] {
  const problems: KernelProblem[] = [];
  const uniforms = new Set(kernel.uniforms.map((u) => u.name));
  const writable = new Set(
    kernel.bindings.filter((b) => b.access === 'read_write').map((b) => b.name),
  );
  const where = { name: 'module scope' };
  const expr = (e: Expr, scope: Scope): void => {
    if (e.kind === 'ref' && !scope.has(e.name))
      problems.push({
        rule: 'undefined-reference',
        message: `${where.name}: \`${e.name}\` is used before it is defined`,
      });
    if (e.kind === 'uniform' && !uniforms.has(e.name))
      problems.push({
        rule: 'undefined-reference',
        message: `${where.name}: \`P.${e.name}\` is not a field of Params`,
      });
    exprChildren(e).forEach((c) => expr(c, scope));
  };
  const stmts = (list: readonly Stmt[], scope: Scope) => list.forEach((s) => stmt(s, scope));
  const stmt = (s: Stmt, scope: Scope): void => {
    if (s.kind === 'store' && !writable.has(s.binding))
      problems.push({
        rule: 'store-to-read-only',
        message: `${where.name}: a store to \`${s.binding}\`, which is not a read_write storage binding`,
      });
    if (s.kind === 'for') {
      const inner = scope.child();
      stmt(s.init, inner);
      expr(s.cond, inner);
      stmt(s.update, inner);
      stmts(s.body, inner.child());
      return;
    }
    stmtExprs(s).forEach((e) => expr(e, scope));
    if (s.kind === 'let' || s.kind === 'var') scope.define(s.name);
    for (const body of stmtBodies(s)) stmts(body, scope.child());
  };
  const module = new Scope(null);
  for (const c of kernel.consts) {
    where.name = `const ${c.name}`;
    expr(c.value, module);
    module.define(c.name);
  }
  [...kernel.bindings, ...kernel.workgroupVars, ...kernel.functions].forEach((d) =>
    module.define(d.name),
  );
  for (const fn of kernel.functions) {
    where.name = `fn ${fn.name}`;
    const scope = module.child();
    fn.params.forEach((p) => scope.define(p.name));
    stmts(fn.body, scope);
  }
  where.name = 'main';
  const main = module.child();
  mainInputs(kernel).forEach((i) => main.define(i.name));
  stmts([...gridStatements(kernel.grid, kernel.workgroupSize), ...kernel.body], main);
  return problems;
}
