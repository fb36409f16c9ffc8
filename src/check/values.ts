// Readers for scalar values (integers, positive numbers, booleans, enum names). Each one
// reports what is wrong with an expression and returns undefined, so callers never see a
// half-valid value and later rules do not pile more errors onto the same mistake.

import type { Expr } from '../syntax/ast.js';
import type { DiagnosticSink } from './sink.js';
import { didYouMean } from './suggest.js';

/** Sizes and counts end up in WGSL `i32`/`u32` arithmetic, so they stay below 2^31. */
export const INT_MAX = 2 ** 31 - 1;
/** Seeds are `u32`. */
export const SEED_MAX = 2 ** 32 - 1;

/** How an expression reads in a message: the literal itself where it is short. */
export function describeExpr(expr: Expr): string {
  switch (expr.kind) {
    case 'number':
      return `\`${expr.text}\``;
    case 'bool':
      return `\`${expr.value}\``;
    case 'name':
      return `\`${expr.name}\``;
    case 'call':
      return `\`${expr.callee.name}(...)\``;
    case 'list':
      return 'a list';
    case 'union':
      return 'a union (`|`)';
    case 'intersect':
      return 'an intersection (`&`)';
    default:
      return assertNever(expr);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

/**
 * `|` and `&` only combine masks. Returns true (after reporting E304) when `expr` uses one
 * where a single value is expected.
 */
export function rejectOperator(expr: Expr, what: string, sink: DiagnosticSink): boolean {
  if (expr.kind !== 'union' && expr.kind !== 'intersect') return false;
  const operator = expr.kind === 'union' ? '|' : '&';
  sink.error('E304', `\`${operator}\` is only allowed between masks, not in ${what}`, expr.span, {
    notes: [`${what} takes a single value`],
  });
  return true;
}

export interface IntRange {
  readonly min: number;
  readonly max: number;
}

/** Integers are written as integer literals: no point, no exponent (E301 otherwise). */
export function readInt(
  expr: Expr,
  what: string,
  range: IntRange,
  sink: DiagnosticSink,
): number | undefined {
  if (rejectOperator(expr, what, sink)) return undefined;
  if (expr.kind !== 'number') {
    sink.error('E301', `${what} must be an integer, found ${describeExpr(expr)}`, expr.span, {
      notes: [
        expr.kind === 'list'
          ? 'a list is only accepted as the single argument of `global`'
          : undefined,
      ],
    });
    return undefined;
  }
  if (!/^[0-9]+$/.test(expr.text)) {
    const integral = Number.isSafeInteger(expr.value);
    sink.error('E301', `${what} must be an integer, found \`${expr.text}\``, expr.span, {
      notes: [
        integral
          ? `write it as an integer literal: \`${expr.value}\``
          : 'integer values take no decimal point and no exponent',
      ],
    });
    return undefined;
  }
  if (!Number.isSafeInteger(expr.value) || expr.value < range.min || expr.value > range.max) {
    reportRange(expr, what, range, sink);
    return undefined;
  }
  return expr.value;
}

function reportRange(
  expr: Expr & { kind: 'number' },
  what: string,
  range: IntRange,
  sink: DiagnosticSink,
): void {
  const bounds =
    range.max === INT_MAX || range.max === SEED_MAX
      ? expr.value < range.min
        ? `at least ${range.min}`
        : `at most ${range.max}`
      : `between ${range.min} and ${range.max}`;
  sink.error('E400', `${what} must be ${bounds}, found ${expr.text}`, expr.span);
}

/** A finite number greater than zero (`scale`, `softcap`); any literal form is fine. */
export function readPositiveNumber(
  expr: Expr,
  what: string,
  sink: DiagnosticSink,
  hint?: string,
): number | undefined {
  if (rejectOperator(expr, what, sink)) return undefined;
  if (expr.kind !== 'number') {
    sink.error('E301', `${what} must be a number, found ${describeExpr(expr)}`, expr.span, {
      notes: [hint],
    });
    return undefined;
  }
  if (!Number.isFinite(expr.value) || expr.value <= 0) {
    sink.error('E400', `${what} must be a positive number, found ${expr.text}`, expr.span);
    return undefined;
  }
  return expr.value;
}

export function readBool(expr: Expr, what: string, sink: DiagnosticSink): boolean | undefined {
  if (rejectOperator(expr, what, sink)) return undefined;
  if (expr.kind === 'bool') return expr.value;
  sink.error(
    'E301',
    `${what} must be \`true\` or \`false\`, found ${describeExpr(expr)}`,
    expr.span,
    {
      notes: [expr.kind === 'name' ? didYouMean(expr.name, ['true', 'false']) : undefined],
    },
  );
  return undefined;
}

/** One of a fixed set of bare names (`layout: bnhd`); an unknown name is E209. */
export function readChoice<T extends string>(
  expr: Expr,
  what: string,
  choices: readonly T[],
  sink: DiagnosticSink,
): T | undefined {
  if (rejectOperator(expr, what, sink)) return undefined;
  const expected = `expected ${listNames(choices)}`;
  if (expr.kind !== 'name') {
    sink.error('E301', `${what} must be a name, found ${describeExpr(expr)}`, expr.span, {
      notes: [expected],
    });
    return undefined;
  }
  const found = choices.find((c) => c === expr.name);
  if (found !== undefined) return found;
  sink.error('E209', `unknown value \`${expr.name}\` for ${what}`, expr.span, {
    notes: [didYouMean(expr.name, choices) ?? expected],
  });
  return undefined;
}

/** `a`; `a` or `b`; `a`, `b` or `c` (or with `and`). */
export function listNames(names: readonly string[], conjunction: 'or' | 'and' = 'or'): string {
  const quoted = names.map((n) => `\`${n}\``);
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} ${conjunction} ${quoted[quoted.length - 1]}`;
}
