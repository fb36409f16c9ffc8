// The command line's conventions (src/cli/command-line.ts and the dispatcher in cli.ts): "did
// you mean" for misspelt flags and commands, dash-led values reaching our own range checks,
// --help for every command, and one flag name with one help line across commands. None of
// these reach a device: every case fails, or prints help, before one is started.

import { fileURLToPath } from 'node:url';
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

const spec = fileURLToPath(new URL('../../examples/sliding_window_causal.attn', import.meta.url));
const COMMANDS = ['check', 'compile', 'run', 'bench', 'tune', 'explain', 'fmt', 'lsp'];

describe('did you mean', () => {
  it('suggests the flag a misspelt one is close to', async () => {
    const r = await cli('run', spec, '--seqq', '4');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("attnc run: error: unknown option '--seqq'");
    expect(r.stderr).toMatch(/Did you mean (one of )?--seq\b/);
    const bench = await cli('bench', spec, '--seq', '4', '--rep', '2');
    expect(bench.code).toBe(2);
    expect(bench.stderr).toContain("unknown option '--rep'\n(Did you mean --reps?)");
  });

  it('suggests the command a misspelt one is close to', async () => {
    const r = await cli('chek', spec);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("attnc: error: unknown command 'chek'\n(Did you mean check?)");
    expect(r.stdout).toBe('');
  });

  it('names an unknown command with nothing close without a suggestion', async () => {
    const r = await cli('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "attnc: error: unknown command 'frobnicate'\nrun `attnc --help` for the list\n",
    );
  });
});

describe('option values', () => {
  it('reports a negative number as out of range, not as an ambiguous flag', async () => {
    for (const command of ['run', 'bench']) {
      const r = await cli(command, spec, '--seq', '-5');
      expect(r.code).toBe(2);
      expect(r.stderr).not.toContain('ambiguous');
      expect(r.stderr).toMatch(/--seq must be (a positive integer|an integer >= 1), found `-5`/);
    }
    const explain = await cli('explain', spec, '--seq', '-5');
    expect(explain.code).toBe(2);
    expect(explain.stderr).toContain('--seq must be a positive integer');
  });

  it('says which flag is missing its value', async () => {
    const r = await cli('check', '--format');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("attnc check: error: option '--format <FORMAT>' argument missing");
  });

  it('takes --reps on run and bench, and --repeat on run as its old spelling', async () => {
    // Range errors come before the device starts, so they show which flag was read.
    const run = await cli('run', spec, '--seq', '8', '--reps', '0');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--reps must be a positive integer, found `0`');
    const old = await cli('run', spec, '--seq', '8', '--repeat', '0');
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('--repeat must be a positive integer, found `0`');
    const bench = await cli('bench', spec, '--seq', '8', '--reps', '-2');
    expect(bench.code).toBe(2);
    expect(bench.stderr).toContain('--reps must be an integer >= 1, found `-2`');
    expect((await cli('run', '--help')).stdout).not.toContain('--repeat');
  });

  it('takes --json and --format json alike, and refuses both in contradiction', async () => {
    const json = await cli('check', '--json', spec);
    const format = await cli('check', '--format', 'json', spec);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(format.stdout));
    const both = await cli('check', '--json', '--format', 'text', spec);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--json contradicts --format text');
    const bad = await cli('bench', spec, '--seq', '8', '--format', 'yaml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown format `yaml`: use `text` or `json`');
  });
});

describe('help and version', () => {
  it('prints every command its help, with exit 0', async () => {
    for (const command of COMMANDS) {
      for (const argv of [
        [command, '--help'],
        [command, '-h'],
        ['help', command],
      ]) {
        const r = await cli(...argv);
        expect(r.code, argv.join(' ')).toBe(0);
        expect(r.stdout, argv.join(' ')).toContain(`Usage: attnc ${command}`);
        expect(r.stderr).toBe('');
      }
    }
  });

  it('lists the commands at the top level', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const r = await cli(...argv);
      expect(r.code).toBe(0);
      for (const command of COMMANDS) expect(r.stdout).toContain(`\n  ${command} `);
    }
    const bare = await cli();
    expect(bare.code).toBe(2);
    expect(bare.stdout).toContain('Usage: attnc <command>');
    expect((await cli('-v')).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('describes a flag that several commands take with the same line in each', async () => {
    const lines = new Map<string, Map<string, string>>();
    for (const command of COMMANDS) {
      const help = (await cli(command, '--help')).stdout;
      for (const entry of optionEntries(help)) {
        const byCommand = lines.get(entry.flag) ?? new Map<string, string>();
        byCommand.set(command, entry.text);
        lines.set(entry.flag, byCommand);
      }
    }
    const shared = ['--seq-q', '--batch', '--adapter', '--reps', '--seed', '--color', '--format'];
    for (const flag of [...shared, '--json', '--target', '-h']) {
      const byCommand = lines.get(flag)!;
      expect(byCommand, flag).toBeDefined();
      expect(new Set(byCommand.values()).size, `${flag}: ${[...byCommand.entries()]}`).toBe(1);
    }
    expect([...lines.get('--reps')!.keys()]).toEqual(['run', 'bench']);
    expect([...lines.get('--target')!.keys()]).toEqual(['compile', 'explain']);
  });
});

/** Each `  --flag ARG  description` entry of a help text, continuation lines joined. */
function optionEntries(help: string): { flag: string; text: string }[] {
  const entries: { flag: string; text: string }[] = [];
  for (const line of help.slice(help.indexOf('Options:')).split('\n').slice(1)) {
    if (line.trim() === '') break;
    const start = /^ {2}(-[\w-]+(?:, --[\w-]+)?)/.exec(line);
    if (start) entries.push({ flag: start[1]!.split(', ')[0]!, text: normalise(line) });
    else if (entries.length > 0) entries[entries.length - 1]!.text += ' ' + normalise(line);
  }
  return entries;
}

function normalise(line: string): string {
  return line.trim().replace(/\s+/g, ' ');
}
