// The plugin through prettier's own API, as a user's `.prettierrc` would load it, and the
// package export that names it.

import { readFileSync } from 'node:fs';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import plugin, * as entry from '../../src/format/index.js';

describe('the prettier plugin', () => {
  it('formats .attn files picked by file name, with prettier options', async () => {
    const out = await prettier.format('attention a{heads:4;mask:window(64)|global(0)}', {
      filepath: 'spec.attn',
      plugins: [plugin],
      printWidth: 25,
    });
    expect(out).toBe('attention a {\n  heads: 4\n  mask: window(64) |\n    global(0)\n}\n');
  });

  it('rejects a file that does not parse with the first error and its location', async () => {
    await expect(
      prettier.format('attention a {\n  heads: 4$\n}', { parser: 'attn', plugins: [plugin] }),
    ).rejects.toThrow(/error\[E100\]: unexpected character `\$` \(2:11\)/);
  });

  it('is exported as attnc/prettier', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(pkg.exports['./prettier']).toEqual({
      'attnc-source': './src/format/index.ts',
      types: './dist/format/index.d.ts',
      import: './dist/format/index.js',
      default: './dist/format/index.js',
    });
    expect(pkg.dependencies.prettier).toBeDefined();
    expect(entry.parsers.attn.astFormat).toBe('attn-ast');
    expect(typeof entry.formatSpec).toBe('function');
  });

  it('is not reachable from the main `attnc` entry (bundled for browsers)', () => {
    const index = readFileSync(new URL('../../src/index.ts', import.meta.url), 'utf8');
    expect(index).not.toContain('format/');
  });
});
