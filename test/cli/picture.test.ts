import { mkdtempSync, readFileSync } from 'node:fs';
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

const examples = new URL('../../examples/', import.meta.url).pathname;

describe('attnc explain --picture', () => {
  it('writes an SVG of every head group at --seq N', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'attnc-picture-')), 'hybrid.svg');
    const result = await cli(
      'explain',
      join(examples, 'hybrid_groups.attn'),
      '--picture',
      out,
      '--seq',
      '512',
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`wrote ${out}\n`);
    const svg = readFileSync(out, 'utf8');
    expect(svg.match(/class="title"/g)!.length).toBeGreaterThanOrEqual(2);
    expect(svg).toContain('at N = 512');
  });

  it('writes a PNG when the file ends in .png', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'attnc-picture-')), 'moba.png');
    const result = await cli(
      'explain',
      join(examples, 'moba.attn'),
      '--picture',
      out,
      '--seq',
      '2048',
    );
    expect(result.code).toBe(0);
    const png = readFileSync(out);
    expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(png.readUInt32BE(16)).toBeGreaterThan(500);
  });

  it('reports a file it cannot write, and keeps --picture N as the ASCII picture', async () => {
    const spec = join(examples, 'sliding_window_causal.attn');
    const bad = await cli('explain', spec, '--picture', '/nonexistent-dir/x.svg', '--seq', '64');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^attnc: error: cannot write \/nonexistent-dir\/x\.svg: /);
    const ascii = await cli('explain', spec, '--picture', '4', '--seq', '64');
    expect(ascii.code).toBe(0);
    expect(ascii.stdout).toContain('each cell about 16x16 positions');
  });
});

describe('attnc bench --plot', () => {
  it('refuses a plot file that is neither .svg nor .png before touching a device', async () => {
    const result = await cli(
      'bench',
      join(examples, 'moba.attn'),
      '--seq',
      '64',
      '--plot',
      'out.jpg',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--plot takes a file ending in .svg or .png, found `out.jpg`');
  });
});
