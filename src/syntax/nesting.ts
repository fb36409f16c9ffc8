// The nesting limit: parentheses, calls and lists may nest at most MAX_NESTING deep, and
// braces (attention and group bodies) at most MAX_BRACE_NESTING deep. The parser, the CST ->
// AST builder and the checker all recurse once per level, so an untrusted file nested
// thousands deep would overflow the stack (the fuzzer found 5,000 unclosed `{` doing so).
// The limit is enforced on the token stream before parsing: tokens nested deeper are cut
// out, with one diagnostic per cut, and the parser sees a shallow (if broken) text whose
// errors are echoes of the cut.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { Kind, type TokenStream } from './scan.js';

/** Deeper than any real spec; far below what overflows the stack (a few hundred levels). */
export const MAX_NESTING = 64;
/** An attention holds groups, and that is all the nesting of braces the language has. */
export const MAX_BRACE_NESTING = 8;

export interface NestingResult {
  /** The tokens to parse: every token within the nesting limits (the input when none is cut). */
  readonly tokens: TokenStream;
  readonly diagnostics: Diagnostic[];
  /** Offsets of the first token after each cut: its parse error only repeats the cut's. */
  readonly echoOffsets: number[];
  /** Offsets of each cut, where the enclosing attention is incomplete. */
  readonly cutOffsets: number[];
  /** The file ends inside a cut: a parse error at the end of the file is an echo too. */
  readonly endsInCut: boolean;
}

type Bracket = 'expression' | 'brace';

function opener(kind: number): Bracket | null {
  if (kind === Kind.LParen || kind === Kind.LBracket) return 'expression';
  return kind === Kind.LBrace ? 'brace' : null;
}

function closer(kind: number): Bracket | null {
  if (kind === Kind.RParen || kind === Kind.RBracket) return 'expression';
  return kind === Kind.RBrace ? 'brace' : null;
}

export function limitNesting(tokens: TokenStream): NestingResult {
  const { kinds, starts, ends } = tokens;
  // Kept tokens are compacted in place in copies of the arrays, made at the first cut.
  let kept: { kinds: Uint8Array; starts: Int32Array; ends: Int32Array } | undefined;
  let keptCount = 0;
  const diagnostics: Diagnostic[] = [];
  const echoOffsets: number[] = [];
  const cutOffsets: number[] = [];
  const depth = { expression: 0, brace: 0 };
  // Inside a cut: how many of the cut's openers are still open (every kind counts).
  let cutDepth = 0;
  for (let i = 0; i < tokens.count; i++) {
    const opens = opener(kinds[i]!);
    const closes = closer(kinds[i]!);
    if (cutDepth > 0) {
      if (opens) cutDepth++;
      if (closes) cutDepth--;
      // The closer of the cut's first opener still belongs to the cut; the next kept token
      // is the first the parser sees after it.
      continue;
    }
    if (opens && depth[opens] + 1 > limitOf(opens)) {
      cutDepth = 1;
      cutOffsets.push(starts[i]!);
      diagnostics.push(tooDeep(starts[i]!, ends[i]!, opens));
      kept ??= { kinds: kinds.slice(), starts: starts.slice(), ends: ends.slice() };
      continue;
    }
    if (cutOffsets.length > 0 && keptCount > 0 && isFirstAfterCut(keptCount, cutOffsets)) {
      echoOffsets.push(starts[i]!);
    }
    if (opens) depth[opens]++;
    if (closes) depth[closes] = Math.max(0, depth[closes] - 1);
    if (kept) {
      kept.kinds[keptCount] = kinds[i]!;
      kept.starts[keptCount] = starts[i]!;
      kept.ends[keptCount] = ends[i]!;
    }
    keptCount++;
  }
  const parsed: TokenStream = kept
    ? {
        text: tokens.text,
        count: keptCount,
        kinds: kept.kinds.subarray(0, keptCount),
        starts: kept.starts.subarray(0, keptCount),
        ends: kept.ends.subarray(0, keptCount),
      }
    : tokens;
  return { tokens: parsed, diagnostics, echoOffsets, cutOffsets, endsInCut: cutDepth > 0 };

  /** True when the last kept token precedes the latest cut (nothing kept since). */
  function isFirstAfterCut(count: number, cuts: readonly number[]): boolean {
    const lastStarts = kept ? kept.starts : starts;
    return lastStarts[count - 1]! < cuts[cuts.length - 1]!;
  }
}

function limitOf(bracket: Bracket): number {
  return bracket === 'brace' ? MAX_BRACE_NESTING : MAX_NESTING;
}

function tooDeep(start: number, end: number, bracket: Bracket): Diagnostic {
  const limit = limitOf(bracket);
  return {
    code: 'E106',
    severity: 'error',
    message: `nested more than ${limit} deep`,
    primary: { span: { start, end } },
    notes: [
      bracket === 'brace'
        ? `braces may nest at most ${limit} levels (an attention holds groups, groups hold properties)`
        : `parentheses, calls and lists may nest at most ${limit} levels; ` +
          'write the expression with fewer levels',
    ],
  };
}
