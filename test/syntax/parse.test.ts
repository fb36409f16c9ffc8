import { describe, expect, it } from 'vitest';
import { MAX_DECLARATION_TOKENS, parseSpec } from '../../src/syntax/parse.js';
import { renderSyntax } from '../helpers/render.js';

describe('syntax diagnostics', () => {
  it('E100: an unexpected character', () => {
    expect(renderSyntax('attention a {\n  heads: 4 @ 2\n}\n')).toBe(
      [
        'error[E100]: unexpected character `@`',
        ' --> spec.attn:2:12',
        '  |',
        '2 |   heads: 4 @ 2',
        '  |            ^',
        '',
      ].join('\n'),
    );
  });

  it('E100: quotes get a note that there are no strings', () => {
    expect(renderSyntax('attention a { layout: "bnhd" }')).toContain(
      '= help: the spec language has no strings: names are written without quotes',
    );
  });

  it('E101: a missing colon is reported and the property still parses', () => {
    const text = 'attention a {\n  heads 4\n  head_dim: 64\n}\n';
    expect(renderSyntax(text)).toBe(
      [
        'error[E101]: expected `:`, found `4`',
        ' --> spec.attn:2:9',
        '  |',
        '2 |   heads 4',
        '  |         ^',
        '',
      ].join('\n'),
    );
    const props = parseSpec(text).ast.attentions[0]!.items.map((i) => i.name.name);
    expect(props).toEqual(['heads', 'head_dim']);
  });

  it('E101: properties on one line need a `;`', () => {
    expect(renderSyntax('attention a { heads: 4 head_dim: 64 }')).toBe(
      [
        'error[E101]: expected a newline or `;` before `head_dim`',
        ' --> spec.attn:1:24',
        '  |',
        '1 | attention a { heads: 4 head_dim: 64 }',
        '  |                        ^^^^^^^^',
        '  = help: put each property on its own line, or separate them with `;`',
        '',
      ].join('\n'),
    );
  });

  it('E101: text before the first attention', () => {
    expect(renderSyntax('heads: 4\n')).toBe(
      [
        'error[E101]: expected `attention`, found `heads`',
        ' --> spec.attn:1:1',
        '  |',
        '1 | heads: 4',
        '  | ^^^^^',
        '',
      ].join('\n'),
    );
  });

  it('E102: an unclosed block', () => {
    expect(renderSyntax('attention a {\n  heads: 4\n')).toBe(
      [
        'error[E102]: expected `}`, the file ends here',
        ' --> spec.attn:3:1',
        '  |',
        '3 | ',
        '  | ^',
        '  = help: a `{` is not closed: add the missing `}`',
        '',
      ].join('\n'),
    );
  });

  it('E103: a malformed number', () => {
    expect(renderSyntax('attention a {\n  head_dim: 64px\n}\n')).toBe(
      [
        'error[E103]: malformed number `64px`',
        ' --> spec.attn:2:13',
        '  |',
        '2 |   head_dim: 64px',
        '  |             ^^^^',
        '  = help: numbers are written like `64`, `0.5` or `1e-6`, with no unit or suffix',
        '',
      ].join('\n'),
    );
  });

  it('reports every syntax error of a file in one run', () => {
    const text = [
      'attention a {',
      '  heads 4',
      '  mask: window(3 | global(0)',
      '  head_dim: 6x4',
      '}',
      'attention b { heads: 2 @ }',
    ].join('\n');
    const codes = parseSpec(text).diagnostics.map((d) => d.code);
    expect(codes).toContain('E100');
    expect(codes).toContain('E103');
    expect(codes.filter((c) => c === 'E101').length).toBeGreaterThanOrEqual(2);
  });
});

describe('syntax', () => {
  it('parses precedence: & binds tighter than |', () => {
    const ast = parseSpec('attention a { mask: window(1) | sink(2) & causal | full }').ast;
    const mask = ast.attentions[0]!.items[0]!;
    expect(mask.kind).toBe('property');
    if (mask.kind !== 'property') return;
    expect(mask.value.kind).toBe('union');
    if (mask.value.kind !== 'union') return;
    expect(mask.value.terms.map((t) => t.kind)).toEqual(['call', 'intersect', 'name']);
  });

  it('parentheses group without leaving a node behind', () => {
    const ast = parseSpec('attention a { mask: (window(1) | sink(2)) & causal }').ast;
    const prop = ast.attentions[0]!.items[0]!;
    if (prop.kind !== 'property' || prop.value.kind !== 'intersect') throw new Error('shape');
    expect(prop.value.terms[0]!.kind).toBe('union');
  });

  it('keeps groups and properties in source order with spans', () => {
    const text = 'attention h {\n  head_dim: 64\n  group a { heads: 1 }\n  causal: true\n}';
    const items = parseSpec(text).ast.attentions[0]!.items;
    expect(items.map((i) => i.kind)).toEqual(['property', 'group', 'property']);
    const group = items[1]!;
    expect(text.slice(group.span.start, group.span.end)).toBe('group a { heads: 1 }');
  });

  it('reads comments, negative numbers, exponents, lists and named arguments', () => {
    const text = [
      '# comment',
      'attention a { // another',
      '  mask: window(left: -1, right: 2) | global([0, 5])',
      '  softcap: 1e-6; causal: false',
      '}',
    ].join('\n');
    const result = parseSpec(text);
    expect(result.diagnostics).toEqual([]);
    const items = result.ast.attentions[0]!.items;
    expect(items).toHaveLength(3);
  });

  it('a file of only comments has no attentions and no errors', () => {
    const result = parseSpec('# nothing here\n// nor here\n');
    expect(result.ast.attentions).toEqual([]);
    expect(result.diagnostics).toEqual([]);
  });
});

describe('front end', () => {
  it('does not add "no attention declared" on top of a syntax error', async () => {
    const { checkSource } = await import('../../src/frontend.js');
    const codes = checkSource('atention a { heads: 4 }').diagnostics.map((d) => d.code);
    expect(codes).toEqual(['E101']);
  });
});

describe('separators (language.md: `item*`)', () => {
  const clean = (text: string) => {
    const parsed = parseSpec(text);
    expect(parsed.diagnostics).toEqual([]);
    return parsed.ast.attentions[0]!.items.map((i) => `${i.kind} ${i.name.name}`);
  };

  it('needs none after a group closing brace', () => {
    expect(
      clean('attention a { head_dim: 16; group x { heads: 2 } group y { heads: 1 } }'),
    ).toEqual(['property head_dim', 'group x', 'group y']);
  });

  it('needs none between a property and a group on either side', () => {
    expect(clean('attention a { head_dim: 16 group x { heads: 2 } causal: true }')).toEqual([
      'property head_dim',
      'group x',
      'property causal',
    ]);
  });

  it('still needs one between two properties inside a group', () => {
    expect(renderSyntax('attention a { group x { heads: 2 causal: true } }')).toContain(
      'error[E101]: expected a newline or `;` before `causal`',
    );
  });

  it('checks forty thousand `;`-separated properties in one pass', () => {
    const text = `attention a { heads: 1${'; causal: true'.repeat(40_000)} }`;
    expect(parseSpec(text).ast.attentions[0]!.items).toHaveLength(40_001);
  });
});

describe('a flood of bad characters', () => {
  it('reports the first 100 runs and says how many more there are', () => {
    const text = `attention a {\n  heads: 1\n  head_dim: 8\n${'@ '.repeat(1000)}\n}\n`;
    const diagnostics = parseSpec(text).diagnostics.filter((d) => d.code === 'E100');
    expect(diagnostics).toHaveLength(100);
    expect(diagnostics[99]!.notes).toEqual([
      'note: 900 more runs of unexpected characters follow; they are not reported',
    ]);
  });
});

describe('declarations are parsed one at a time', () => {
  it(`a declaration of more than ${MAX_DECLARATION_TOKENS} tokens is E107, and the others still parse`, () => {
    const long = `attention big {\n  heads: 1\n  head_dim: 8\n  mask: causal${' | causal'.repeat(MAX_DECLARATION_TOKENS / 2)}\n}\n`;
    const parsed = parseSpec(`${long}attention small { heads: 1; head_dim: 8 }\n`);
    expect(parsed.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([
      `E107 declaration too long: ${MAX_DECLARATION_TOKENS + 13} tokens, more than ${MAX_DECLARATION_TOKENS}`,
    ]);
    expect(parsed.ast.attentions.map((a) => a.name.name)).toEqual(['small']);
  });

  it('a missing `}` before the next attention is reported there, and both parse', () => {
    const text =
      'attention a {\n  heads: 1\n  head_dim: 8\nattention b {\n  heads: 1\n  head_dim: 8\n}\n';
    expect(renderSyntax(text)).toBe(
      [
        'error[E101]: expected `}`, found `attention`',
        ' --> spec.attn:4:1',
        '  |',
        '4 | attention b {',
        '  | ^^^^^^^^^',
        '',
      ].join('\n'),
    );
    expect(parseSpec(text).ast.attentions.map((a) => a.name.name)).toEqual(['a', 'b']);
  });

  it('a missing `{` before the next attention points at that attention, not at the end of the file', () => {
    const text = 'attention a\nattention b {\n  heads: 1\n  head_dim: 8\n}\n';
    const parsed = parseSpec(text);
    expect(parsed.diagnostics.map((d) => [d.code, d.primary.span.start])).toEqual([['E101', 12]]);
    expect(parsed.ast.attentions.map((a) => [a.name.name, a.recovered ?? false])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });
});
