// The TextMate grammar (grammar/attn.tmLanguage.json) tokenized with VS Code's own engine
// (vscode-textmate + vscode-oniguruma): scopes of keywords, names, numbers, comments,
// operators and (invalid) strings on the examples and on hand-written lines.

import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';
import { NAME_HOMES } from '../../src/check/names.js';
import { PROPERTY_NAMES } from '../../src/check/properties.js';
import { buildTextMateGrammar } from '../../scripts/textmate-grammar.js';

const require = createRequire(import.meta.url);
const grammarPath = new URL('../../grammar/attn.tmLanguage.json', import.meta.url);
const examples = new URL('../../examples/', import.meta.url);

let grammar: textmate.IGrammar;

beforeAll(async () => {
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === 'source.attn'
        ? textmate.parseRawGrammar(readFileSync(grammarPath, 'utf8'), grammarPath.pathname)
        : null,
  });
  grammar = (await registry.loadGrammar('source.attn'))!;
});

interface Token {
  readonly text: string;
  readonly scopes: readonly string[];
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let state = textmate.INITIAL;
  for (const line of text.split('\n')) {
    const result = grammar.tokenizeLine(line, state);
    for (const t of result.tokens) {
      tokens.push({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    }
    state = result.ruleStack;
  }
  return tokens;
}

/** The innermost scope of the first token whose text is `text` (after `skip` matches). */
function scopeOf(tokens: Token[], text: string, skip = 0): string {
  const found = tokens.filter((t) => t.text === text)[skip];
  if (!found)
    throw new Error(`no token \`${text}\` in ${JSON.stringify(tokens.map((t) => t.text))}`);
  return found.scopes[found.scopes.length - 1]!;
}

describe('grammar/attn.tmLanguage.json', () => {
  it('is up to date with the checker tables (else run `npm run tmgrammar`)', () => {
    expect(JSON.parse(readFileSync(grammarPath, 'utf8'))).toEqual(buildTextMateGrammar());
  });

  it('scopes declarations, properties, primitives, arguments, numbers and operators', () => {
    const tokens = tokenize(
      'attention bigbird {\n  heads: 12\n  mask: window(64) | global(first: 128) & causal\n  scale: 0.125\n  causal: true\n  group g { kernel: favor(16, seed: 1e-6) }\n}',
    );
    expect(scopeOf(tokens, 'attention')).toBe('storage.type.attention.attn');
    expect(scopeOf(tokens, 'bigbird')).toBe('entity.name.type.attention.attn');
    expect(scopeOf(tokens, 'group')).toBe('storage.type.group.attn');
    expect(scopeOf(tokens, 'g')).toBe('entity.name.section.group.attn');
    expect(scopeOf(tokens, 'heads')).toBe('support.type.property-name.attn');
    expect(scopeOf(tokens, 'causal')).toBe('support.function.attn');
    expect(scopeOf(tokens, 'causal', 1)).toBe('support.type.property-name.attn');
    expect(scopeOf(tokens, 'window')).toBe('support.function.attn');
    expect(scopeOf(tokens, 'first')).toBe('variable.parameter.attn');
    expect(scopeOf(tokens, 'seed')).toBe('variable.parameter.attn');
    for (const n of ['12', '64', '128', '0.125', '16', '1e-6']) {
      expect(scopeOf(tokens, n), n).toBe('constant.numeric.attn');
    }
    expect(scopeOf(tokens, '|')).toBe('keyword.operator.union.attn');
    expect(scopeOf(tokens, '&')).toBe('keyword.operator.intersection.attn');
    expect(scopeOf(tokens, 'true')).toBe('constant.language.boolean.true.attn');
    expect(scopeOf(tokens, '{')).toBe('punctuation.section.block.begin.attn');
  });

  it('scopes both comment styles, also inside calls', () => {
    const tokens = tokenize('# one\nattention a { // two\n  mask: global(0, # three\n 1)\n}');
    expect(tokens.find((t) => t.text === ' one')!.scopes).toContain(
      'comment.line.number-sign.attn',
    );
    expect(tokens.find((t) => t.text === ' two')!.scopes).toContain(
      'comment.line.double-slash.attn',
    );
    expect(tokens.find((t) => t.text === ' three')!.scopes).toContain(
      'comment.line.number-sign.attn',
    );
    expect(scopeOf(tokens, '1')).toBe('constant.numeric.attn');
  });

  it('marks strings and malformed numbers invalid (the language has neither)', () => {
    const tokens = tokenize('attention a {\n  layout: "bnhd"\n  head_dim: 64px\n}');
    expect(scopeOf(tokens, '"bnhd"')).toBe('invalid.illegal.string.attn');
    expect(scopeOf(tokens, '64px')).toBe('invalid.illegal.number.attn');
  });

  it('knows every property and every primitive the checker knows', () => {
    for (const name of PROPERTY_NAMES) {
      expect(scopeOf(tokenize(`  ${name}: 1`), name), name).toBe('support.type.property-name.attn');
    }
    for (const [name] of NAME_HOMES) {
      expect(scopeOf(tokenize(`  mask: ${name}(1)`), name), name).toBe('support.function.attn');
      expect(scopeOf(tokenize(`  mask: a | ${name}`), name), name).toBe('support.function.attn');
    }
  });

  it('tokenizes every example with keywords, numbers and comments scoped', () => {
    const files = readdirSync(examples).filter((f) => f.endsWith('.attn'));
    expect(files.length).toBeGreaterThanOrEqual(18);
    for (const file of files) {
      const tokens = tokenize(readFileSync(new URL(file, examples), 'utf8'));
      const scopes = new Set(tokens.flatMap((t) => t.scopes));
      expect(scopes, file).toContain('storage.type.attention.attn');
      expect(scopes, file).toContain('constant.numeric.attn');
      expect(scopes, file).toContain('comment.line.number-sign.attn');
      expect(scopes, file).toContain('support.type.property-name.attn');
      // Nothing in a valid spec is marked invalid.
      expect(
        [...scopes].filter((s) => s.startsWith('invalid')),
        file,
      ).toEqual([]);
    }
  });
});
