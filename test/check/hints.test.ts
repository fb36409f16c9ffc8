// Hints for the names users of other tools try first, and for their separators.

import { describe, expect, it } from 'vitest';
import { checkSource } from '../../src/frontend.js';
import { renderDiagnostics } from '../../src/diagnostics/render.js';

function rendered(text: string): string {
  const result = checkSource(text, 'spec.attn');
  return renderDiagnostics(result.diagnostics, result.source);
}

const spec = (body: string) => `attention a {\n${body}\n}\n`;

describe('names from other tools', () => {
  it.each([
    ['num_heads: 8\n  head_dim: 64', 'the number of heads is `heads`: write `heads: N`'],
    ['num_attention_heads: 8\n  head_dim: 64', 'write `heads: N`'],
    ['heads: 8\n  num_key_value_heads: 2\n  head_dim: 64', 'write `kv_heads: N`'],
    ['heads: 8\n  head_size: 64', 'write `head_dim: D`'],
    ['heads: 8\n  head_dim: 64\n  sliding_window: 256', 'write `mask: window(N)`'],
    ['heads: 8\n  head_dim: 64\n  document: true', 'write `mask: segment`'],
    ['heads: 8\n  head_dim: 64\n  prefix_lm: 128', 'a prefix LM is `mask: causal | sink(P)`'],
    ['heads: 8\n  head_dim: 64\n  is_causal: true', 'write `causal: true`'],
    ['heads: 8\n  head_dim: 64\n  max_seq_len: 4096', 'write `max_seq: N`'],
  ])('%j: E200 with the fix', (body, hint) => {
    const text = rendered(spec(`  ${body}`));
    expect(text).toMatch(/^error\[E200\]: unknown property/);
    expect(text).toContain(hint);
  });

  it('a foreign name for a required property does not also report it missing', () => {
    const result = checkSource(spec('  num_heads: 8\n  head_dim: 64'));
    expect(result.diagnostics.map((d) => d.code)).toEqual(['E200']);
  });

  it('num_heads is not mistaken for a typo of kv_heads', () => {
    expect(rendered(spec('  num_heads: 8\n  head_dim: 64'))).not.toContain('kv_heads');
  });

  it.each([
    ['sliding_window(256)', 'a sliding window is `window(N)`'],
    ['causal & document', 'attention within documents is `segment`'],
    ['prefix_lm(64)', 'a prefix LM is `mask: causal | sink(P)`'],
  ])('mask: %s gets E201 with the fix', (mask, hint) => {
    const text = rendered(spec(`  heads: 1\n  head_dim: 8\n  mask: ${mask}`));
    expect(text).toContain('error[E201]: unknown mask primitive');
    expect(text).toContain(hint);
  });

  it('an unknown primitive with no near name lists the primitives', () => {
    expect(rendered(spec('  heads: 1\n  head_dim: 8\n  mask: zigzag(2)'))).toBe(
      [
        'error[E201]: unknown mask primitive `zigzag`',
        ' --> spec.attn:4:9',
        '  |',
        '4 |   mask: zigzag(2)',
        '  |         ^^^^^^',
        '  = help: the mask primitives are `full`, `causal`, `window`, `dilated`, `stride`, `global`, `sink`, `blocks`, `random`, `segment`, `topk`, `cluster`, `lsh`',
        '',
      ].join('\n'),
    );
  });

  it('an unknown property with no near name lists the properties', () => {
    expect(rendered(spec('  heads: 1\n  head_dim: 8\n  flurb: 2'))).toContain(
      '= help: the properties are `heads`, `kv_heads`, `head_dim`,',
    );
  });
});

describe('commas between properties', () => {
  it('say what to write instead', () => {
    expect(rendered('attention a { heads: 1, head_dim: 8 }\n')).toBe(
      [
        'error[E101]: expected a newline or `;` between properties, found `,`',
        ' --> spec.attn:1:23',
        '  |',
        '1 | attention a { heads: 1, head_dim: 8 }',
        '  |                       ^',
        '  = help: write `;` or a newline instead of the comma: commas separate only arguments and list items',
        '',
      ].join('\n'),
    );
  });

  it('after each line', () => {
    const result = checkSource('attention a {\n  heads: 1,\n  head_dim: 8,\n}\n');
    expect(result.diagnostics.map((d) => d.message)).toEqual([
      'expected a newline or `;` between properties, found `,`',
      'expected a newline or `;` between properties, found `,`',
    ]);
  });

  it('inside a group too', () => {
    const text = 'attention a {\n  head_dim: 8\n  group g { heads: 1, causal: true }\n}\n';
    expect(checkSource(text).diagnostics.map((d) => d.code + ' ' + d.message)).toEqual([
      'E101 expected a newline or `;` between properties, found `,`',
    ]);
  });

  it('commas in arguments and lists are still fine', () => {
    const text =
      'attention a {\n  heads: 1\n  head_dim: 8\n  mask: window(left: 2, right: 0) | global([0, 3])\n}\n';
    expect(checkSource(text).diagnostics).toEqual([]);
  });
});

describe('E600 from check', () => {
  it('f16 with a width not a multiple of 4 is reported by check at the same place as compile', () => {
    const text = 'attention a {\n  heads: 1\n  head_dim: 6\n  dtype: f16\n}\n';
    const result = checkSource(text);
    expect(result.attentions).toEqual([]);
    expect(result.diagnostics.map((d) => [d.code, d.primary.span])).toEqual([
      ['E600', { start: 0, end: text.length - 1 }],
    ]);
  });

  it('value_dim counts too; multiples of 4 pass', () => {
    const bad = checkSource(
      'attention a {\n  heads: 1\n  head_dim: 8\n  value_dim: 10\n  dtype: f16\n}\n',
    );
    expect(bad.diagnostics.map((d) => d.code)).toEqual(['E600']);
    const good = checkSource(
      'attention a {\n  heads: 1\n  head_dim: 8\n  value_dim: 12\n  dtype: f16\n}\n',
    );
    expect(good.diagnostics).toEqual([]);
  });
});
