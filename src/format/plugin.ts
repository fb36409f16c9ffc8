// The prettier plugin for `.attn` files (package export `attnc/prettier`). Parsing is the
// compiler's own parser; a file with syntax errors is not formatted, and the error names
// the first problem and where it is.

import type { Parser, Plugin, SupportLanguage } from 'prettier';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { SourceText } from '../diagnostics/source.js';
import { parseSpec } from '../syntax/parse.js';
import { commentsOf, type FormatNode, type FormatRoot } from './format-ast.js';
import { attnPrinter } from './print.js';

export const languages: SupportLanguage[] = [
  {
    name: 'attn',
    parsers: ['attn'],
    extensions: ['.attn'],
    vscodeLanguageIds: ['attn'],
  },
];

/** Thrown by the parser for text that does not parse; prettier shows `loc` as a code frame. */
export class SpecSyntaxError extends SyntaxError {
  readonly loc: { start: { line: number; column: number }; end: { line: number; column: number } };

  constructor(
    readonly diagnostics: readonly Diagnostic[],
    text: string,
  ) {
    const first = diagnostics[0]!;
    const source = new SourceText('<input>', text);
    const start = source.position(first.primary.span.start);
    const end = source.position(first.primary.span.end);
    super(`error[${first.code}]: ${first.message} (${start.line}:${start.column})`);
    this.name = 'SpecSyntaxError';
    this.loc = { start, end };
  }
}

export function parseForFormat(text: string): FormatRoot {
  const { ast, diagnostics } = parseSpec(text);
  if (diagnostics.length > 0) throw new SpecSyntaxError(diagnostics, text);
  return { ...ast, comments: commentsOf(text) };
}

const attnParser: Parser<FormatNode> = {
  parse: (text) => parseForFormat(text),
  astFormat: 'attn-ast',
  locStart: (node) => ('span' in node ? node.span.start : 0),
  locEnd: (node) => ('span' in node ? node.span.end : 0),
};

export const parsers = { attn: attnParser };
export const printers = { 'attn-ast': attnPrinter };

const plugin: Plugin<FormatNode> = { languages, parsers, printers };
export default plugin;
