// Shared by the formatter tests: format or fail, and the AST without spans.

import { expect } from 'vitest';
import { formatSpec, type FormatOptions } from '../../src/format/format.js';
import { parseSpec } from '../../src/syntax/parse.js';

export async function format(text: string, options: FormatOptions = {}): Promise<string> {
  const result = await formatSpec(text, options);
  if (!result.ok) throw new Error(`does not parse: ${result.diagnostics[0]!.message}`);
  return result.formatted;
}

/** The AST as plain data with every `span` removed: what the text means, not where. */
export function astWithoutSpans(text: string): unknown {
  const { ast, diagnostics } = parseSpec(text);
  expect(diagnostics).toEqual([]);
  return JSON.parse(JSON.stringify(ast, (key, value) => (key === 'span' ? undefined : value)));
}

/** Every comment's text, in order, as the formatter must keep them. */
export function commentTexts(text: string): string[] {
  return [...text.matchAll(/(?:#|\/\/)[^\n]*/g)].map((m) => m[0].trimEnd());
}
