import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
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

const dir = mkdtempSync(join(tmpdir(), 'attnc-cli-'));
function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const good = file('good.attn', 'attention a {\n  heads: 4\n  head_dim: 64\n}\n');
const threeMistakes = file(
  'three.attn',
  ['attention a {', '  haeds: 4', '  head_dim: 640', '  mask: windw(3)', '}', ''].join('\n'),
);

describe('attnc check', () => {
  it('exits 0 and says so on a clean file', async () => {
    const r = await cli('check', good);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('checked 1 file: no problems\n');
  });

  it('checks every example cleanly', async () => {
    const { readdirSync } = await import('node:fs');
    const examples = new URL('../../examples/', import.meta.url).pathname;
    const files = readdirSync(examples)
      .filter((f) => f.endsWith('.attn'))
      .map((f) => join(examples, f));
    const r = await cli('check', ...files);
    expect(r.stdout).toBe(`checked ${files.length} files: no problems\n`);
    expect(r.code).toBe(0);
  });

  it('points at all three mistakes of a file and exits 1', async () => {
    const r = await cli('check', threeMistakes);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${threeMistakes}:2:3`);
    expect(r.stdout).toContain(`${threeMistakes}:3:13`);
    expect(r.stdout).toContain(`${threeMistakes}:4:9`);
    expect(r.stdout).toContain('did you mean `heads`?');
    expect(r.stdout).toContain('did you mean `window`?');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('3 errors, 0 warnings in 1 file');
  });

  it('prints JSON for editors', async () => {
    const r = await cli('check', '--format', 'json', threeMistakes);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as {
      diagnostics: { code: string; line: number; column: number; file: string }[];
      errors: number;
    };
    expect(json.errors).toBe(3);
    expect(json.diagnostics.map((d) => [d.line, d.column])).toEqual([
      [2, 3],
      [3, 13],
      [4, 9],
    ]);
    expect(json.diagnostics[0]!.file).toBe(threeMistakes);
  });

  it('colours output only when asked or on a terminal', async () => {
    expect((await cli('check', '--color', 'always', threeMistakes)).stdout).toContain('\x1b[');
    expect((await cli('check', threeMistakes)).stdout).not.toContain('\x1b[');
  });

  it('usage errors exit 2 with a message, never a stack trace', async () => {
    const missing = await cli('check', join(dir, 'nope.attn'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `attnc: error: cannot read \`${join(dir, 'nope.attn')}\`: no such file\n`,
    );

    const sub = join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    const directory = await cli('check', sub);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain('is a directory');

    const flag = await cli('check', '--frobnicate', good);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown option '--frobnicate'");
    expect(flag.stderr).not.toMatch(/\n\s+at /);

    expect((await cli('check')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
  });

  it('explains files that are not specs', async () => {
    const latin1Path = file('latin1.attn', Buffer.from([0x61, 0x0a, 0xe9, 0x0a]));
    const latin1 = await cli('check', latin1Path);
    expect(latin1.code).toBe(1);
    expect(latin1.stdout).toBe(
      `error[E104]: \`${latin1Path}\` is not UTF-8 text (invalid byte 0xe9 at offset 2); save it as UTF-8\n` +
        ` --> ${latin1Path}\n\n1 error, 0 warnings in 1 file\n`,
    );

    const binary = await cli('check', file('bin.attn', Buffer.from([1, 0, 2])));
    expect(binary.code).toBe(1);
    expect(binary.stdout).toContain('looks like a binary file');

    const hugePath = file('huge.attn', Buffer.alloc(10 * 1024 * 1024, 0x20));
    const huge = await cli('check', hugePath);
    expect(huge.code).toBe(1);
    expect(huge.stdout).toBe(
      `error[E105]: \`${hugePath}\` is 10.0 MiB; spec files are limited to 4.0 MiB\n` +
        ` --> ${hugePath}\n\n1 error, 0 warnings in 1 file\n`,
    );

    const empty = await cli('check', file('empty.attn', ''));
    expect(empty.stdout).toContain('W100');
    expect(empty.code).toBe(0);
  });

  it('--help and --version', async () => {
    expect((await cli('--help')).stdout).toContain('Usage: attnc <command>');
    expect((await cli('check', '--help')).stdout).toContain('Usage: attnc check');
    expect((await cli('--version')).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
