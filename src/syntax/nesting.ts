// The nesting limit: parentheses, calls and lists may nest at most MAX_NESTING deep, and
// braces (attention and group bodies) at most MAX_BRACE_NESTING deep. The parser, the CST ->
// AST builder and the checker all recurse once per level, so an untrusted file nested
// thousands deep would overflow the stack (the fuzzer found 5,000 unclosed `{` doing so).
// The limit is enforced on the token stream before parsing: tokens nested deeper are cut
// out, with one diagnostic per cut, and the parser sees a shallow (if broken) text whose
// errors are echoes of the cut.

import type { IToken, TokenType } from 'chevrotain';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { LBrace, LBracket, LParen, RBrace, RBracket, RParen } from './tokens.js';

/** Deeper than any real spec; far below what overflows the stack (a few hundred levels). */
export const MAX_NESTING = 64;
/** An attention holds groups, and that is all the nesting of braces the language has. */
export const MAX_BRACE_NESTING = 8;

export interface NestingResult {
  /** The tokens to parse: every token within the nesting limits. */
  readonly tokens: IToken[];
  readonly diagnostics: Diagnostic[];
  /** Offsets of the first token after each cut: its parse error only repeats the cut's. */
  readonly echoOffsets: number[];
  /** Offsets of each cut, where the enclosing attention is incomplete. */
  readonly cutOffsets: number[];
  /** The file ends inside a cut: a parse error at the end of the file is an echo too. */
  readonly endsInCut: boolean;
}

type Bracket = 'expression' | 'brace';

function opener(type: TokenType): Bracket | null {
  if (type === LParen || type === LBracket) return 'expression';
  return type === LBrace ? 'brace' : null;
}

function closer(type: TokenType): Bracket | null {
  if (type === RParen || type === RBracket) return 'expression';
  return type === RBrace ? 'brace' : null;
}

export function limitNesting(tokens: readonly IToken[]): NestingResult {
  const kept: IToken[] = [];
  const diagnostics: Diagnostic[] = [];
  const echoOffsets: number[] = [];
  const cutOffsets: number[] = [];
  const depth = { expression: 0, brace: 0 };
  // Inside a cut: how many of the cut's openers are still open (every kind counts).
  let cutDepth = 0;
  for (const token of tokens) {
    const opens = opener(token.tokenType);
    const closes = closer(token.tokenType);
    if (cutDepth > 0) {
      if (opens) cutDepth++;
      if (closes) cutDepth--;
      // The closer of the cut's first opener still belongs to the cut; the next kept token
      // is the first the parser sees after it.
      continue;
    }
    if (opens && depth[opens] + 1 > limitOf(opens)) {
      cutDepth = 1;
      cutOffsets.push(token.startOffset);
      diagnostics.push(tooDeep(token, opens));
      continue;
    }
    if (cutOffsets.length > 0 && kept.length > 0 && isFirstAfterCut(kept, cutOffsets)) {
      echoOffsets.push(token.startOffset);
    }
    if (opens) depth[opens]++;
    if (closes) depth[closes] = Math.max(0, depth[closes] - 1);
    kept.push(token);
  }
  return { tokens: kept, diagnostics, echoOffsets, cutOffsets, endsInCut: cutDepth > 0 };
}

function limitOf(bracket: Bracket): number {
  return bracket === 'brace' ? MAX_BRACE_NESTING : MAX_NESTING;
}

function tooDeep(token: IToken, bracket: Bracket): Diagnostic {
  const limit = limitOf(bracket);
  return {
    code: 'E106',
    severity: 'error',
    message: `nested more than ${limit} deep`,
    primary: { span: { start: token.startOffset, end: token.endOffset! + 1 } },
    notes: [
      bracket === 'brace'
        ? `braces may nest at most ${limit} levels (an attention holds groups, groups hold properties)`
        : `parentheses, calls and lists may nest at most ${limit} levels; ` +
          'write the expression with fewer levels',
    ],
  };
}

/** True when the last kept token precedes the latest cut (nothing kept since). */
function isFirstAfterCut(kept: readonly IToken[], cutOffsets: readonly number[]): boolean {
  return kept[kept.length - 1]!.startOffset < cutOffsets[cutOffsets.length - 1]!;
}
