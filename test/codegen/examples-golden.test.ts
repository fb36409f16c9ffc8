// Golden IR (after lowering and after the whole pipeline) for every example that compiles,
// reviewed as diffs. The examples' WGSL and plans are golden too: generated/ (CI runs
// `npm run generate -- --check`). Update with `npx vitest run test/codegen -u`.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { printAttention } from '../../src/ir/print.js';
import { lowerAttention } from '../../src/lower/lower.js';

const examplesDir = new URL('../../examples/', import.meta.url);
const files = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.attn'))
  .sort();

describe('golden IR of the examples', () => {
  for (const file of files) {
    it(file, async () => {
      const result = compile(readFileSync(new URL(file, examplesDir), 'utf8'), { file });
      const stem = file.replace(/\.attn$/, '');
      const text =
        result.modules
          .map((m) => {
            const lowered = lowerAttention(m.attention);
            if (!lowered.ok) throw new Error('compiled modules lower');
            return `# after lower\n${printAttention(lowered.attention)}\n# after the pipeline\n${printAttention(m.ir)}`;
          })
          .join('\n') ||
        result.diagnostics.map((d) => `# not compiled: ${d.code} ${d.message}`).join('\n') + '\n';
      await expect(text).toMatchFileSnapshot(`golden/examples/${stem}.ir.txt`);
    });
  }
});
