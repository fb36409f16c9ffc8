// `attnc bench --plot` end to end on llvmpipe: the plot has a curve per attention and per its
// dense comparison, and --json stays one JSON object on stdout.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

describe.runIf(llvmpipe.run)('attnc bench --plot on llvmpipe', () => {
  it('draws time against N for every attention and its dense comparison', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attnc-plot-'));
    const spec = join(dir, 'two.attn');
    writeFileSync(
      spec,
      'attention swa {\n  heads: 1\n  head_dim: 8\n  causal: true\n  mask: window(left: 16, right: 0)\n}\n' +
        'attention full {\n  heads: 1\n  head_dim: 8\n}\n',
    );
    const plot = join(dir, 'plot.svg');
    const args = ['bench', spec, '--seq', '32,64', '--reps', '1', '--adapter', 'llvmpipe'];
    const r = await cli(...args, '--plot', plot, '--json');
    expect(r.code).toBe(0);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    const svg = readFileSync(plot, 'utf8');
    const labels = [...svg.matchAll(/class="series" data-label="([^"]+)"/g)].map((m) => m[1]);
    expect(labels).toEqual(['swa', 'swa: dense', 'full', 'full: dense']);
    expect(svg).toContain('class="x-tick">32<');
    expect(svg).toContain('class="x-tick">64<');
  }, 120_000);
});
