// Every checker code in codes.ts is emitted by src/check and shown rendered in a test here,
// so a new code cannot ship untested and a code cannot silently stop being used.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIAGNOSTIC_CODES } from '../../src/diagnostics/codes.js';

const root = join(import.meta.dirname, '..', '..');
const read = (dir: string) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(root, dir, f), 'utf8'))
    .join('\n');

// E1xx belong to the parser.
const checkerCodes = Object.keys(DIAGNOSTIC_CODES).filter((code) => /^(E[2-5]|W1)/.test(code));

describe('diagnostic code coverage', () => {
  const source = read('src/check');
  const tests = read('test/check');
  const docs = readFileSync(join(root, 'docs', 'language.md'), 'utf8');

  it.each(checkerCodes)('%s is emitted, tested as rendered text, and documented', (code) => {
    expect(source).toContain(`'${code}'`);
    expect(tests).toMatch(new RegExp(`(error|warning)\\[${code}\\]`));
    expect(docs).toContain(`| ${code} |`);
  });
});
