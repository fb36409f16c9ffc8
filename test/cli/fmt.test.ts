// `attnc fmt`: writes in place, --check lists unformatted files (exit 1), syntax errors
// are reported with their location and leave the file untouched.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

const dir = mkdtempSync(join(tmpdir(), 'attnc-fmt-'));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const FORMATTED = 'attention a {\n  heads: 4 # four\n  head_dim: 64\n}\n';
const MESSY = 'attention a{heads:4 # four\nhead_dim:64}';

describe('attnc fmt', () => {
  it('--check passes formatted files and lists the others, exit 1, writing nothing', async () => {
    const good = file('good.attn', FORMATTED);
    const messy = file('messy.attn', MESSY);
    const r = await cli('fmt', '--check', good, messy);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${messy}\n`);
    expect(r.stderr).toBe('1 file is not formatted; run `attnc fmt` on it\n');
    expect(readFileSync(messy, 'utf8')).toBe(MESSY);
    expect((await cli('fmt', '--check', good)).code).toBe(0);
  });

  it('formats in place and says which files changed; a second run changes nothing', async () => {
    const messy = file('inplace.attn', MESSY);
    const r = await cli('fmt', messy);
    expect(r).toEqual({ code: 0, stdout: `formatted ${messy}\n`, stderr: '' });
    expect(readFileSync(messy, 'utf8')).toBe(FORMATTED);
    expect(await cli('fmt', messy)).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('reports a syntax error with file, line and caret, exits 1 and leaves the file alone', async () => {
    const broken = file('broken.attn', 'attention a {\n  heads 4\n}\n');
    const r = await cli('fmt', broken);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[E101]');
    expect(r.stderr).toContain(`${broken}:2:9`);
    expect(r.stderr).toContain(`\`${broken}\` does not parse; it was not formatted`);
    expect(readFileSync(broken, 'utf8')).toBe('attention a {\n  heads 4\n}\n');
  });

  it('exits 2 on usage errors: no files, a missing file, an unknown flag', async () => {
    expect((await cli('fmt')).code).toBe(2);
    const missing = await cli('fmt', join(dir, 'nope.attn'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
    expect((await cli('fmt', '--chek', join(dir, 'good.attn'))).code).toBe(2);
  });

  it('every example is formatted (what CI checks)', async () => {
    const { readdirSync } = await import('node:fs');
    const examples = new URL('../../examples/', import.meta.url).pathname;
    const files = readdirSync(examples)
      .filter((f) => f.endsWith('.attn'))
      .map((f) => join(examples, f));
    expect(await cli('fmt', '--check', ...files)).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('reports a malformed .prettierrc next to a spec and exits 1', async () => {
    const { mkdirSync } = await import('node:fs');
    const sub = join(dir, 'badconfig');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, '.prettierrc'), '{ not json');
    const spec = join(sub, 'spec.attn');
    writeFileSync(spec, FORMATTED);
    const r = await cli('fmt', '--check', spec);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read the prettier config for \`${spec}\``);
  });

  it('has help', async () => {
    const r = await cli('fmt', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: attnc fmt [options] FILE...');
  });
});
