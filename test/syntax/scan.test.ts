// The parser's own lexer (scan.ts) must cut text exactly as chevrotain's lexer built from
// tokens.ts does (the LSP and the formatter use that one): same tokens, same kinds, same
// runs of unexpected characters, on the examples and on random text.

import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scan, TOKEN_TYPES, tokenObject } from '../../src/syntax/scan.js';
import { specLexer } from '../../src/syntax/tokens.js';

const examples = new URL('../../examples/', import.meta.url);
const exampleTexts = readdirSync(examples)
  .filter((f) => f.endsWith('.attn'))
  .sort()
  .map((f) => readFileSync(new URL(f, examples), 'utf8'));

function viaChevrotain(text: string) {
  const lexed = specLexer.tokenize(text);
  return {
    tokens: lexed.tokens.map((t) => [t.tokenType.name, t.startOffset, t.endOffset! + 1]),
    errors: lexed.errors.map((e) => [e.offset, e.length]),
  };
}

function viaScan(text: string) {
  const scanned = scan(text);
  const { kinds, starts, ends } = scanned.tokens;
  return {
    tokens: [...kinds].map((kind, i) => [TOKEN_TYPES[kind]!.name, starts[i], ends[i]]),
    errors: [...scanned.errorStarts].map((start, i) => [start, scanned.errorLengths[i]]),
  };
}

/** Characters each token (and each way of failing one) starts or ends with. */
const ALPHABET = [
  ...'aAzZ_09-.eE+{}()[]:;,|&#/ \t\r\n\f\v\u00a0\ufeff@"\'`$\\\u00e9\u{1f600}',
  'attention',
  'group',
  'true',
  'false',
  'attentions',
  'groupx',
  '1e-5',
  '-.5',
  '1.',
  '//',
];

describe('scan', () => {
  it.each(exampleTexts.map((text, i) => [i, text]))(
    'cuts example %i as chevrotain does',
    (_, text) => {
      expect(viaScan(text)).toEqual(viaChevrotain(text));
    },
  );

  it('cuts hand-picked edge cases as chevrotain does', () => {
    const cases = [
      '',
      '@',
      '@@ @',
      '/ / //x\n/',
      '- -1 -x -.5 -. .5 . 5. 5.e 1e+ 1e-x 1E5x.y 1..2 256px 0x1F',
      'attention attentions attention_ group groups true trueish false falsey',
      'a\u00a0b\ufeffc \u2028 d',
      '# comment\nheads: 4 // another\n',
      '"bnhd" \'x\'',
    ];
    for (const text of cases) expect(viaScan(text), text).toEqual(viaChevrotain(text));
  });

  it('cuts random text as chevrotain does', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ALPHABET), { maxLength: 60 }), (parts) => {
        const text = parts.join('');
        expect(viaScan(text)).toEqual(viaChevrotain(text));
      }),
      { numRuns: 3000, seed: 8 },
    );
  });

  it('grows its arrays past its first guess', () => {
    const text = '('.repeat(10_000) + '@'.repeat(3) + ' 1'.repeat(100);
    expect(viaScan(text)).toEqual(viaChevrotain(text));
  });

  it('makes token objects the parser accepts', () => {
    const { tokens } = scan('attention a { heads: 4 }');
    const token = tokenObject(tokens, 1);
    expect(token.tokenType.name).toBe('Name');
    expect([token.image, token.startOffset, token.endOffset]).toEqual(['a', 10, 10]);
  });
});
