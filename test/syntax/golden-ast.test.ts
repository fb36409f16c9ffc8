// Golden ASTs of the examples: a grammar or AST change shows up as a reviewable diff.
// Update with `npx vitest run test/syntax -u`.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSpec } from '../../src/syntax/parse.js';

const examples = new URL('../../examples/', import.meta.url);
const files = readdirSync(examples)
  .filter((f) => f.endsWith('.attn'))
  .sort();

describe('golden ASTs of the examples', () => {
  it('has examples', () => expect(files.length).toBeGreaterThanOrEqual(18));
  for (const file of files) {
    it(file, async () => {
      const result = parseSpec(readFileSync(new URL(file, examples), 'utf8'));
      expect(result.diagnostics).toEqual([]);
      await expect(JSON.stringify(result.ast, null, 2) + '\n').toMatchFileSnapshot(
        `golden/${file.replace(/\.attn$/, '.ast.json')}`,
      );
    });
  }
});
