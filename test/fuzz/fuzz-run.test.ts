// The fuzzer end to end (`npm run fuzz`): with a planted target that hangs, eats memory,
// crashes, throws or reports an internal error on inputs this test picks out itself, the run
// must report exactly those inputs with exactly those kinds, save each one, and exit 1; with
// the real compiler it must get through a few hundred inputs and classify what it finds.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fuzzInput } from '../../scripts/fuzz/inputs.js';
import type { Summary } from '../../scripts/fuzz/report.js';
import { plantedKind } from './planted-target.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'attnc-fuzz-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runFuzz(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/fuzz/main.ts', '--quiet', ...args],
      { cwd: ROOT, timeout: 240_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('npm run fuzz', () => {
  it('finds and classifies every planted failure, and only those', async () => {
    const seed = 2;
    const inputs = 200;
    const expected = new Map<number, string>();
    for (let i = 0; i < inputs; i++) {
      const kind = plantedKind(fuzzInput(seed, i).text);
      if (kind) expected.set(i, kind);
    }
    // The seed must plant every kind, or the test proves less than it says.
    expect(new Set(expected.values())).toEqual(
      new Set(['hang', 'memory', 'crash', 'exception', 'internal-error']),
    );

    const out = join(scratch, 'planted');
    const run = await runFuzz([
      ...['--seed', String(seed), '--inputs', String(inputs), '--jobs', '2', '--out', out],
      // A time limit that even a loaded machine's memory planting stays well within.
      ...['--time-limit', '3000', '--memory-limit', '300'],
      ...['--target', 'test/fuzz/planted-target.ts'],
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    expect(summary.done).toBe(inputs);
    // As `index: kind` lines, so that a mismatch reads plainly.
    const lines = (entries: Iterable<[number, string]>) =>
      [...entries].map(([i, kind]) => `${i}: ${kind}`).sort();
    expect(lines(summary.failures.map((f) => [f.index, f.kind]))).toEqual(lines(expected));
    // Each hang was confirmed by a second run before it counted.
    for (const f of summary.failures.filter((f) => f.kind === 'hang')) {
      expect(f.message).toContain('twice');
    }
    expect(summary.unconfirmedHangs).toEqual([]);
    // Every failing input is saved byte for byte, and the text summary names it.
    for (const f of summary.failures) {
      expect(readFileSync(join(out, f.file), 'utf8')).toBe(fuzzInput(seed, f.index).text);
    }
    const text = readFileSync(join(out, 'summary.txt'), 'utf8');
    expect(text).toContain(`${inputs} inputs in`);
    expect(text).toContain(`${expected.size} failures`);
    expect(summary.groups.find((g) => g.kind === 'exception')?.signature).toMatch(
      /^exception: TypeError: planted/,
    );
    expect(summary.groups.map((g) => g.kind).sort()).toEqual([
      'crash',
      'exception',
      'hang',
      'internal-error',
      'memory',
    ]);
  }, 240_000);

  it('validates WGSL with --validate-wgsl in a separate process and names the bad kernel', async () => {
    // Seed 3's first inputs plant no hang, memory or crash, so this run is quick.
    const seed = 3;
    const inputs = 40;
    const expected = new Map<number, string>();
    for (let i = 0; i < inputs; i++) {
      const kind = plantedKind(fuzzInput(seed, i).text, true);
      if (kind) expected.set(i, kind);
    }
    expect([...expected.values()]).toContain('invalid-wgsl');
    for (const costly of ['hang', 'memory', 'crash']) {
      expect([...expected.values()]).not.toContain(costly);
    }

    const out = join(scratch, 'wgsl');
    const run = await runFuzz([
      ...['--seed', String(seed), '--inputs', String(inputs), '--out', out],
      ...['--validate-wgsl', '1', '--target', 'test/fuzz/planted-target.ts'],
    ]);
    expect(run.stderr).toBe('');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    expect(summary.failures.map((f) => `${f.index}: ${f.kind}`).sort()).toEqual(
      [...expected].map(([i, kind]) => `${i}: ${kind}`).sort(),
    );
    for (const f of summary.failures.filter((f) => f.kind === 'invalid-wgsl')) {
      expect(f.message).toBe(
        "kernel planted.broken (portable) is not valid WGSL: 1:24: value 2147483648 cannot be represented as 'i32'",
      );
    }
  }, 240_000);

  it('runs the real compiler over a few hundred inputs and accounts for every one', async () => {
    const out = join(scratch, 'real');
    const run = await runFuzz(['--seed', '20261202', '--inputs', '300', '--out', out]);
    expect(run.stderr).toBe('');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    expect(summary.done).toBe(300);
    expect(summary.inputsPerSecond).toBeGreaterThan(0);
    // Exit status follows the failures; whatever is found is saved and classified.
    expect(run.code).toBe(summary.failureCount > 0 ? 1 : 0);
    for (const f of summary.failures) {
      expect(readFileSync(join(out, f.file), 'utf8')).toBe(fuzzInput(20261202, f.index).text);
    }
    expect(run.stdout).toMatch(/300 inputs in [\d.]+ s: [\d.]+ inputs\/s/);
  }, 240_000);

  it('rejects bad options with a usage error', async () => {
    const run = await runFuzz(['--inputs', 'many']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--inputs must be an integer');
  });
});
