// The non-mask callables: feature maps (`kernel`, section 6), low-rank methods (`lowrank`,
// section 7), `bias: alibi` and `head_routing: top(k)` (section 8). Each is a name or a call,
// resolved against a small signature table like the mask primitives.

import type { Expr } from '../syntax/ast.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';
import type { Span } from '../base/span.js';
import type { FeatureMap, LowRank } from './checked.js';
import { asCallable, checkBareName, matchArgs } from './args.js';
import type { BoundArgs, Callable, Signature } from './args.js';
import { misplacedNameNote } from './names.js';
import type { DiagnosticSink } from './sink.js';
import { didYouMean } from './suggest.js';
import {
  INT_MAX,
  SEED_MAX,
  assertNever,
  describeExpr,
  listNames,
  readInt,
  rejectOperator,
} from './values.js';
import type { IntRange } from './values.js';

/** Defaults where language.md is silent or gives one (documented in docs/language.md). */
export const MECHANISM_DEFAULTS = {
  favorSeed: 0,
  nystromIters: 6,
} as const;

const SIZE: IntRange = { min: 1, max: INT_MAX };
const SEED: IntRange = { min: 0, max: SEED_MAX };
/**
 * Ranges that keep kernels, plans and host tables bounded (language.md section 6): each
 * nystrom iteration is four dispatches in the plan; `m x m` pinv matrices (six per batch and
 * head) and the `features x head_dim` FAVOR+ matrix drawn on the host grow with their count.
 */
export const NYSTROM_ITERS: IntRange = { min: 1, max: 100 };
export const NYSTROM_LANDMARKS: IntRange = { min: 1, max: 1024 };
export const FAVOR_FEATURES: IntRange = { min: 1, max: 16384 };

export interface Family<K extends string> {
  /** "feature map", for messages. */
  readonly noun: string;
  readonly property: string;
  readonly unknownCode: DiagnosticCode;
  readonly signatures: { readonly [N in K]: Signature };
}

export const FEATURE_MAPS: Family<FeatureMap['kind']> = {
  noun: 'feature map',
  property: 'kernel',
  unknownCode: 'E202',
  signatures: {
    elu1: { callee: 'elu1', params: [], usage: '`elu1`' },
    relu: { callee: 'relu', params: [], usage: '`relu`' },
    favor: {
      callee: 'favor',
      params: [
        { name: 'features', positional: true, required: true },
        { name: 'seed', positional: false, required: false },
      ],
      usage: '`favor(features, seed: s)`',
    },
  },
};

export const LOW_RANK: Family<LowRank['kind']> = {
  noun: 'low-rank method',
  property: 'lowrank',
  unknownCode: 'E203',
  signatures: {
    linformer: {
      callee: 'linformer',
      params: [{ name: 'rank', positional: true, required: true }],
      usage: '`linformer(rank)`',
    },
    nystrom: {
      callee: 'nystrom',
      params: [
        { name: 'landmarks', positional: true, required: true },
        { name: 'iters', positional: false, required: false },
      ],
      usage: '`nystrom(landmarks, iters: k)`',
    },
  },
};

export const BIASES: Family<'alibi'> = {
  noun: 'bias',
  property: 'bias',
  unknownCode: 'E209',
  signatures: { alibi: { callee: 'alibi', params: [], usage: '`alibi`' } },
};

export const ROUTINGS: Family<'top'> = {
  noun: 'head routing',
  property: 'head_routing',
  unknownCode: 'E209',
  signatures: {
    top: {
      callee: 'top',
      params: [{ name: 'k', positional: true, required: true }],
      usage: '`top(k)`',
    },
  },
};

interface Resolved<K extends string> {
  readonly kind: K;
  readonly callable: Callable;
  /** Undefined for a bare name. */
  readonly bound?: BoundArgs;
  readonly span: Span;
}

/** Finds which member of a family `expr` names and matches its arguments. */
function resolve<K extends string>(
  expr: Expr,
  family: Family<K>,
  sink: DiagnosticSink,
): Resolved<K> | undefined {
  const what = `\`${family.property}\``;
  if (rejectOperator(expr, what, sink)) return undefined;
  const names = Object.keys(family.signatures) as K[];
  const callable = asCallable(expr);
  if (callable === undefined) {
    sink.error('E301', `${what} must be a ${family.noun}, found ${describeExpr(expr)}`, expr.span, {
      notes: [`expected ${listNames(names)}`],
    });
    return undefined;
  }
  const kind = names.find((n) => n === callable.name);
  if (kind === undefined) {
    sink.error(
      family.unknownCode,
      `unknown ${family.noun} \`${callable.name}\``,
      callable.nameSpan,
      {
        notes: [
          didYouMean(callable.name, names) ??
            misplacedNameNote(callable.name) ??
            `expected ${listNames(names)}`,
        ],
      },
    );
    return undefined;
  }
  const signature = family.signatures[kind];
  if (callable.call === undefined) {
    if (!checkBareName(signature, expr.span, sink)) return undefined;
    return { kind, callable, span: expr.span };
  }
  return { kind, callable, bound: matchArgs(callable.call, signature, sink), span: expr.span };
}

/** Reads an integer argument: null when absent, undefined when invalid (already reported). */
function intArg(
  resolved: Resolved<string>,
  param: string,
  range: IntRange,
  sink: DiagnosticSink,
): number | null | undefined {
  const arg = resolved.bound?.named.get(param);
  if (arg === undefined) return null;
  return readInt(arg.value, `argument \`${param}\` of \`${resolved.kind}\``, range, sink);
}

function argsOk(resolved: Resolved<string>, ...values: (number | null | undefined)[]): boolean {
  return (resolved.bound?.ok ?? true) && values.every((v) => v !== undefined);
}

export function readKernel(expr: Expr, sink: DiagnosticSink): FeatureMap | undefined {
  const resolved = resolve(expr, FEATURE_MAPS, sink);
  if (resolved === undefined) return undefined;
  const span = resolved.span;
  switch (resolved.kind) {
    case 'elu1':
    case 'relu':
      return argsOk(resolved) ? { kind: resolved.kind, span } : undefined;
    case 'favor': {
      const features = intArg(resolved, 'features', FAVOR_FEATURES, sink);
      const seed = intArg(resolved, 'seed', SEED, sink);
      if (!argsOk(resolved, features, seed) || features == null) return undefined;
      return { kind: 'favor', features, seed: seed ?? MECHANISM_DEFAULTS.favorSeed, span };
    }
    default:
      return assertNever(resolved.kind);
  }
}

export function readLowRank(expr: Expr, sink: DiagnosticSink): LowRank | undefined {
  const resolved = resolve(expr, LOW_RANK, sink);
  if (resolved === undefined) return undefined;
  const span = resolved.span;
  switch (resolved.kind) {
    case 'linformer': {
      const rank = intArg(resolved, 'rank', SIZE, sink);
      if (!argsOk(resolved, rank) || rank == null) return undefined;
      return { kind: 'linformer', rank, span };
    }
    case 'nystrom': {
      const landmarks = intArg(resolved, 'landmarks', NYSTROM_LANDMARKS, sink);
      const iters = intArg(resolved, 'iters', NYSTROM_ITERS, sink);
      if (!argsOk(resolved, landmarks, iters) || landmarks == null) return undefined;
      return {
        kind: 'nystrom',
        landmarks,
        iters: iters ?? MECHANISM_DEFAULTS.nystromIters,
        span,
      };
    }
    default:
      return assertNever(resolved.kind);
  }
}

export function readBias(expr: Expr, sink: DiagnosticSink): 'alibi' | undefined {
  const resolved = resolve(expr, BIASES, sink);
  return resolved !== undefined && argsOk(resolved) ? resolved.kind : undefined;
}

/** `top(k)`: the number of heads each query row keeps; `k <= heads` is a rule (E402). */
export interface HeadRouting {
  readonly k: number;
  /** The span of `k` itself, for E402 and W106. */
  readonly kSpan: Span;
  readonly span: Span;
}

export function readHeadRouting(expr: Expr, sink: DiagnosticSink): HeadRouting | undefined {
  const resolved = resolve(expr, ROUTINGS, sink);
  if (resolved === undefined) return undefined;
  const k = intArg(resolved, 'k', SIZE, sink);
  const kArg = resolved.bound?.named.get('k');
  if (!argsOk(resolved, k) || k == null || kArg === undefined) return undefined;
  return { k, kSpan: kArg.value.span, span: resolved.span };
}
