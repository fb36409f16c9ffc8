// `attnc run` end to end on a software adapter, and the generated TypeScript module's typed
// factory on a device of our own: both checked against the CPU reference.

import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli.js';
import { runCommand, verifyOutput } from '../../src/cli/run-command.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
      '--reps',
      '1',
    );
    expect(r.stderr).not.toContain('error');
    expect(r.stdout).toMatch(/streaming_llm: batch 1, seqQ 65, seqK 65: median [\d.]+ ms/);
    expect(r.stdout).toMatch(
      /streaming_llm: relative error vs reference [\d.e+-]+ \(max abs error [\d.e+-]+ \/ reference max abs [\d.e+-]+; tolerance 0.0001\): ok/,
    );
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
      // --repeat: the old spelling of --reps, still accepted
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
      '--reps',
      '1',
    );
    expect(r.stdout).toContain('FAILED');
    expect(r.code).toBe(1);
  });

  it('rejects a --seq whose buffers pass the device limits before generating inputs', async () => {
    const r = await cli(
      'run',
      join(examples, 'gqa.attn'),
      '--seq',
      '2147483647',
      '--adapter',
      'llvmpipe',
    );
    expect(r.stderr).toMatch(
      /attnc: error: buffer '\w+' needs \d+ bytes at batch=1, seqQ=2147483647, seqK=2147483647; the device's maxBufferSize is \d+/,
    );
    expect(r.code).toBe(1);
  });

  it('--verify fails an all-zero output even when the reference values are below the tolerance', async () => {
    const runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
    try {
      const { modules } = compile('attention tiny { heads: 2; head_dim: 8; causal: true }', {
        target: runtime.profile,
      });
      const module = modules[0]!;
      // A plan whose kernel never runs: its output stays zeros.
      const zeros = {
        ...module,
        plan: { ...module.plan, steps: module.plan.steps.filter((s) => s.kind !== 'dispatch') },
      };
      const inputs = randomInputs(module, { batch: 1, seqQ: 16, seqK: 16 });
      const small = inputs.v as Float32Array;
      for (let i = 0; i < small.length; i++) small[i]! *= 1e-6; // outputs ~1e-6
      const { o } = await (await runtime.load(zeros)).run(inputs);
      expect(o.every((x) => x === 0)).toBe(true);
      const verdict = verifyOutput(module, inputs, o, 1e-4);
      expect(verdict.ok).toBe(false);
      expect(verdict.line).toMatch(
        /^tiny: relative error vs reference 1\.00e\+0 \(max abs error \d\.\d\de-[67] \/ reference max abs \d\.\d\de-[67]; tolerance 0\.0001\): FAILED$/,
      );
      const right = await (await runtime.load(module)).run(inputs);
      expect(verifyOutput(module, inputs, right.o, 1e-4).ok).toBe(true);
    } finally {
      runtime.destroy();
    }
  });

  it('reports a kernel variant that failed its self-check once on stderr, and still verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attnc-run-'));
    const spec = join(dir, 'two.attn');
    writeFileSync(
      spec,
      'attention a { heads: 2; head_dim: 8; causal: true }\nattention b { heads: 2; head_dim: 8; mask: window(3) }\n',
    );
    let stdout = '';
    let stderr = '';
    const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), color: false };
    // The rowwise probe writes zeros: the variant "fails on this driver".
    const code = await runCommand(
      [spec, '--seq', '20', '--adapter', 'llvmpipe', '--verify', '--reps', '1'],
      io,
      {
        selfCheck: {
          probe: (variant, module) =>
            variant !== 'rowwise'
              ? module
              : {
                  ...module,
                  plan: {
                    ...module.plan,
                    steps: module.plan.steps.filter((s) => s.kind !== 'dispatch'),
                  },
                },
        },
      },
    );
    const warnings = stderr.split('\n').filter((l) => l.startsWith('attnc: warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^attnc: warning: kernel variant 'rowwise' failed its self-check on llvmpipe.*, so tiled is used instead: its output differs from the CPU reference by 1\.00e\+0/,
    );
    expect(stdout).toMatch(/a: relative error vs reference .*: ok/);
    expect(stdout).toMatch(/b: relative error vs reference .*: ok/);
    expect(code).toBe(0);
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
