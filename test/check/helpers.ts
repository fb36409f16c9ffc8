// Test helpers: every checker test goes from spec text to what a user would see.

import { expect } from 'vitest';
import { checkSpec } from '../../src/check/check.js';
import type { CheckResult } from '../../src/check/check.js';
import { renderDiagnostic } from '../../src/diagnostics/render.js';
import { SourceText } from '../../src/diagnostics/source.js';
import { parseSpec } from '../../src/syntax/parse.js';

/** Parses (expecting no syntax errors) and checks. */
export function check(text: string): CheckResult {
  const parsed = parseSpec(text);
  expect(parsed.diagnostics.map((d) => `${d.code}: ${d.message}`)).toEqual([]);
  return checkSpec(parsed.ast);
}

/** The checker's diagnostics, rendered as the CLI prints them, separated by blank lines. */
export function diagnose(text: string): string {
  const source = new SourceText('spec.attn', text);
  return check(text)
    .diagnostics.map((d) => renderDiagnostic(d, source))
    .join('\n\n');
}

/** The codes only, in order. */
export function codes(text: string): string[] {
  return check(text).diagnostics.map((d) => d.code);
}

/** The checked output without spans, for comparing meaning. */
export function withoutSpans(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'span' ? undefined : v)));
}
