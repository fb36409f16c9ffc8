// `attnc run --verify` on the mixture-of-heads example (router logits from randomInputs), and
// the run-time checks of the router input: missing or mis-shaped, the error names the input,
// the expected shape and the actual length.

import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli.js';
import type { CliIo } from '../../src/cli/io.js';
import { compile, createRuntime } from '../../src/index.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const examples = new URL('../../examples/', import.meta.url).pathname;
const llvmpipe = await adapterAvailability('llvmpipe');

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), color: false };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

describe.runIf(llvmpipe.run)('head routing from the CLI and the runtime on llvmpipe', () => {
  it('attnc run verifies mixture_of_heads.attn against the reference', async () => {
    const spec = join(examples, 'mixture_of_heads.attn');
    for (const extra of [[], ['--seq-q', '7', '--batch', '2']]) {
      const r = await cli(
        'run',
        spec,
        '--seq',
        '70',
        ...extra,
        '--adapter',
        'llvmpipe',
        '--verify',
        '--reps',
        '1',
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(
        /mixture_of_heads: relative error vs reference [\d.e+-]+ \(.*tolerance 0.0001\): ok/,
      );
      expect(r.code).toBe(0);
    }
  });

  it('attnc run verifies hybrid_groups.attn (window group + elu1 group)', async () => {
    const spec = join(examples, 'hybrid_groups.attn');
    const r = await cli(
      'run',
      spec,
      '--seq',
      '70',
      '--adapter',
      'llvmpipe',
      '--verify',
      '--reps',
      '1',
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      /hybrid: relative error vs reference [\d.e+-]+ \(.*tolerance 0.0001\): ok/,
    );
    expect(r.code).toBe(0);
  });

  it('rejects a missing or mis-shaped router, naming it', async () => {
    const runtime = await createRuntime({ adapter: 'llvmpipe' });
    try {
      const { modules } = compile('attention moh { heads: 8; head_dim: 4; head_routing: top(2) }', {
        target: runtime.profile,
      });
      const kernel = await runtime.load(modules[0]!);
      const q = new Float32Array(8 * 20 * 4);
      await expect(kernel.run({ q, k: q, v: q })).rejects.toThrow(
        "input 'router' is missing; expected f32 [B, Nq, H] = [1, 20, 8] (160 elements)",
      );
      await expect(kernel.run({ q, k: q, v: q, router: new Float32Array(159) })).rejects.toThrow(
        "input 'router': expected [B, Nq, H] = [1, 20, 8] (160 elements), got 159 elements",
      );
      await expect(
        kernel.run({ q, k: q, v: q, router: new Float32Array(160).fill(NaN) }),
      ).rejects.toThrow("input 'router': element 0 is NaN");
      const { o } = await kernel.run({ q, k: q, v: q, router: new Float32Array(160) });
      expect(o.length).toBe(8 * 20 * 4);
    } finally {
      runtime.destroy();
    }
  });
});
