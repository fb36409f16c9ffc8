// The syntax layer's entry point: spec text -> AST plus every lexical and syntax error.
// Never throws on any input; a file with errors still yields the AST of what parsed.
//
// The text is scanned once into a compact token stream (scan.ts) and cut into declarations.
// A well-formed declaration is parsed directly into its AST (direct-parser.ts); any other is
// parsed by chevrotain's parser with error recovery (parser.ts, then cst-to-ast.ts), which
// owns every syntax error's message and recovery.

import { EOF, type IRecognitionException, type IToken } from 'chevrotain';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { FileCstNode } from '../../grammar/cst.js';
import type { AttentionDecl, SpecFile } from './ast.js';
import { AstBuilder } from './cst-to-ast.js';
import { parseWellFormed } from './direct-parser.js';
import { limitNesting } from './nesting.js';
import { specParser, TOO_MANY_ERRORS } from './parser.js';
import { Kind, scan, tokenObject, type ScanResult, type TokenStream } from './scan.js';
import { Comma } from './tokens.js';

/**
 * Past this many, further syntax errors are almost always echoes of the first ones (the lexer's
 * and the parser's are capped separately).
 */
const MAX_SYNTAX_ERRORS = 100;

export interface ParseResult {
  readonly ast: SpecFile;
  readonly diagnostics: readonly Diagnostic[];
}

export function parseSpec(text: string): ParseResult {
  return parseSpecWith(text, { direct: true });
}

/**
 * `direct: false` parses every declaration with chevrotain (and skips none after
 * MAX_RECOVERED_DECLARATIONS), for tests that check that the direct parser gives the same
 * result.
 */
export function parseSpecWith(text: string, options: { direct: boolean }): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const scanned = scan(text);
  const lexErrors = Math.min(scanned.errorCount, MAX_SYNTAX_ERRORS);
  for (let e = 0; e < lexErrors; e++) {
    const offset = scanned.errorStarts[e]!;
    const end = offset + scanned.errorLengths[e]!;
    const bad = text.slice(offset, end);
    const shown = diagnostics.length + 1;
    const unreported = shown === MAX_SYNTAX_ERRORS ? scanned.errorCount - shown : 0;
    const notes = [
      ...(bad.includes('"') || bad.includes("'")
        ? ['the spec language has no strings: names are written without quotes']
        : []),
      ...(unreported > 0
        ? [`note: ${unreported} more runs of unexpected characters follow; they are not reported`]
        : []),
    ];
    diagnostics.push({
      code: 'E100',
      severity: 'error',
      message: `unexpected character${bad.length > 1 ? 's' : ''} ${quoteCharacters(bad)}`,
      primary: { span: { start: offset, end } },
      ...(notes.length > 0 ? { notes } : {}),
    });
  }

  const nesting = limitNesting(scanned.tokens);
  diagnostics.push(...nesting.diagnostics);
  const tokens = nesting.tokens;
  const echoes = tokensAfterLexErrors(scanned, tokens);
  for (const offset of nesting.echoOffsets) echoes.add(offset);
  const knownErrors = mergeSorted(nesting.cutOffsets, scanned.errorStarts);

  // Each declaration is parsed on its own, so only one declaration's CST is alive at a time.
  const attentions: AttentionDecl[] = [];
  const parseErrors: LocatedError[] = [];
  let recovered = 0;
  let recoveredTokens = 0;
  let gaveUp = false;
  const skipped: Chunk[] = [];
  const chunks = declarationChunks(tokens);
  for (const [index, chunk] of chunks.entries()) {
    const count = chunk.end - chunk.start;
    if (count > MAX_DECLARATION_TOKENS) {
      const start = tokens.starts[chunk.start]!;
      knownErrors.splice(sortedIndex(knownErrors, start), 0, start);
      diagnostics.push({
        code: 'E107',
        severity: 'error',
        message: `declaration too long: ${count} tokens, more than ${MAX_DECLARATION_TOKENS}`,
        primary: { span: { start, end: tokens.ends[chunk.start]! } },
        notes: ['a declaration is parsed whole; split it, or shorten its longest expression'],
      });
      continue;
    }
    const direct = options.direct
      ? parseWellFormed(tokens, chunk.start, chunk.end, knownErrors)
      : undefined;
    if (direct) {
      attentions.push(...direct.attentions);
      diagnostics.push(...direct.diagnostics);
      continue;
    }
    // A declaration with a syntax error. chevrotain parses several times slower than the
    // direct parser, and each recovery walks the grammar (tens of microseconds), so a 4 MiB
    // file of broken declarations took 6 s of CPU. Past a budget (which holds all the errors a
    // file reports) broken declarations are skipped, with one diagnostic.
    if (
      options.direct &&
      (gaveUp ||
        recovered >= MAX_RECOVERED_DECLARATIONS ||
        recoveredTokens + count > MAX_RECOVERED_TOKENS)
    ) {
      skipped.push(chunk);
      continue;
    }
    recovered++;
    recoveredTokens += count;
    const chunkTokens: IToken[] = [];
    for (let i = chunk.start; i < chunk.end; i++) chunkTokens.push(tokenObject(tokens, i));
    specParser.input = chunkTokens;
    const cst = parseWithoutStacks();
    if (cst === undefined) gaveUp = true;
    const last = index === chunks.length - 1;
    const next = last ? undefined : tokenObject(tokens, chunk.end);
    const errors = uniqueByOffset(specParser.errors)
      .filter((error) => !echoes.has(error.token.startOffset))
      .filter((error) => !(last && nesting.endsInCut && isAtEnd(error.token)))
      .map((error) => locateError(error, text, next, chunkTokens));
    parseErrors.push(...errors);
    const builder = new AstBuilder(
      text,
      knownErrors,
      errors.map((e) => e.within),
    );
    if (cst !== undefined) attentions.push(...builder.file(cst).attentions);
    diagnostics.push(...builder.diagnostics);
  }
  for (const error of parseErrors.slice(0, MAX_SYNTAX_ERRORS)) {
    const span = { start: error.start, end: error.end };
    if (error.commaBetweenItems) {
      diagnostics.push({
        code: 'E101',
        severity: 'error',
        message: 'expected a newline or `;` between properties, found `,`',
        primary: { span },
        notes: [
          'write `;` or a newline instead of the comma: commas separate only arguments and list items',
        ],
      });
      continue;
    }
    diagnostics.push({
      code: error.atEnd ? 'E102' : 'E101',
      severity: 'error',
      message: error.atEnd
        ? error.message.replace('found end of file', 'the file ends here')
        : error.message,
      primary: { span },
      ...(error.atEnd && error.message.includes('`}`')
        ? { notes: ['a `{` is not closed: add the missing `}`'] }
        : {}),
    });
  }

  const firstSkipped = skipped[0];
  if (firstSkipped !== undefined) {
    const start = tokens.starts[firstSkipped.start]!;
    const others = skipped.length - 1;
    diagnostics.push({
      code: 'E101',
      severity: 'error',
      message: 'this declaration does not parse; it is not checked, nor are its errors reported',
      primary: { span: { start, end: tokens.ends[firstSkipped.start]! } },
      notes: [
        `the file has too many syntax errors before it${others > 0 ? `, and ${others} more declaration${others === 1 ? '' : 's'} that do not parse follow${others === 1 ? 's' : ''}` : ''}`,
        'fix the errors reported above, then check again',
      ],
    });
  }
  const ast: SpecFile = { kind: 'file', attentions, span: { start: 0, end: text.length } };
  return { ast, diagnostics };
}

/**
 * Declarations with syntax errors parsed with chevrotain's error recovery; later ones are
 * skipped (not checked). As many as the syntax errors a file reports.
 */
export const MAX_RECOVERED_DECLARATIONS = MAX_SYNTAX_ERRORS;
/** Tokens of the declarations parsed with error recovery, together: one of MAX_DECLARATION_TOKENS. */
export const MAX_RECOVERED_TOKENS = 200_000;

/** Tokens of one declaration; longer ones are E107, so no CST is ever larger than this. */
export const MAX_DECLARATION_TOKENS = 200_000;

/**
 * Token ranges that each start at an `attention` keyword outside any braces (the first range
 * also holds whatever precedes the first one). A `}` missing before the next `attention`
 * keeps both in one range, which the parser then recovers from as it would in a whole file.
 */
function declarationChunks(tokens: TokenStream): Chunk[] {
  const chunks: Chunk[] = [];
  const kinds = tokens.kinds;
  let start = 0;
  let depth = 0;
  for (let i = 0; i < tokens.count; i++) {
    const kind = kinds[i];
    if (kind === Kind.Attention && depth === 0 && i > start) {
      chunks.push({ start, end: i });
      start = i;
    }
    if (kind === Kind.LBrace) depth++;
    else if (kind === Kind.RBrace) depth = Math.max(0, depth - 1);
  }
  if (tokens.count > 0 || chunks.length === 0) chunks.push({ start, end: tokens.count });
  return chunks;
}

/** Tokens [start, end) of the stream. */
interface Chunk {
  readonly start: number;
  readonly end: number;
}

/** The union of two sorted lists, sorted. */
function mergeSorted(a: readonly number[], b: ArrayLike<number>): number[] {
  const merged: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! <= b[j]!)) merged.push(a[i++]!);
    else merged.push(b[j++]!);
  }
  return merged;
}

interface LocatedError {
  /** Where it is reported. */
  readonly start: number;
  /** An offset inside the declaration it breaks, which is thereby `recovered`. */
  readonly within: number;
  readonly end: number;
  readonly atEnd: boolean;
  readonly message: string;
  readonly commaBetweenItems: boolean;
}

/**
 * Where a parse error is. The end of a declaration that is not the file's last is where the
 * next `attention` starts: the parser of the whole file would have found that keyword there.
 */
function locateError(
  error: IRecognitionException,
  text: string,
  next: IToken | undefined,
  tokens: readonly IToken[],
): LocatedError {
  const commaBetweenItems = isCommaBetweenItems(error);
  const base = { message: error.message, commaBetweenItems, atEnd: false };
  if (!isAtEnd(error.token)) {
    const start = error.token.startOffset;
    return { ...base, start, within: start, end: error.token.endOffset! + 1 };
  }
  const within = tokens.length > 0 ? tokens[tokens.length - 1]!.startOffset : text.length;
  if (next !== undefined) {
    const message = error.message.replace('found end of file', 'found `attention`');
    return { ...base, message, start: next.startOffset, within, end: next.endOffset! + 1 };
  }
  return { ...base, atEnd: true, start: text.length, within, end: text.length };
}

function sortedIndex(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** A comma where an attention's or group's next item (or `}`) should be: JSON habits. */
function isCommaBetweenItems(error: IRecognitionException): boolean {
  const rule = error.context.ruleStack[error.context.ruleStack.length - 1];
  return error.token.tokenType === Comma && (rule === 'attention' || rule === 'group');
}

/** The parser reports errors at the end of the file on EOF or on a token it inserted. */
function isAtEnd(token: IToken): boolean {
  return token.tokenType === EOF || Number.isNaN(token.startOffset);
}

/**
 * The token right after a bad character usually fails to parse only because the character
 * was dropped (`heads: 4 @ 2`); its parse error would repeat the lexer's, so it is skipped.
 */
function tokensAfterLexErrors(scanned: ScanResult, tokens: TokenStream): Set<number> {
  const offsets = new Set<number>();
  let t = 0;
  for (let e = 0; e < scanned.errorCount; e++) {
    const end = scanned.errorStarts[e]! + scanned.errorLengths[e]!;
    while (t < tokens.count && tokens.starts[t]! < end) t++;
    if (t < tokens.count) offsets.add(tokens.starts[t]!);
  }
  return offsets;
}

function uniqueByOffset(errors: readonly IRecognitionException[]): IRecognitionException[] {
  const seen = new Set<number>();
  return errors.filter((error) => {
    const key = error.token.startOffset;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function quoteCharacters(text: string): string {
  const shown = [...text]
    .map((ch) => {
      const code = ch.codePointAt(0)!;
      return code < 0x20 || code === 0x7f ? `\\u{${code.toString(16)}}` : ch;
    })
    .join('');
  return shown.includes('`') ? `'${shown}'` : `\`${shown}\``;
}

/**
 * chevrotain's error recovery throws and catches an exception per recovered token; building
 * each one's stack trace was most of the time of checking a file full of syntax errors (one
 * of 18 KB took 0.8 s). Those exceptions are control flow, so they are made without stacks.
 */
function parseWithoutStacks(): FileCstNode | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return specParser.file() as FileCstNode;
  } catch (error) {
    // The parser gave up after MAX_ERRORS_PER_INPUT errors: they are reported, the tree lost.
    if (error === TOO_MANY_ERRORS) return undefined;
    throw error;
  } finally {
    Error.stackTraceLimit = limit;
  }
}
