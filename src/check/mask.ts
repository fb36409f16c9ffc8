// Mask expressions (language.md section 4): resolves primitives, matches their arguments and
// builds the checked MaskNode tree as written. Warnings that need no other property (a global
// position listed twice, `full` inside `|`/`&`) are found here; those that need `max_seq` or
// `causal` are in rules.ts.

import type { Argument, Expr } from '../syntax/ast.js';
import type { Span } from '../base/span.js';
import type { MaskKind, MaskNode } from './checked.js';
import { asCallable, checkBareName, matchArgs } from './args.js';
import type { BoundArgs, Signature } from './args.js';
import type { DiagnosticSink } from './sink.js';
import { didYouMean } from './suggest.js';
import { INT_MAX, SEED_MAX, assertNever, describeExpr, readInt } from './values.js';
import type { IntRange } from './values.js';
import { FOREIGN_PRIMITIVES } from './foreign-names.js';
import { NAME_HOMES, misplacedNameNote } from './names.js';

/** Primitives, i.e. every mask kind except the two combinators. */
export type PrimitiveName = Exclude<MaskKind, 'union' | 'intersect'>;

/** Defaults where language.md is silent (documented in docs/language.md). */
export const MASK_DEFAULTS = {
  randomBlock: 64,
  topkBlock: 64,
  seed: 0,
} as const;

const positional = (name: string, required = true) => ({ name, positional: true, required });
const namedOnly = (name: string, required = false) => ({ name, positional: false, required });

export const MASK_SIGNATURES: { readonly [K in PrimitiveName]: Signature } = {
  full: { callee: 'full', params: [], usage: '`full`' },
  causal: { callee: 'causal', params: [], usage: '`causal`' },
  window: {
    callee: 'window',
    params: [positional('width', false), namedOnly('left'), namedOnly('right')],
    usage: '`window(width)` or `window(left: a, right: b)`',
  },
  dilated: {
    callee: 'dilated',
    params: [positional('width'), positional('dilation')],
    usage: '`dilated(width, dilation)`',
  },
  stride: { callee: 'stride', params: [positional('step')], usage: '`stride(step)`' },
  global: {
    callee: 'global',
    params: [namedOnly('first')],
    rest: 'positions',
    usage: '`global(t1, t2, ...)` or `global(first: g)`',
  },
  sink: { callee: 'sink', params: [positional('count')], usage: '`sink(count)`' },
  blocks: { callee: 'blocks', params: [positional('size')], usage: '`blocks(size)`' },
  random: {
    callee: 'random',
    params: [positional('count'), namedOnly('block'), namedOnly('seed')],
    usage: '`random(count, block: b, seed: s)`',
  },
  segment: { callee: 'segment', params: [], usage: '`segment`' },
  topk: {
    callee: 'topk',
    params: [positional('k'), namedOnly('block')],
    usage: '`topk(k, block: b)`',
  },
  cluster: { callee: 'cluster', params: [positional('count')], usage: '`cluster(count)`' },
  lsh: {
    callee: 'lsh',
    params: [namedOnly('buckets', true), namedOnly('seed')],
    usage: '`lsh(buckets: n, seed: s)`',
  },
};

const PRIMITIVE_NAMES = Object.keys(MASK_SIGNATURES) as PrimitiveName[];

function isPrimitive(name: string): name is PrimitiveName {
  return Object.hasOwn(MASK_SIGNATURES, name);
}

const SIZE: IntRange = { min: 1, max: INT_MAX };
const DISTANCE: IntRange = { min: 0, max: INT_MAX };
const SEED: IntRange = { min: 0, max: SEED_MAX };

/** Checks a mask expression; undefined when anything in it is an error. */
export function checkMask(expr: Expr, sink: DiagnosticSink): MaskNode | undefined {
  switch (expr.kind) {
    case 'union':
    case 'intersect': {
      const terms = expr.terms.map((term) => checkMask(term, sink));
      if (!terms.every((t): t is MaskNode => t !== undefined)) return undefined;
      warnAboutFull(expr.kind, terms, sink);
      return { kind: expr.kind, terms, span: expr.span };
    }
    case 'name':
    case 'call':
      return checkPrimitive(expr, sink);
    case 'number':
    case 'bool':
    case 'list':
      sink.error('E303', `expected a mask, found ${describeExpr(expr)}`, expr.span, {
        notes: [
          expr.kind === 'bool'
            ? 'for causal attention write `causal: true` or `mask: causal`'
            : 'a mask is a primitive such as `window(64)`, or primitives combined with `|` and `&`',
        ],
      });
      return undefined;
    default:
      return assertNever(expr);
  }
}

/** `full | x` allows everything and `full & x` is `x`: either way something is dead text. */
function warnAboutFull(
  kind: 'union' | 'intersect',
  terms: readonly MaskNode[],
  sink: DiagnosticSink,
) {
  if (terms.length < 2) return;
  for (const term of terms) {
    if (term.kind !== 'full') continue;
    if (kind === 'union') {
      sink.warning(
        'W105',
        '`full` in a union allows every position: the other terms have no effect',
        term.span,
        {
          notes: ['remove `full`, or write `mask: full`'],
        },
      );
    } else {
      sink.warning('W105', '`full` in an intersection has no effect', term.span, {
        notes: ['remove it'],
      });
    }
  }
}

function checkPrimitive(
  expr: Expr & { kind: 'name' | 'call' },
  sink: DiagnosticSink,
): MaskNode | undefined {
  const callable = asCallable(expr);
  if (callable === undefined) return undefined;
  const { name, nameSpan, call } = callable;
  if (!isPrimitive(name)) {
    const other = NAME_HOMES.get(name);
    if (other !== undefined) {
      sink.error('E303', `\`${name}\` is ${other.what}, not a mask`, nameSpan, {
        notes: [misplacedNameNote(name)],
      });
    } else {
      sink.error('E201', `unknown mask primitive \`${name}\``, nameSpan, {
        notes: [
          FOREIGN_PRIMITIVES.get(name) ??
            didYouMean(name, PRIMITIVE_NAMES) ??
            `the mask primitives are ${PRIMITIVE_NAMES.map((n) => `\`${n}\``).join(', ')}`,
        ],
      });
    }
    return undefined;
  }
  const signature = MASK_SIGNATURES[name];
  if (call === undefined) {
    if (!checkBareName(signature, expr.span, sink)) return undefined;
    return buildPrimitive(name, expr.span, NO_ARGS, sink);
  }
  return buildPrimitive(name, call.span, matchArgs(call, signature, sink), sink);
}

/** A bare name (`segment`): no arguments, nothing wrong with them. */
const NO_ARGS: BoundArgs = { named: new Map(), rest: [], ok: true };

/** Reads each bound argument (so every bad value is reported), then builds the node. */
function buildPrimitive(
  name: PrimitiveName,
  span: Span,
  bound: BoundArgs,
  sink: DiagnosticSink,
): MaskNode | undefined {
  switch (name) {
    case 'full':
    case 'causal':
    case 'segment':
      return bound.ok ? { kind: name, span } : undefined;
    case 'window':
      return buildWindow(
        span,
        bound,
        readArg(bound, name, 'width', DISTANCE, sink),
        readArg(bound, name, 'left', DISTANCE, sink),
        readArg(bound, name, 'right', DISTANCE, sink),
        sink,
      );
    case 'dilated': {
      const width = readArg(bound, name, 'width', DISTANCE, sink);
      const dilation = readArg(bound, name, 'dilation', SIZE, sink);
      if (!allRead(bound, [width, dilation]) || width == null || dilation == null) return undefined;
      if (width * dilation > INT_MAX) {
        sink.error(
          'E400',
          `\`dilated(${width}, ${dilation})\` reaches ${width * dilation} positions, more than ${INT_MAX}`,
          span,
        );
        return undefined;
      }
      return { kind: 'dilated', width, dilation, span };
    }
    case 'stride': {
      const step = readArg(bound, name, 'step', SIZE, sink);
      return allRead(bound, [step]) && step != null ? { kind: 'stride', step, span } : undefined;
    }
    case 'global':
      return buildGlobal(span, bound, readArg(bound, name, 'first', SIZE, sink), sink);
    case 'sink': {
      const count = readArg(bound, name, 'count', SIZE, sink);
      return allRead(bound, [count]) && count != null ? { kind: 'sink', count, span } : undefined;
    }
    case 'blocks': {
      const size = readArg(bound, name, 'size', SIZE, sink);
      return allRead(bound, [size]) && size != null ? { kind: 'blocks', size, span } : undefined;
    }
    case 'random': {
      const count = readArg(bound, name, 'count', SIZE, sink);
      const block = readArg(bound, name, 'block', SIZE, sink);
      const seed = readArg(bound, name, 'seed', SEED, sink);
      if (!allRead(bound, [count, block, seed]) || count == null) return undefined;
      return {
        kind: 'random',
        count,
        block: block ?? MASK_DEFAULTS.randomBlock,
        seed: seed ?? MASK_DEFAULTS.seed,
        span,
      };
    }
    case 'topk': {
      const k = readArg(bound, name, 'k', SIZE, sink);
      const block = readArg(bound, name, 'block', SIZE, sink);
      if (!allRead(bound, [k, block]) || k == null) return undefined;
      return { kind: 'topk', k, block: block ?? MASK_DEFAULTS.topkBlock, span };
    }
    case 'cluster': {
      const count = readArg(bound, name, 'count', SIZE, sink);
      if (!allRead(bound, [count]) || count == null) return undefined;
      if (count === 1) {
        sink.warning(
          'W107',
          '`cluster(1)` puts every query and key in one cluster, so it allows every position',
          span,
          {
            notes: ['use `full`, or more than one cluster'],
          },
        );
      }
      return { kind: 'cluster', count, span };
    }
    case 'lsh': {
      const buckets = readArg(bound, name, 'buckets', { min: 2, max: INT_MAX }, sink);
      const seed = readArg(bound, name, 'seed', SEED, sink);
      if (!allRead(bound, [buckets, seed]) || buckets == null) return undefined;
      if (buckets % 2 !== 0) {
        const value = bound.named.get('buckets')?.value.span ?? span;
        sink.error('E401', `\`lsh\` needs an even number of buckets, found ${buckets}`, value, {
          notes: [
            'a bucket is the argmax of `[xR, -xR]`, so buckets come in pairs',
            `use ${buckets - 1} or ${buckets + 1}`,
          ],
        });
        return undefined;
      }
      return { kind: 'lsh', buckets, seed: seed ?? MASK_DEFAULTS.seed, span };
    }
    default:
      return assertNever(name);
  }
}

/** The argument bound to `param` (null when not given; undefined when reported as bad). */
function readArg(
  bound: BoundArgs,
  name: PrimitiveName,
  param: string,
  range: IntRange,
  sink: DiagnosticSink,
): number | undefined | null {
  const a = bound.named.get(param);
  if (a === undefined) return null;
  return readInt(a.value, `argument \`${param}\` of \`${name}\``, range, sink);
}

function allRead(bound: BoundArgs, values: readonly (number | undefined | null)[]): boolean {
  return bound.ok && values.every((v) => v !== undefined);
}

/** `window(w)` is symmetric; `window(left: a, right: b)` defaults a missing side to 0. */
function buildWindow(
  span: Span,
  bound: BoundArgs,
  width: number | undefined | null,
  left: number | undefined | null,
  right: number | undefined | null,
  sink: DiagnosticSink,
): MaskNode | undefined {
  const widthArg = bound.named.get('width');
  const sideArg = bound.named.get('left') ?? bound.named.get('right');
  if (widthArg !== undefined && sideArg !== undefined) {
    sink.error('E306', '`window` takes a width or `left:`/`right:`, not both', sideArg.span, {
      secondary: [{ span: widthArg.span, message: 'width given here' }],
      notes: ['write `window(width)` for a symmetric window, or `window(left: a, right: b)`'],
    });
    return undefined;
  }
  if (widthArg === undefined && sideArg === undefined) {
    if (bound.ok) {
      sink.error('E300', '`window` is missing its width', span, {
        notes: ['write `window(width)` or `window(left: a, right: b)`'],
      });
    }
    return undefined;
  }
  if (!bound.ok || width === undefined || left === undefined || right === undefined)
    return undefined;
  if (width !== null) return { kind: 'window', left: width, right: width, span: span };
  return { kind: 'window', left: left ?? 0, right: right ?? 0, span: span };
}

/** `G = [0, first) ∪ positions`, positions sorted and unique. */
function buildGlobal(
  span: Span,
  bound: BoundArgs,
  first: number | undefined | null,
  sink: DiagnosticSink,
): MaskNode | undefined {
  // `global([0, 5])` is accepted as a spelling of `global(0, 5)`.
  const only = bound.rest[0];
  const items = bound.rest.length === 1 && only?.kind === 'list' ? only.items : bound.rest;
  if (items.length === 0 && first === null) {
    if (bound.ok) {
      sink.error('E300', '`global` needs at least one position', span, {
        notes: ['write `global(t1, t2, ...)` or `global(first: g)`'],
      });
    }
    return undefined;
  }
  const firstArg: Argument | undefined = bound.named.get('first');
  const seen = new Map<number, Span>();
  let ok = bound.ok && first !== undefined;
  for (const item of items) {
    const position = readInt(item, 'a `global` position', DISTANCE, sink);
    if (position === undefined) {
      ok = false;
      continue;
    }
    const earlier = seen.get(position);
    if (earlier !== undefined) {
      sink.warning('W102', `position ${position} is listed twice in \`global\``, item.span, {
        secondary: [{ span: earlier, message: 'first listed here' }],
        notes: ['remove one of them'],
      });
    } else if (first != null && position < first && firstArg !== undefined) {
      sink.warning(
        'W102',
        `position ${position} is already covered by \`first: ${first}\``,
        item.span,
        {
          secondary: [{ span: firstArg.span, message: `covers positions 0 to ${first - 1}` }],
          notes: ['remove it'],
        },
      );
    } else {
      seen.set(position, item.span);
    }
  }
  if (!ok) return undefined;
  const positions = [...seen.keys()].sort((a, b) => a - b);
  const node: MaskNode = { kind: 'global', first: first ?? 0, positions, span: span };
  GLOBAL_SPANS.set(node, { positions: seen, first: firstArg?.value.span });
  return node;
}

/**
 * Where each `global` position was written, so `max_seq` warnings (rules.ts) can point at the
 * number itself. Kept beside the node rather than in it: later stages have no use for it.
 */
const GLOBAL_SPANS = new WeakMap<
  MaskNode,
  { positions: ReadonlyMap<number, Span>; first: Span | undefined }
>();

export function globalPositionSpan(node: MaskNode, position: number | 'first'): Span {
  const spans = GLOBAL_SPANS.get(node);
  const found = position === 'first' ? spans?.first : spans?.positions.get(position);
  return found ?? node.span;
}

/** Every primitive of a mask, in source order. */
export function maskLeaves(mask: MaskNode): MaskNode[] {
  return mask.kind === 'union' || mask.kind === 'intersect'
    ? mask.terms.flatMap(maskLeaves)
    : [mask];
}
