// The formatter never changes meaning: for every example and for generated specs (random
// spacing, separators, parentheses and comments between any two tokens), the AST without
// spans is the same before and after, formatting twice changes nothing, and every comment
// is kept in order.

import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSpec } from '../../src/syntax/parse.js';
import { astWithoutSpans, commentTexts, format } from './helpers.js';

const examples = new URL('../../examples/', import.meta.url);
const exampleFiles = readdirSync(examples)
  .filter((f) => f.endsWith('.attn'))
  .sort();

/** Between any two tokens: spaces, line breaks, blank lines or comments. */
const gap = fc.constantFrom(
  ' ',
  '  ',
  '\n',
  '\t',
  '\n\n\n',
  ' # note\n',
  '\n  // other  \n',
  '#\n',
);
/** Between two items of a block: a newline or `;`, possibly with comments. */
const separator = fc.constantFrom('\n', ';', ' ; ', '\n\n', ' # why\n', ';\n', '\n# own line\n\n');
const name = fc.constantFrom('heads', 'mask', 'window', 'x', 'left', 'causal', 'seed', 'g2', '_a');
const number = fc.constantFrom('0', '64', '-3', '2.5', '1e-6', '1.0', '007');

function joinWith(parts: string[], gaps: string[], glue: string): string {
  return parts.map((p, i) => (i === 0 ? p : `${gaps[i]!}${glue}${gaps[i - 1]!}${p}`)).join('');
}

const { expr } = fc.letrec<{ expr: string; atom: string }>((tie) => ({
  atom: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    name,
    number,
    fc.constantFrom('true', 'false'),
    fc
      .tuple(
        name,
        fc.array(fc.tuple(fc.option(name, { nil: undefined }), tie('expr'), gap, gap), {
          maxLength: 3,
        }),
        gap,
      )
      .map(
        ([callee, args, g]) =>
          `${callee}(${g}${args
            .map(([n, value, g1, g2]) => (n ? `${n}${g1}:${g2}${value}` : value))
            .join(', ')})`,
      ),
    fc
      .tuple(fc.array(tie('expr'), { maxLength: 3 }), gap)
      .map(([items, g]) => `[${g}${items.join(`,${g}`)}]`),
    fc.tuple(tie('expr'), gap).map(([inner, g]) => `(${g}${inner}${g})`),
  ),
  expr: fc.oneof(
    { depthSize: 'small' },
    tie('atom'),
    fc
      .tuple(
        fc.array(tie('atom'), { minLength: 2, maxLength: 3 }),
        fc.array(gap, { minLength: 3, maxLength: 3 }),
        fc.constantFrom('|', '&'),
      )
      .map(([terms, gaps, op]) => joinWith(terms, gaps, op)),
  ),
})) as unknown as { expr: fc.Arbitrary<string> };

const property = fc
  .tuple(name, gap, gap, expr)
  .map(([n, g1, g2, value]) => `${n}${g1}:${g2}${value}`);

function block(items: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.array(items, { maxLength: 4 }),
      fc.array(separator, { minLength: 4, maxLength: 4 }),
      gap,
    )
    .map(([parts, seps, g]) => `{${g}${parts.map((p, i) => (i ? seps[i]! + p : p)).join('')}${g}}`);
}

const group = fc.tuple(name, gap, block(property)).map(([n, g, body]) => `group ${n}${g}${body}`);

const attention = fc
  .tuple(
    name,
    gap,
    block(fc.oneof({ weight: 3, arbitrary: property }, { weight: 1, arbitrary: group })),
  )
  .map(([n, g, body]) => `attention ${n}${g}${body}`);

const spec = fc
  .tuple(fc.array(fc.tuple(attention, gap), { maxLength: 3 }), gap)
  .map(([decls, lead]) => lead + decls.map(([d, g]) => d + g).join(''));

async function expectSameMeaning(text: string, printWidth: number): Promise<void> {
  const formatted = await format(text, { printWidth });
  expect(astWithoutSpans(formatted)).toEqual(astWithoutSpans(text));
  expect(await format(formatted, { printWidth })).toBe(formatted);
  expect(commentTexts(formatted)).toEqual(commentTexts(text));
}

describe('formatting keeps meaning', () => {
  for (const file of exampleFiles) {
    it(`${file}: same AST, idempotent, comments kept, already formatted`, async () => {
      const text = readFileSync(new URL(file, examples), 'utf8');
      await expectSameMeaning(text, 100);
      // The examples are checked in formatted (CI runs `attnc fmt --check examples/*.attn`).
      expect(await format(text, { printWidth: 100 })).toBe(text);
      // A narrow line width breaks more, still without changing the AST.
      await expectSameMeaning(text, 30);
    });
  }

  it('generated specs parse cleanly (the generator makes only valid syntax)', () => {
    fc.assert(
      fc.property(spec, (text) => {
        expect(parseSpec(text).diagnostics).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('for generated specs: same AST, idempotent, comments kept, at any line width', async () => {
    await fc.assert(
      fc.asyncProperty(spec, fc.constantFrom(20, 40, 80, 100), async (text, width) => {
        await expectSameMeaning(text, width);
      }),
      { numRuns: 300 },
    );
  });
});
