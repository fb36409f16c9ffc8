// Hover text comes from docs/language.md: the generated table must match the docs, and
// every property and callable the checker knows must have its row.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NAME_HOMES } from '../../src/check/names.js';
import { PROPERTY_NAMES } from '../../src/check/properties.js';
import { extractLanguageDocs } from '../../src/lsp/docs-tables.js';
import { LANGUAGE_DOCS } from '../../src/lsp/language-docs.generated.js';
import { CALLABLES, PLAIN_VALUES, callableHover, propertyHover } from '../../src/lsp/vocabulary.js';
import { checkSource } from '../../src/frontend.js';

const markdown = readFileSync(new URL('../../docs/language.md', import.meta.url), 'utf8');

describe('language docs for hover', () => {
  it('are up to date with docs/language.md (else run `npm run lsp-docs`)', () => {
    expect(LANGUAGE_DOCS).toEqual(extractLanguageDocs(markdown));
  });

  it('document every property the checker knows, and nothing else', () => {
    expect(Object.keys(LANGUAGE_DOCS.properties).sort()).toEqual([...PROPERTY_NAMES].sort());
  });

  it('document every mask primitive, and every mechanism property', () => {
    const primitives = [...NAME_HOMES].filter(([, h]) => h.property === 'mask').map(([n]) => n);
    expect(Object.keys(LANGUAGE_DOCS.primitives).sort()).toEqual(primitives.sort());
    expect(Object.keys(LANGUAGE_DOCS.mechanisms).sort()).toEqual(
      ['bias', 'head_routing', 'kernel', 'lowrank'].sort(),
    );
  });

  it('give every callable a hover text, and every property one', () => {
    for (const [name] of NAME_HOMES) expect(callableHover(name), name).toMatch(/^\*\*/);
    for (const name of PROPERTY_NAMES) expect(propertyHover(name)).toContain('- value: ');
    expect(callableHover('favor')).toContain('`favor(features, seed: s)`');
  });

  it('reads escaped pipes in cells and fails loudly on a missing section', () => {
    const docs = extractLanguageDocs(markdown);
    expect(docs.primitives['window']!.map((r) => r.form)).toEqual([
      'window(width)',
      'window(left: a, right: b)',
    ]);
    expect(() => extractLanguageDocs('# nothing here')).toThrow(/no heading `## 3. Properties`/);
  });
});

describe('completion vocabulary', () => {
  it('offers only values the checker accepts', () => {
    for (const [property, values] of Object.entries(PLAIN_VALUES)) {
      for (const value of values) {
        const text = `attention a {\n  heads: 1\n  head_dim: 8\n  ${property}: ${value}\n}\n`;
        expect(checkSource(text).diagnostics, `${property}: ${value}`).toEqual([]);
      }
    }
  });

  it('knows the callables of every property that takes them', () => {
    const homes = new Set([...NAME_HOMES.values()].map((h) => h.property));
    expect(Object.keys(CALLABLES).sort()).toEqual([...homes].sort());
    for (const [name, home] of NAME_HOMES) expect(CALLABLES[home.property]![name]).toBeDefined();
  });
});
