// The formatter's output, construct by construct, as fully printed text.

import { describe, expect, it } from 'vitest';
import { formatSpec } from '../../src/format/format.js';
import { blankLineBetween } from '../../src/format/print.js';
import { format } from './helpers.js';

describe('formatSpec', () => {
  it('puts one property per line, two-space indented, `name: value` spaced', async () => {
    expect(await format('attention   a{heads:4;head_dim : 64\n   causal:true}')).toBe(
      'attention a {\n  heads: 4\n  head_dim: 64\n  causal: true\n}\n',
    );
  });

  it('spaces calls, arguments, lists and operators canonically', async () => {
    const text = 'attention a {\nmask:window( left:8 ,right:0 )|global( [0,5] )&causal\n}';
    expect(await format(text)).toBe(
      'attention a {\n  mask: window(left: 8, right: 0) | global([0, 5]) & causal\n}\n',
    );
  });

  it('keeps properties in the order written and numbers as written', async () => {
    const text = 'attention a {\n  scale: 2.0\n  heads: 1e0\n  mask: full\n  head_dim: 064\n}\n';
    expect(await format(text)).toBe(text);
  });

  it('keeps one blank line where the author left one or more', async () => {
    const text = 'attention a {\n  heads: 4\n\n\n\n  head_dim: 64\n  causal: true\n}\n';
    expect(await format(text)).toBe(
      'attention a {\n  heads: 4\n\n  head_dim: 64\n  causal: true\n}\n',
    );
  });

  it('separates attentions by exactly one blank line', async () => {
    expect(await format('attention a { heads: 4 } attention b { heads: 2 }')).toBe(
      'attention a {\n  heads: 4\n}\n\nattention b {\n  heads: 2\n}\n',
    );
  });

  it('keeps a one-line group on one line while it fits, with `;` between properties', async () => {
    const text = 'attention a {\n  group g {heads:4;mask:window(8)}\n  group e {}\n}';
    expect(await format(text)).toBe(
      'attention a {\n  group g { heads: 4; mask: window(8) }\n  group e {}\n}\n',
    );
  });

  it('breaks a group written across lines, and one too long for the line', async () => {
    expect(await format('attention a {\n  group g {\n heads: 4; mask: causal }\n}')).toBe(
      'attention a {\n  group g {\n    heads: 4\n    mask: causal\n  }\n}\n',
    );
    const long = 'attention a {\n  group g { heads: 4; mask: window(left: 128, right: 0) }\n}\n';
    expect(await format(long, { printWidth: 30 })).toBe(
      'attention a {\n  group g {\n    heads: 4\n    mask: window(\n      left: 128,\n      right: 0\n    )\n  }\n}\n',
    );
  });

  it('breaks a long mask after each operator, indented', async () => {
    const text =
      'attention bigbird {\n  mask: window(64) | global(first: 128) | random(3, block: 64, seed: 0)\n}\n';
    expect(await format(text, { printWidth: 60 })).toBe(
      'attention bigbird {\n  mask: window(64) |\n    global(first: 128) |\n    random(3, block: 64, seed: 0)\n}\n',
    );
  });

  // `x & (y & z)` is a nested intersection in the AST, so its parentheses stay.
  it('keeps the parentheses that nesting needs and drops the others', async () => {
    const text =
      'attention a {\n  mask: ((window(4)) | (global(0))) & (causal & (blocks(8) & sink(1))) | (stride(2) & full)\n}';
    expect(await format(text, { printWidth: 120 })).toBe(
      'attention a {\n  mask: (window(4) | global(0)) & (causal & (blocks(8) & sink(1))) | stride(2) & full\n}\n',
    );
  });

  it('keeps every comment: leading, trailing, own-line, between attentions, at the end', async () => {
    const text = [
      '# file header',
      '// second style',
      'attention a { # after the brace',
      '  heads: 4   # trailing, spaces trimmed   ',
      '',
      '  # before head_dim',
      '  head_dim: 64',
      '  mask: window(64) # first term',
      '    | global(0)',
      '}',
      '# between',
      'attention b {',
      '  heads: 2',
      '  # last in block',
      '}',
      '# the end',
      '',
    ].join('\n');
    expect(await format(text)).toBe(
      [
        '# file header',
        '// second style',
        'attention a {',
        '  # after the brace',
        '  heads: 4 # trailing, spaces trimmed',
        '',
        '  # before head_dim',
        '  head_dim: 64',
        '  mask: window(64) | # first term',
        '    global(0)',
        '}',
        '',
        '# between',
        'attention b {',
        '  heads: 2',
        '  # last in block',
        '}',
        '# the end',
        '',
      ].join('\n'),
    );
  });

  it('keeps comments inside a list and in a file with no attention', async () => {
    expect(await format('attention a { mask: global([ # first\n 1, 2]) }')).toContain('# first');
    expect(await format('# only a comment\n\n// and another   \n')).toBe(
      '# only a comment\n// and another\n',
    );
    expect(await format('')).toBe('');
  });

  it('refuses text that does not parse, with the parser diagnostics', async () => {
    const result = await formatSpec('attention a {\n  heads 4\n}');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnostics[0]).toMatchObject({ code: 'E101', severity: 'error' });
    const number = await formatSpec('attention a { heads: 4px }');
    expect(number.ok ? [] : number.diagnostics.map((d) => d.code)).toEqual(['E103']);
  });

  it('reads CRLF line breaks and writes LF', async () => {
    const text = 'attention a {\r\n  heads: 4 # x\r\n\r\n\r\n  mask: causal\r\n}\r\n';
    expect(await format(text)).toBe('attention a {\n  heads: 4 # x\n\n  mask: causal\n}\n');
  });

  it('honours tabWidth and useTabs', async () => {
    expect(await format('attention a { heads: 4 }', { useTabs: true })).toBe(
      'attention a {\n\theads: 4\n}\n',
    );
    expect(await format('attention a { heads: 4 }', { tabWidth: 4 })).toBe(
      'attention a {\n    heads: 4\n}\n',
    );
  });
});

describe('blankLineBetween', () => {
  it('counts the gap after the first line, up to the next comment', () => {
    expect(blankLineBetween('a\n\nb', 1, 4)).toBe(true);
    expect(blankLineBetween('a\nb', 1, 3)).toBe(false);
    expect(blankLineBetween('a; b', 1, 3)).toBe(false);
    expect(blankLineBetween('a # x\n\nb', 1, 8)).toBe(true);
    expect(blankLineBetween('a\n# x\n\nb', 1, 8)).toBe(false);
  });
});
