// Every shipped command on every shipped example: none may fail, least of all with an
// internal error (exit 70). Kernel runs are in examples-run.gpu.test.ts.

import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import type { CliIo } from '../../src/cli/io.js';

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), color: false };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const examplesDir = new URL('../../examples/', import.meta.url).pathname;
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.attn'))
  .sort();

describe.each(examples)('%s', (example) => {
  const spec = join(examplesDir, example);

  it('checks clean', async () => {
    const r = await cli('check', spec);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('compiles', async () => {
    const out = mkdtempSync(join(tmpdir(), 'attnc-examples-'));
    const r = await cli('compile', spec, '-o', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(out).some((f) => f.endsWith('.plan.json'))).toBe(true);
  });

  it.each([
    [[]],
    [['--seq', '100', '--picture', '10']],
    [['--after', 'lower', '--seq', '37']],
    [['--after', 'plan-blocks', '--picture', '0']],
  ])('explains with %j', async (options) => {
    const r = await cli('explain', spec, ...options);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^-- group /m);
  });
});
