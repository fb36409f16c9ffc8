// `attnc run` on llvmpipe, as a user runs it (a separate process): Dawn's native warnings do
// not reach stderr, the results and the exit code do, and errors still reach stderr.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const root = new URL('../../', import.meta.url).pathname;
const availability = await adapterAvailability('llvmpipe');

function attnc(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe.skipIf(!availability.run)('attnc run output on llvmpipe', () => {
  it('has no "artificially reduced" lines, and keeps the results and exit code', () => {
    const r = attnc('run', 'examples/gqa.attn', '--adapter', 'llvmpipe', '--seq', '32');
    expect(r.stderr).not.toMatch(/artificially reduced/);
    expect(r.stdout).toMatch(/^device: .*llvmpipe/m);
    expect(r.stdout).toMatch(/^gqa: batch 1, seqQ 32, seqK 32: median/m);
    expect(r.status).toBe(0);
  }, 150_000);

  it('still reports errors on stderr with their exit code', () => {
    const r = attnc('run', 'examples/no-such-spec.attn', '--adapter', 'llvmpipe', '--seq', '8');
    expect(r.stderr).toMatch(/no-such-spec\.attn/);
    expect(r.status).not.toBe(0);
  }, 150_000);
});
