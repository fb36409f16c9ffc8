// The syntax layer's entry point: spec text -> AST plus every lexical and syntax error.
// Never throws on any input; a file with errors still yields the AST of what parsed.

import { EOF, type ILexingError, type IRecognitionException, type IToken } from 'chevrotain';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { FileCstNode } from '../../grammar/cst.js';
import type { SpecFile } from './ast.js';
import { AstBuilder } from './cst-to-ast.js';
import { limitNesting } from './nesting.js';
import { specParser } from './parser.js';
import { Comma, specLexer } from './tokens.js';

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
  const diagnostics: Diagnostic[] = [];
  const lexed = specLexer.tokenize(text);
  for (const error of lexed.errors.slice(0, MAX_SYNTAX_ERRORS)) {
    const bad = text.slice(error.offset, error.offset + error.length);
    const shown = diagnostics.length + 1;
    const unreported = shown === MAX_SYNTAX_ERRORS ? lexed.errors.length - shown : 0;
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
      primary: { span: { start: error.offset, end: error.offset + error.length } },
      ...(notes.length > 0 ? { notes } : {}),
    });
  }

  const nesting = limitNesting(lexed.tokens);
  diagnostics.push(...nesting.diagnostics);
  specParser.input = nesting.tokens;
  const cst = specParser.file() as FileCstNode;
  const echoes = tokensAfterLexErrors(lexed.errors, nesting.tokens);
  for (const offset of nesting.echoOffsets) echoes.add(offset);
  const parseErrors = uniqueByOffset(specParser.errors)
    .filter((error) => !echoes.has(error.token.startOffset))
    .filter((error) => !(nesting.endsInCut && isAtEnd(error.token)))
    .slice(0, MAX_SYNTAX_ERRORS);
  const errorOffsets: number[] = [...nesting.cutOffsets];
  for (const error of parseErrors) {
    const atEnd = isAtEnd(error.token);
    const start = atEnd ? text.length : error.token.startOffset;
    const end = atEnd ? text.length : error.token.endOffset! + 1;
    errorOffsets.push(start);
    if (isCommaBetweenItems(error)) {
      diagnostics.push({
        code: 'E101',
        severity: 'error',
        message: 'expected a newline or `;` between properties, found `,`',
        primary: { span: { start, end } },
        notes: [
          'write `;` or a newline instead of the comma: commas separate only arguments and list items',
        ],
      });
      continue;
    }
    diagnostics.push({
      code: atEnd ? 'E102' : 'E101',
      severity: 'error',
      message: atEnd
        ? error.message.replace('found end of file', 'the file ends here')
        : error.message,
      primary: { span: { start, end } },
      ...(atEnd && error.message.includes('`}`')
        ? { notes: ['a `{` is not closed: add the missing `}`'] }
        : {}),
    });
  }
  for (const error of lexed.errors) errorOffsets.push(error.offset);

  const builder = new AstBuilder(text, errorOffsets);
  const ast = builder.file(cst);
  return { ast, diagnostics: [...diagnostics, ...builder.diagnostics] };
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
function tokensAfterLexErrors(
  errors: readonly ILexingError[],
  tokens: readonly IToken[],
): Set<number> {
  const offsets = new Set<number>();
  let t = 0;
  for (const error of errors) {
    const end = error.offset + error.length;
    while (t < tokens.length && tokens[t]!.startOffset < end) t++;
    if (t < tokens.length) offsets.add(tokens[t]!.startOffset);
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
