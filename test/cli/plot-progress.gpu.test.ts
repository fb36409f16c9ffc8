// `attnc bench --plot` and `attnc run` progress end to end on llvmpipe: the plot has a curve per
// attention and per its dense comparison; --json stays one JSON object on stdout and prints no
// progress even on a terminal; without --json a terminal sees case, rep and N.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import type { CliIo } from '../../src/cli/io.js';
import { FIRST_RUN_NOTE } from '../../src/cli/progress.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const llvmpipe = await adapterAvailability('llvmpipe');

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  // A terminal's stderr: progress is drawn unless the command must stay quiet.
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    color: false,
    stderrIsTTY: true,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

/** Two small attentions, so a bench has two cases per N. */
function twoSpec(): string {
  const spec = join(mkdtempSync(join(tmpdir(), 'attnc-plot-')), 'two.attn');
  writeFileSync(
    spec,
    'attention swa {\n  heads: 1\n  head_dim: 8\n  causal: true\n  mask: window(left: 16, right: 0)\n}\n' +
      'attention full {\n  heads: 1\n  head_dim: 8\n}\n',
  );
  return spec;
}

describe.runIf(llvmpipe.run)('attnc bench --plot on llvmpipe', () => {
  it('draws time against N for every attention and its dense comparison', async () => {
    const spec = twoSpec();
    const plot = join(mkdtempSync(join(tmpdir(), 'attnc-plot-')), 'plot.svg');
    const args = ['bench', spec, '--seq', '32,64', '--reps', '1', '--adapter', 'llvmpipe'];
    const r = await cli(...args, '--plot', plot, '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    const svg = readFileSync(plot, 'utf8');
    const labels = [...svg.matchAll(/class="series" data-label="([^"]+)"/g)].map((m) => m[1]);
    expect(labels).toEqual(['swa', 'swa: dense', 'full', 'full: dense']);
    expect(svg).toContain('class="x-tick">32<');
    expect(svg).toContain('class="x-tick">64<');
  }, 120_000);

  it('shows case, rep and N on a terminal, and the first-run note', async () => {
    const args = ['bench', twoSpec(), '--seq', '32', '--reps', '2', '--adapter', 'llvmpipe'];
    const r = await cli(...args);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(FIRST_RUN_NOTE);
    expect(r.stderr).toContain('case 1 of 2: swa, N = 32: warm-up 1/1');
    expect(r.stderr).toContain('case 2 of 2: full, N = 32: rep 2/2 (dense)');
    expect(r.stderr.endsWith('\r\x1b[2K')).toBe(true);
    expect(r.stdout).not.toContain('\x1b');
  }, 120_000);
});

describe.runIf(llvmpipe.run)('attnc run progress on llvmpipe', () => {
  it('says kernels are being compiled on the first run, then counts the runs', async () => {
    const args = ['run', twoSpec(), '--seq', '32', '--reps', '2', '--verify'];
    const r = await cli(...args, '--adapter', 'llvmpipe');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(FIRST_RUN_NOTE);
    for (const step of [
      'starting the WebGPU device',
      'swa: compiling kernels, first run (N = 32)',
      'swa: run 2 of 2 (N = 32)',
      'full: CPU reference (N = 32)',
    ])
      expect(r.stderr).toContain(step);
    expect(r.stdout).toContain('swa: relative error vs reference');
  }, 120_000);
});
