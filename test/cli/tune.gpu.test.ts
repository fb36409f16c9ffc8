// `attnc tune`: its usage errors (no device needed), and the command on one example at a tiny
// size on llvmpipe: the table, the budget's skipped candidates, --json, and the cache file.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import type { CliIo } from '../../src/cli/io.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const examples = new URL('../../examples/', import.meta.url).pathname;
const spec = join(examples, 'longformer.attn');
const llvmpipe = await adapterAvailability('llvmpipe');
const dir = mkdtempSync(join(tmpdir(), 'attnc-tune-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), color: false };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

describe('attnc tune usage', () => {
  it.each([
    [['tune', spec, '--seq', '0'], '--seq must be an integer >= 1, found `0`'],
    [['tune', spec, '--budget-ms', '-1'], '--budget-ms must be an integer >= 0, found `-1`'],
    [['tune', spec, '--adapter', 'cuda'], 'unknown adapter `cuda`'],
    [['tune', spec, '--no-cache', '--cache-file', 'x.json'], '--no-cache contradicts --cache-file'],
    [['tune', spec, '--budget', '5'], "unknown option '--budget'"],
    [['tune'], 'give exactly one spec file'],
  ])('%j -> exit 2: %s', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('prints its help, and is listed', async () => {
    const r = await cli('tune', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: attnc tune FILE [--seq N] [--budget-ms M]');
    expect((await cli('--help')).stdout).toMatch(/^ {2}tune +choose kernel schedules/m);
  });
});

describe.runIf(llvmpipe.run)('attnc tune on llvmpipe', () => {
  it('prints the table; with no budget only the default runs, the rest are skipped', async () => {
    const r = await cli(
      'tune',
      spec,
      '--seq',
      '16',
      '--budget-ms',
      '0',
      '--adapter',
      'llvmpipe',
      '--no-cache',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^device: .*llvmpipe/);
    expect(lines[1]).toBe(
      'size class: N = 64 (for --seq 16), batch 1; budget 0 ms per group; warm-up 1, timed runs up to 3',
    );
    expect(lines[3]).toMatch(/^longformer, group longformer \(N = 64, [\d.]+ s\)$/);
    expect(lines[4]).toMatch(/^candidate\s+verdict\s+median ms\s+chosen$/);
    expect(lines[5]).toMatch(/^rowwise 64x64 vec4 \(default\)\s+ok\s+[\d.]+\s+\*$/);
    expect(lines.slice(6, 13).every((l) => /^\S+ \S+ \S+\s+skipped\s+-$/.test(l))).toBe(true);
    expect(lines[13]).toBe('  7 candidates skipped: the budget was spent');
    expect(lines[14]).toBe('  chosen: the default schedule');
  });

  it('--json, and the choice saved to the cache file', async () => {
    const file = join(dir, 'tune.json');
    const r = await cli(
      'tune',
      spec,
      '--seq',
      '64',
      '--budget-ms',
      '60000',
      '--adapter',
      'llvmpipe',
      '--cache-file',
      file,
      '--json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as {
      sizeClass: number;
      attentions: {
        name: string;
        groups: { candidates: { verdict: string; chosen: boolean }[] }[];
      }[];
    };
    expect(json.sizeClass).toBe(64);
    const candidates = json.attentions[0]!.groups[0]!.candidates;
    expect(candidates.length).toBe(8);
    expect(candidates.every((c) => c.verdict === 'ok')).toBe(true);
    expect(candidates.filter((c) => c.chosen)).toHaveLength(1);
    expect(existsSync(file)).toBe(true);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, unknown> };
    expect(Object.keys(saved.entries)).toHaveLength(1);
    expect(Object.keys(saved.entries)[0]).toMatch(/\|longformer\|64$/);
  });
});
