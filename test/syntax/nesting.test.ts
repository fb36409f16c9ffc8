// Untrusted input: nesting deeper than MAX_NESTING is a diagnostic with its position, never a
// stack overflow, and the rest of the file is still checked.

import { describe, expect, it } from 'vitest';
import { checkSource } from '../../src/frontend.js';
import { MAX_BRACE_NESTING, MAX_NESTING } from '../../src/syntax/nesting.js';
import { renderSyntax } from '../helpers/render.js';

const wrap = (open: string, close: string, depth: number, inner: string) =>
  open.repeat(depth) + inner + close.repeat(depth);

function codesOf(text: string): string[] {
  return checkSource(text).diagnostics.map((d) => d.code);
}

describe('nesting limit', () => {
  it(`accepts parentheses nested ${MAX_NESTING} deep`, () => {
    const mask = wrap('(', ')', MAX_NESTING, 'causal');
    const result = checkSource(`attention a {\n  heads: 1\n  head_dim: 8\n  mask: ${mask}\n}\n`);
    expect(result.diagnostics).toEqual([]);
    expect(result.attentions).toHaveLength(1);
  });

  it('reports one level more as E106 at the first opener too deep', () => {
    const mask = wrap('(', ')', MAX_NESTING + 1, 'causal');
    const text = `attention a {\n  head_dim: 8\n  mask: ${mask}\n}\n`;
    expect(renderSyntax(text)).toBe(
      [
        `error[E106]: nested more than ${MAX_NESTING} deep`,
        ` --> spec.attn:3:${9 + MAX_NESTING}`,
        '  |',
        `3 |   mask: ${mask}`,
        `  |         ${' '.repeat(MAX_NESTING)}^`,
        `  = help: parentheses, calls and lists may nest at most ${MAX_NESTING} levels; write the expression with fewer levels`,
        '',
      ].join('\n'),
    );
    const result = checkSource(text);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['E106']);
    expect(result.attentions).toEqual([]);
  });

  it.each([
    ['parentheses', '(', ')', 'causal', 100_000],
    ['calls', 'window(', ')', '1', 20_000],
    ['lists', 'global([', '])', '1', 20_000],
    ['mixed', '([', '])', '1', 20_000],
  ])('%s nested thousands deep give E106, not a crash', (_, open, close, inner, depth) => {
    const text = `attention a {\n  head_dim: 8\n  mask: ${wrap(open, close, depth, inner)}\n}\n`;
    expect(codesOf(text)).toContain('E106');
  });

  it('braces: thousands of unclosed blocks give E106, not a crash (found by npm run fuzz)', () => {
    const text = `attention a {\n${'heads: 8\nkv_heads: 4 {\n'.repeat(5_000)}`;
    const codes = codesOf(text);
    expect(codes).toContain('E106');
    const e106 = checkSource(text).diagnostics.find((d) => d.code === 'E106')!;
    expect(e106.message).toBe(`nested more than ${MAX_BRACE_NESTING} deep`);
  });

  it(`braces up to ${MAX_BRACE_NESTING} deep are parse errors, not E106`, () => {
    const text = `attention a {\n  head_dim: 8\n${'  x {\n'.repeat(MAX_BRACE_NESTING - 1)}`;
    expect(codesOf(text)).not.toContain('E106');
  });

  it('an unclosed run of openers reports E106 and no echo at the end of the file', () => {
    const text = `attention a {\n  head_dim: 8\n  mask: ${'('.repeat(50_000)}`;
    expect(codesOf(text)).toEqual(['E106']);
  });

  it('keeps checking the rest of the file after a cut', () => {
    const deep = wrap('(', ')', 500, 'causal');
    const text = `attention a {\n  head_dim: 8\n  mask: ${deep}\n}\nattention b {\n  haeds: 2\n  head_dim: 8\n}\n`;
    expect(codesOf(text)).toEqual(['E106', 'E200']);
  });

  it('cuts each too-deep expression separately', () => {
    const deep = wrap('(', ')', MAX_NESTING + 3, 'causal');
    const text = `attention a {\n  head_dim: 8\n  mask: ${deep} | ${deep}\n}\n`;
    expect(codesOf(text)).toEqual(['E106', 'E106']);
  });
});
