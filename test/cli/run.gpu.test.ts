// `attnc run` end to end on a software adapter, and the generated TypeScript module's typed
// factory on a device of our own: both checked against the CPU reference.

import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli.js';
import type { CliIo } from '../../src/cli/io.js';
import { compile, createRuntime, loadPlan, reference } from '../../src/index.js';
import { randomInputs } from '../../src/api/random-inputs.js';
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

describe.runIf(llvmpipe.run)('attnc run on llvmpipe', () => {
  it('runs and verifies an example, decode step included', async () => {
    const spec = join(examples, 'streaming_llm.attn');
    const r = await cli(
      'run',
      spec,
      '--seq',
      '65',
      '--adapter',
      'llvmpipe',
      '--verify',
      '--repeat',
      '1',
    );
    expect(r.stderr).not.toContain('error');
    expect(r.stdout).toMatch(/streaming_llm: batch 1, seqQ 65, seqK 65: median [\d.]+ ms/);
    expect(r.stdout).toMatch(/max abs error vs reference [\d.e+-]+ \(tolerance 0.0001\): ok/);
    expect(r.code).toBe(0);
    const decode = await cli(
      'run',
      spec,
      '--seq',
      '70',
      '--seq-q',
      '1',
      '--batch',
      '2',
      '--adapter',
      'llvmpipe',
      '--verify',
      '--repeat',
      '1',
    );
    expect(decode.stdout).toContain('seqQ 1, seqK 70');
    expect(decode.code).toBe(0);
  });

  it('fails past the tolerance', async () => {
    const r = await cli(
      'run',
      join(examples, 'gqa.attn'),
      '--seq',
      '33',
      '--adapter',
      'llvmpipe',
      '--verify',
      '--tolerance',
      '1e-30',
      '--repeat',
      '1',
    );
    expect(r.stdout).toContain('FAILED');
    expect(r.code).toBe(1);
  });

  it('the plan a generated module embeds runs through loadPlan', async () => {
    const text = 'attention doc { heads: 2; head_dim: 8; causal: true; mask: segment | sink(1) }';
    const runtime = await createRuntime({ adapter: 'llvmpipe' });
    try {
      const { modules } = compile(text, { target: 'portable' });
      const module = modules[0]!;
      // What the generated NAME.ts does: the JSON plan alone, loaded on a given device.
      const plan = JSON.parse(JSON.stringify(module.plan)) as typeof module.plan;
      const kernel = loadPlan(runtime.device, { name: module.name, plan });
      const inputs = randomInputs(module, {
        batch: 2,
        seqQ: 40,
        seqK: 40,
        seed: 3,
        documentLength: 7,
      });
      const { o } = await kernel.run(inputs);
      const expected = reference(module, inputs).o;
      let worst = 0;
      for (let i = 0; i < o.length; i++) worst = Math.max(worst, Math.abs(o[i]! - expected[i]!));
      expect(worst).toBeLessThan(1e-4);
      kernel.destroy();
    } finally {
      runtime.destroy();
    }
  });
});
