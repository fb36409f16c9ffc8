// `attnc bench` end to end on llvmpipe (what it prints, --json, --no-dense), its usage errors
// (no device needed), and the `benchmark` API's argument checks.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import type { CliIo } from '../../src/cli/io.js';
import { benchmark, compile, createRuntime, denseEquivalentSpec } from '../../src/index.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const examples = new URL('../../examples/', import.meta.url).pathname;
const spec = join(examples, 'longformer.attn');
const llvmpipe = await adapterAvailability('llvmpipe');

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), color: false };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

describe('attnc bench usage', () => {
  it.each([
    [['bench', spec], '--seq is required'],
    [['bench', spec, '--seq', '64,0'], '--seq must be an integer >= 1, found `0`'],
    [['bench', spec, '--seq', '64', '--seq-q', '65'], '--seq-q (65) must not exceed any --seq'],
    [['bench', spec, '--seq', '64', '--reps', '0'], '--reps must be an integer >= 1'],
    [['bench', spec, '--seq', '64', '--adapter', 'cuda'], 'unknown adapter `cuda`'],
    [['bench', '--seq', '64'], 'give exactly one spec file'],
  ])('%j -> exit 2: %s', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('prints its help', async () => {
    const r = await cli('bench', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: attnc bench FILE --seq N[,N...]');
  });

  it('describes the dense comparison of an attention by its shape', () => {
    const module = compile(
      'attention a { heads: 8; kv_heads: 2; head_dim: 32; value_dim: 16; layout: bnhd; dtype: f16; mask: window(4); }',
    ).modules[0]!;
    const dense = denseEquivalentSpec(module.attention);
    expect(dense).toBe(
      'attention a_dense { heads: 8; kv_heads: 2; head_dim: 32; value_dim: 16; layout: bnhd; dtype: f16; }',
    );
    expect(compile(dense).diagnostics).toEqual([]);
  });
});

describe.runIf(llvmpipe.run)('attnc bench on llvmpipe', () => {
  it('prints one row per attention and N, with the dense comparison', async () => {
    const r = await cli(
      'bench',
      spec,
      '--seq',
      '64,130',
      '--adapter',
      'llvmpipe',
      '--warmup',
      '0',
      '--reps',
      '1',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^device: .*llvmpipe/);
    expect(lines[2]).toMatch(
      /^attention\s+B\s+Nq\s+Nk\s+median ms\s+min ms\s+dense ms\s+vs dense$/,
    );
    expect(lines.slice(3)).toHaveLength(2);
    expect(lines[3]).toMatch(/^longformer\s+1\s+64\s+64\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+x$/);
    expect(lines[4]).toMatch(/^longformer\s+1\s+130\s+130\s/);
  });

  it('writes JSON, and leaves dense out with --no-dense', async () => {
    const r = await cli(
      'bench',
      spec,
      '--seq',
      '70',
      '--seq-q',
      '1',
      '--batch',
      '2',
      '--adapter',
      'llvmpipe',
      '--reps',
      '3',
      '--json',
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      reps: number;
      results: {
        name: string;
        batch: number;
        seqQ: number;
        seqK: number;
        timing: { medianMs: number; minMs: number; timesMs: number[] };
        dense: { medianMs: number };
        speedupOverDense: number;
      }[];
    };
    expect(report.reps).toBe(3);
    const [result] = report.results;
    expect(result).toMatchObject({ name: 'longformer', batch: 2, seqQ: 1, seqK: 70 });
    expect(result!.timing.timesMs).toHaveLength(3);
    expect(result!.timing.minMs).toBeLessThanOrEqual(result!.timing.medianMs);
    expect(result!.speedupOverDense).toBeCloseTo(result!.dense.medianMs / result!.timing.medianMs);

    const alone = await cli(
      'bench',
      spec,
      '--seq',
      '64',
      '--adapter',
      'llvmpipe',
      '--reps',
      '1',
      '--no-dense',
    );
    expect(alone.code).toBe(0);
    expect(alone.stdout.trim().split('\n').at(-1)).toMatch(/\s-\s+-$/);
  });

  it('reports a spec with errors and runs nothing', async () => {
    const dir = await import('node:fs/promises').then((fs) =>
      fs.mkdtemp(join(import.meta.dirname, '.tmp-bench-')),
    );
    const { writeFile, rm } = await import('node:fs/promises');
    const bad = join(dir, 'bad.attn');
    await writeFile(bad, 'attention a { heads: 0; head_dim: 64; }\n');
    try {
      const r = await cli('bench', bad, '--seq', '64', '--adapter', 'llvmpipe');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('heads');
      expect(r.stdout).not.toContain('median');
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('rejects bad benchmark options from the API', async () => {
    const runtime = await createRuntime({ adapter: 'llvmpipe' });
    try {
      const module = compile('attention a { heads: 1; head_dim: 8; }', {
        target: runtime.profile,
      }).modules[0]!;
      await expect(benchmark(runtime, module, { seqK: 4, seqQ: 5 })).rejects.toThrow(
        'benchmark: seqQ (5) must not exceed seqK (4)',
      );
      await expect(benchmark(runtime, module, { seqK: 4, reps: 0 })).rejects.toThrow(
        'benchmark: reps must be an integer >= 1, got 0',
      );
    } finally {
      runtime.destroy();
    }
  });
});
