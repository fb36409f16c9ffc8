// Argument matching for calls (`random(2, block: 64)`): binds positional and named arguments
// to a signature's parameters and reports count, order and naming mistakes. Values are read
// afterwards by the caller, which knows their types and ranges.

import type { Argument, CallExpr, Expr } from '../syntax/ast.js';
import { joinSpans } from '../base/span.js';
import type { Span } from '../base/span.js';
import type { DiagnosticSink } from './sink.js';
import { didYouMean } from './suggest.js';
import { listNames } from './values.js';

export interface Param {
  readonly name: string;
  /** Whether it may be given by position; every parameter may be given by name. */
  readonly positional: boolean;
  readonly required: boolean;
}

export interface Signature {
  readonly callee: string;
  readonly params: readonly Param[];
  /** Extra positional arguments are collected under this name (`global(0, 5, 9)`). */
  readonly rest?: string;
  /** How a call is written, quoted, for help notes: "`random(r, block: b, seed: s)`". */
  readonly usage: string;
}

export interface BoundArgs {
  /** Parameter name -> the argument bound to it. */
  readonly named: ReadonlyMap<string, Argument>;
  readonly rest: readonly Expr[];
  /** False when any count, order or naming mistake was reported. */
  readonly ok: boolean;
}

export function matchArgs(call: CallExpr, signature: Signature, sink: DiagnosticSink): BoundArgs {
  const positionalParams = signature.params.filter((p) => p.positional);
  const named = new Map<string, Argument>();
  const rest: Expr[] = [];
  const extra: Argument[] = [];
  let firstNamed: Argument | undefined;
  let nextPositional = 0;
  let ok = true;
  // A misspelt name or a misplaced positional argument is usually the missing required one:
  // one error, not two.
  let misnamed = false;
  const callee = `\`${signature.callee}\``;

  for (const arg of call.args) {
    if (arg.name !== undefined) {
      firstNamed ??= arg;
      const name = arg.name.name;
      if (!signature.params.some((p) => p.name === name)) {
        ok = false;
        misnamed = true;
        const names = signature.params.map((p) => p.name);
        sink.error('E204', `unknown argument \`${name}\` for ${callee}`, arg.name.span, {
          notes: [
            didYouMean(name, names) ??
              (names.length === 0
                ? `${callee} takes no arguments`
                : `${callee} takes ${listNames(names, 'and')}`),
          ],
        });
        continue;
      }
      const earlier = named.get(name);
      if (earlier !== undefined) {
        ok = false;
        if (earlier.name !== undefined) {
          sink.error('E208', `argument \`${name}\` of ${callee} is given twice`, arg.name.span, {
            secondary: [{ span: earlier.name.span, message: 'first given here' }],
            notes: ['remove one of them'],
          });
        } else {
          sink.error(
            'E306',
            `argument \`${name}\` of ${callee} is given both by position and by name`,
            arg.span,
            {
              secondary: [{ span: earlier.span, message: `\`${name}\` given by position here` }],
              notes: ['remove one of them'],
            },
          );
        }
        continue;
      }
      named.set(name, arg);
      continue;
    }
    if (firstNamed !== undefined) {
      ok = false;
      misnamed = true;
      sink.error('E302', `positional argument after a named one in ${callee}`, arg.span, {
        secondary: [{ span: firstNamed.span, message: 'named argument here' }],
        notes: [`put positional arguments first: ${signature.usage}`],
      });
      continue;
    }
    const param = positionalParams[nextPositional];
    if (param !== undefined) {
      nextPositional++;
      named.set(param.name, arg);
    } else if (signature.rest !== undefined) {
      rest.push(arg.value);
    } else {
      extra.push(arg);
    }
  }

  const firstExtra = extra[0];
  const lastExtra = extra[extra.length - 1];
  if (firstExtra !== undefined && lastExtra !== undefined) {
    ok = false;
    misnamed = true;
    const namedOnly = signature.params.filter((p) => !p.positional).map((p) => p.name);
    const takes =
      signature.params.length === 0
        ? `${callee} takes no arguments`
        : positionalParams.length === 0
          ? `${callee} takes no positional arguments`
          : `${callee} takes ${plural(positionalParams.length, 'positional argument')}`;
    sink.error(
      'E300',
      `${takes}, but ${positionalParams.length + extra.length} ${positionalParams.length + extra.length === 1 ? 'was' : 'were'} given`,
      joinSpans(firstExtra.span, lastExtra.span),
      {
        notes: [
          namedOnly.length > 0
            ? `${listNames(namedOnly, 'and')} must be given by name: ${signature.usage}`
            : signature.params.length === 0
              ? `write \`${signature.callee}\``
              : `write ${signature.usage}`,
        ],
      },
    );
  }

  for (const param of signature.params) {
    if (param.required && !named.has(param.name) && !misnamed) {
      ok = false;
      sink.error('E300', `${callee} is missing its argument \`${param.name}\``, call.span, {
        notes: [`write ${signature.usage}`],
      });
    }
  }
  return { named, rest, ok };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** A name or a call: the two shapes a primitive, feature map or method can be written in. */
export interface Callable {
  readonly name: string;
  readonly nameSpan: Span;
  /** Absent for a bare name (`segment`), present for a call (`segment()`). */
  readonly call?: CallExpr;
}

export function asCallable(expr: Expr): Callable | undefined {
  if (expr.kind === 'name') return { name: expr.name, nameSpan: expr.span };
  if (expr.kind === 'call')
    return { name: expr.callee.name, nameSpan: expr.callee.span, call: expr };
  return undefined;
}

/** What a bare name means for a signature: fine if nothing is required, E300 otherwise. */
export function checkBareName(signature: Signature, span: Span, sink: DiagnosticSink): boolean {
  // Only names that take no arguments at all may be bare: `window` alone means nothing.
  if (signature.params.length === 0) return true;
  sink.error('E300', `\`${signature.callee}\` needs arguments`, span, {
    notes: [`write ${signature.usage}`],
  });
  return false;
}
