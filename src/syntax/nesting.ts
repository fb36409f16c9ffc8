// The nesting limit: parentheses, calls and lists may nest at most MAX_NESTING deep.
// The parser, the CST -> AST builder and the checker all recurse once per level, so an
// untrusted file nested thousands deep would overflow the stack. The limit is enforced on the
// token stream before parsing: tokens nested deeper are cut out, with one diagnostic per cut,
// and the parser sees a shallow (if broken) expression whose errors are echoes of the cut.

import type { IToken } from 'chevrotain';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { LBracket, LParen, RBracket, RParen } from './tokens.js';

/** Deeper than any real spec; far below what overflows the stack (a few hundred levels). */
export const MAX_NESTING = 64;

export interface NestingResult {
  /** The tokens to parse: every token nested at most MAX_NESTING deep. */
  readonly tokens: IToken[];
  readonly diagnostics: Diagnostic[];
  /** Offsets of the first token after each cut: its parse error only repeats the cut's. */
  readonly echoOffsets: number[];
  /** Offsets of each cut, where the enclosing attention is incomplete. */
  readonly cutOffsets: number[];
  /** The file ends inside a cut: a parse error at the end of the file is an echo too. */
  readonly endsInCut: boolean;
}

export function limitNesting(tokens: readonly IToken[]): NestingResult {
  const kept: IToken[] = [];
  const diagnostics: Diagnostic[] = [];
  const echoOffsets: number[] = [];
  const cutOffsets: number[] = [];
  let depth = 0;
  let cutting = false;
  for (const token of tokens) {
    const type = token.tokenType;
    const opens = type === LParen || type === LBracket;
    const closes = type === RParen || type === RBracket;
    if (opens) depth++;
    if (cutting) {
      if (closes) depth = Math.max(0, depth - 1);
      if (depth <= MAX_NESTING && closes) {
        cutting = false;
      }
      // The closer that brings the depth back to the limit still belongs to the cut
      // (its opener was cut); the next kept token is the first the parser sees after it.
      continue;
    }
    if (opens && depth > MAX_NESTING) {
      cutting = true;
      cutOffsets.push(token.startOffset);
      diagnostics.push({
        code: 'E106',
        severity: 'error',
        message: `nested more than ${MAX_NESTING} deep`,
        primary: { span: { start: token.startOffset, end: token.endOffset! + 1 } },
        notes: [
          `parentheses, calls and lists may nest at most ${MAX_NESTING} levels; ` +
            'write the expression with fewer levels',
        ],
      });
      continue;
    }
    if (cutOffsets.length > 0 && kept.length > 0 && isFirstAfterCut(kept, cutOffsets)) {
      echoOffsets.push(token.startOffset);
    }
    if (closes) depth = Math.max(0, depth - 1);
    kept.push(token);
  }
  return { tokens: kept, diagnostics, echoOffsets, cutOffsets, endsInCut: cutting };
}

/** True when the last kept token precedes the latest cut (nothing kept since). */
function isFirstAfterCut(kept: readonly IToken[], cutOffsets: readonly number[]): boolean {
  return kept[kept.length - 1]!.startOffset < cutOffsets[cutOffsets.length - 1]!;
}
