// Workgroup memory of a kernel in bytes, by WGSL's size and alignment rules, against the
// profile's maxComputeWorkgroupStorageSize. Array lengths are constant expressions over
// literals and module constants, evaluated here.

import type { Expr, Kernel, Type } from './ir.js';
import type { KernelProblem } from './problem.js';

export function workgroupBytes(kernel: Kernel, most: number): KernelProblem[] {
  const consts = new Map(kernel.consts.map((c) => [c.name, c.value]));
  let total = 0;
  for (const w of kernel.workgroupVars) {
    const bytes = sizeOf(w.type, consts);
    if (bytes === null)
      return [
        {
          rule: 'workgroup-memory',
          message: `workgroup variable \`${w.name}\`: its length is not a constant expression`,
        },
      ];
    total += bytes;
  }
  if (total <= most) return [];
  return [
    {
      rule: 'workgroup-memory',
      message: `${total} bytes of workgroup memory, but the profile allows ${most}`,
    },
  ];
}

function alignOf(type: Type): number {
  switch (type.kind) {
    case 'scalar':
      return type.scalar === 'f16' ? 2 : 4;
    case 'vec':
      return (type.size === 2 ? 2 : 4) * alignOf({ kind: 'scalar', scalar: type.scalar });
    case 'atomic':
      return 4;
    case 'array':
      return alignOf(type.element);
  }
}

function sizeOf(type: Type, consts: ReadonlyMap<string, Expr>): number | null {
  switch (type.kind) {
    case 'scalar':
    case 'atomic':
      return alignOf(type);
    case 'vec':
      return type.size * alignOf({ kind: 'scalar', scalar: type.scalar });
    case 'array': {
      const element = sizeOf(type.element, consts);
      const length = type.length === null ? null : constValue(type.length, consts);
      if (element === null || length === null) return null;
      const align = alignOf(type.element);
      return length * Math.ceil(element / align) * align;
    }
  }
}

/** The value of an integer constant expression, or null when it is not one. */
export function constValue(e: Expr, consts: ReadonlyMap<string, Expr>): number | null {
  switch (e.kind) {
    case 'literal':
      return typeof e.value === 'number' ? e.value : null;
    case 'ref': {
      const value = consts.get(e.name);
      return value === undefined ? null : constValue(value, consts);
    }
    case 'paren':
      return constValue(e.inner, consts);
    case 'binary': {
      const a = constValue(e.left, consts);
      const b = constValue(e.right, consts);
      if (a === null || b === null) return null;
      const ops: Partial<Record<string, (x: number, y: number) => number>> = {
        '+': (x, y) => x + y,
        '-': (x, y) => x - y,
        '*': (x, y) => x * y,
        '/': (x, y) => Math.trunc(x / y),
        '%': (x, y) => x % y,
      };
      return ops[e.op]?.(a, b) ?? null;
    }
    default:
      return null;
  }
}
