// The direct parser must be invisible: on any text, parsing with it gives the same AST and the
// same diagnostics, in the same order, as parsing every declaration with chevrotain. And it
// must actually take the well-formed declarations (else the first test could not fail).

import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWellFormed } from '../../src/syntax/direct-parser.js';
import {
  MAX_RECOVERED_DECLARATIONS,
  MAX_RECOVERED_TOKENS,
  parseSpec,
  parseSpecWith,
} from '../../src/syntax/parse.js';
import { MAX_ERRORS_PER_INPUT } from '../../src/syntax/parser.js';
import { scan } from '../../src/syntax/scan.js';

const examples = new URL('../../examples/', import.meta.url);
const exampleTexts = readdirSync(examples)
  .filter((f) => f.endsWith('.attn'))
  .sort()
  .map((f) => readFileSync(new URL(f, examples), 'utf8'));

function sameBothWays(text: string): void {
  const direct = parseSpecWith(text, { direct: true });
  const viaCst = parseSpecWith(text, { direct: false });
  // JSON, so that key order (which golden files and `--format json` show) counts too.
  expect(JSON.stringify(direct)).toBe(JSON.stringify(viaCst));
}

function takenDirectly(text: string): boolean {
  const { tokens } = scan(text);
  return parseWellFormed(tokens, 0, tokens.count) !== undefined;
}

const name = fc.constantFrom('a', 'heads', 'head_dim', 'mask', 'x_1', 'groupx', 'attention2');
const number = fc.constantFrom('0', '64', '-3', '2.5', '1e-6', '1E+3', '2147483647');
const badNumber = fc.constantFrom('.5', '7x', '1e', '1.', '0x1F');
const separator = fc.constantFrom('; ', '\n', ';\n', '  # c\n', ' // c\n', ';;', '\n;\n');
/** Separators that the grammar accepts but language.md does not (E101 from the AST builder). */
const looseSeparator = fc.constantFrom(' ', '\t', ' /* ');

const { expression } = fc.letrec<{ expression: string; atom: string; argument: string }>((tie) => ({
  expression: fc
    .tuple(
      fc.array(tie('atom'), { minLength: 1, maxLength: 3 }),
      fc.constantFrom(' | ', ' & ', '|', '&'),
    )
    .map(([atoms, op]) => atoms.join(op)),
  atom: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    name,
    number,
    fc.constantFrom('true', 'false'),
    fc
      .tuple(name, fc.array(tie('argument'), { maxLength: 3 }))
      .map(([callee, args]) => `${callee}(${args.join(', ')})`),
    fc.array(tie('expression'), { maxLength: 3 }).map((items) => `[${items.join(', ')}]`),
    tie('expression').map((inner) => `(${inner})`),
  ),
  argument: fc.oneof(
    tie('expression'),
    fc.tuple(name, tie('expression')).map(([n, value]) => `${n}: ${value}`),
  ),
}));

const property = fc.tuple(name, expression).map(([n, value]) => `${n}: ${value}`);
const block = (item: fc.Arbitrary<string>, sep: fc.Arbitrary<string>) =>
  fc
    .array(fc.tuple(item, sep), { maxLength: 5 })
    .map((pairs) =>
      pairs.map(([text, s], i) => (i === pairs.length - 1 ? text : text + s)).join(''),
    );
const spec = (sep: fc.Arbitrary<string>) => {
  const group = fc.tuple(name, block(property, sep)).map(([n, body]) => `group ${n} { ${body} }`);
  const attention = fc
    .tuple(name, block(fc.oneof(property, group), sep))
    .map(([n, body]) => `attention ${n} {\n${body}\n}`);
  return fc
    .array(attention, { maxLength: 4 })
    .chain((decls) => fc.constantFrom(decls.join('\n'), decls.join(' ')));
};

describe('the direct parser', () => {
  it.each(exampleTexts.map((text, i) => [i, text]))(
    'takes example %i, as chevrotain reads it',
    (_, text) => {
      expect(takenDirectly(text)).toBe(true);
      sameBothWays(text);
    },
  );

  it('takes generated well-formed specs, as chevrotain reads them', () => {
    fc.assert(
      fc.property(spec(separator), (text) => {
        expect(takenDirectly(text)).toBe(true);
        sameBothWays(text);
      }),
      { numRuns: 400, seed: 8 },
    );
  });

  it('drops properties with malformed numbers as chevrotain does', () => {
    fc.assert(
      fc.property(spec(fc.oneof(separator, fc.constant(' '))), (text) => {
        const malformed = text.replace(/\b64\b/g, '64px').replace(/2\.5/g, '2.5.1');
        expect(takenDirectly(malformed)).toBe(true);
        sameBothWays(malformed);
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('reports properties on one line as chevrotain does', () => {
    fc.assert(fc.property(spec(fc.oneof(separator, looseSeparator)), sameBothWays), {
      numRuns: 1500,
      seed: 9,
    });
  });

  it('matches chevrotain on malformed numbers, lexical errors, nesting cuts and syntax errors', () => {
    const broken = fc
      .tuple(
        spec(separator),
        fc.nat(),
        fc.oneof(
          badNumber,
          fc.constantFrom('@', '"', '{', '}', '(', ')', ',', ':', '|', ';', 'attention', 'group'),
          fc.constantFrom('((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((x'),
        ),
      )
      .map(([text, at, insert]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i);
      });
    fc.assert(fc.property(broken, sameBothWays), { numRuns: 400, seed: 10 });
  });

  it('takes malformed numbers and lexical errors, which need no error recovery', () => {
    for (const text of [
      'attention a { heads: 4 }',
      'attention a { heads: 7x; mask: window(1x) | global([2, 3y]) }',
      'attention a { group g { heads: 1e; x: 1 y: 2 } z: 3 w: .5 }',
      'attention a {\n  heads: 4 @\n  head_dim: 8\n}',
      'attention a { group g { heads: 4 } @ }',
    ]) {
      expect(takenDirectly(text), text).toBe(true);
      sameBothWays(text);
    }
  });

  it('gives up on the first syntax error it meets', () => {
    for (const text of [
      'attention a { heads: 4',
      'attention a { heads 4 }',
      'attention a { f(a,) }',
      'attention a { m: f(a b) }',
      'attention a { group: 2 }',
      'heads: 4',
      'attention a { heads: 4 } }',
    ]) {
      expect(takenDirectly(text), text).toBe(false);
      sameBothWays(text);
    }
  });

  it('recovers the first declarations with syntax errors and skips the later ones', () => {
    const broken = (i: number) => `attention b${i} { heads 4; haeds: 1 }\n`;
    const text =
      Array.from({ length: MAX_RECOVERED_DECLARATIONS + 50 }, (_, i) => broken(i)).join('') +
      'attention last { heads: 4; head_dim: 8; haeds: 1 }\n';
    const { ast, diagnostics } = parseSpec(text);
    expect(ast.attentions.map((a) => a.name.name)).toEqual([
      ...Array.from({ length: MAX_RECOVERED_DECLARATIONS }, (_, i) => `b${i}`),
      'last',
    ]);
    const errors = diagnostics.filter((d) => d.code === 'E101').map((d) => d.message);
    expect(errors.filter((m) => m === 'expected `:`, found `4`')).toHaveLength(
      MAX_RECOVERED_DECLARATIONS,
    );
    const skipped = diagnostics.find((d) =>
      d.message.startsWith('this declaration does not parse'),
    );
    expect(skipped?.primary.span.start).toBe(
      text.indexOf(`attention b${MAX_RECOVERED_DECLARATIONS} `),
    );
    expect(skipped?.notes?.[0]).toBe(
      'the file has too many syntax errors before it, and 49 more declarations that do not parse follow',
    );
    expect(
      ast.attentions.every((a, i) => (a.recovered === true) === i < MAX_RECOVERED_DECLARATIONS),
    ).toBe(true);
  });

  it('gives up on a declaration after MAX_ERRORS_PER_INPUT syntax errors', () => {
    const text = `attention a {\n${'  x 1\n'.repeat(MAX_ERRORS_PER_INPUT + 20)}}\nattention b { heads 2 }\n`;
    const { ast, diagnostics } = parseSpec(text);
    expect(ast.attentions).toEqual([]);
    expect(diagnostics.filter((d) => d.message === 'expected `:`, found `1`')).toHaveLength(
      MAX_ERRORS_PER_INPUT,
    );
    const skipped = diagnostics.find((d) =>
      d.message.startsWith('this declaration does not parse'),
    );
    expect(skipped?.primary.span.start).toBe(text.indexOf('attention b'));
    sameBothWays(text.slice(0, text.indexOf('attention b')));
  });

  it('parses at most MAX_RECOVERED_TOKENS tokens with error recovery', () => {
    const big = (name: string) =>
      `attention ${name} { heads 1${'; causal: true'.repeat(MAX_RECOVERED_TOKENS / 8)} }\n`;
    const { ast, diagnostics } = parseSpec(big('a') + big('b'));
    expect(ast.attentions.map((a) => a.name.name)).toEqual(['a']);
    expect(diagnostics.filter((d) => d.code === 'E101').map((d) => d.message)).toEqual([
      'expected `:`, found `1`',
      'this declaration does not parse; it is not checked, nor are its errors reported',
    ]);
  });
});
