// The device commands on every shipped example (examples.test.ts has check, compile and
// explain): `attnc run --verify` and `attnc bench` at a small N on llvmpipe (80: nystrom
// needs a row per landmark). Neither may fail, least of all with an internal error (exit 70).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import type { CliIo } from '../../src/cli/io.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const llvmpipe = await adapterAvailability('llvmpipe');

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

describe.runIf(llvmpipe.run).each(examples)('%s on llvmpipe', (example) => {
  const spec = join(examplesDir, example);

  it('runs and verifies against the reference', { timeout: 180_000 }, async () => {
    const r = await cli('run', spec, '--seq', '80', '--adapter', 'llvmpipe');
    const verified = await cli(
      'run',
      spec,
      ...['--seq', '80', '--adapter', 'llvmpipe', '--verify', '--reps', '1'],
    );
    expect(r.code).toBe(0);
    expect(verified.stderr).not.toMatch(/error/);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/relative error vs reference .*: ok$/m);
  });

  it('benches next to dense', { timeout: 180_000 }, async () => {
    const r = await cli(
      'bench',
      spec,
      ...['--seq', '80', '--adapter', 'llvmpipe', '--warmup', '0', '--reps', '1', '--json'],
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
});
