// Schedules and the tuner on llvmpipe: schedule overrides change the kernel and still match
// the CPU reference (edge tiles included), and a runtime with `tune` measures candidates at
// load, runs the chosen kernel correctly, and reuses its choice on the next load.

import { describe, expect, it } from 'vitest';
import { compareOutput } from '../../src/api/compare-output.js';
import { compile, type CompiledModule } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import { createRuntime } from '../../src/api/runtime.js';
import type { Schedule } from '../../src/passes/schedule.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const llvmpipe = await adapterAvailability('llvmpipe');

const SPEC =
  'attention user { heads: 4; kv_heads: 2; head_dim: 16; causal: true; mask: window(24) | sink(2) | global(0) }';

async function expectMatchesReference(
  kernel: { run: (i: ReturnType<typeof randomInputs>) => Promise<{ o: Float32Array }> },
  module: CompiledModule,
) {
  const inputs = randomInputs(module, { batch: 2, seqQ: 70, seqK: 75, seed: 5 });
  const { o } = await kernel.run(inputs);
  expect(compareOutput(o, reference(module, inputs).o).relativeError).toBeLessThan(1e-4);
}

describe.runIf(llvmpipe.run)('schedules on llvmpipe', () => {
  it('overrides change the kernel and match the reference', async () => {
    const runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
    try {
      const target = runtime.profile;
      const plain = compile(SPEC, { target }).modules[0]!;
      const schedules: Partial<Schedule>[] = [
        { variant: 'rowwise', rowsPerWorkgroup: 16, keyTile: 8, vectorWidth: 1 },
        { variant: 'tiled', rowsPerWorkgroup: 32, keyTile: 16 },
        { variant: 'rowwise', rowsPerWorkgroup: 128, keyTile: 128 },
      ];
      for (const schedule of schedules) {
        const module = compile(SPEC, { target, schedules: { '*': schedule } }).modules[0]!;
        const wgsl = (m: CompiledModule) => m.plan.kernels.map((k) => k.wgsl).join('\n');
        expect(wgsl(module)).not.toBe(wgsl(plain));
        expect(wgsl(module)).toContain(`variant ${schedule.variant}`);
        const kernel = await runtime.load(module);
        try {
          await expectMatchesReference(kernel, module);
        } finally {
          kernel.destroy();
        }
      }
    } finally {
      runtime.destroy();
    }
  });

  it('a runtime with tune measures at first load, runs the choice right, reuses it', async () => {
    const runtime = await createRuntime({
      adapter: 'llvmpipe',
      tune: { seqK: 64, budgetMs: 30_000, maxCandidates: 3, reps: 1 },
    });
    try {
      const module = compile(SPEC, { target: runtime.profile }).modules[0]!;
      const first = await runtime.load(module);
      expect(first.tuning).toHaveLength(1);
      const [group] = first.tuning;
      expect(group!.fromCache).toBe(false);
      expect(group!.sizeClass).toBe(64);
      expect(group!.candidates.map((c) => c.verdict)).toEqual(['ok', 'ok', 'ok']);
      expect(group!.candidates.filter((c) => c.chosen)).toHaveLength(1);
      expect(first.compiled.ir.groups[0]!.mechanism.plan).toMatchObject({
        variant: group!.chosen.variant,
        queryTile: group!.chosen.rowsPerWorkgroup,
        keyTile: group!.chosen.keyTile,
      });
      await expectMatchesReference(first, module);
      const second = await runtime.load(module);
      expect(second.tuning[0]).toMatchObject({ fromCache: true, chosen: group!.chosen });
      // Without tune for this load: the module as compiled.
      const plain = await runtime.load(module, { tune: false });
      expect(plain.tuning).toEqual([]);
      expect(plain.compiled).toBe(module);
    } finally {
      runtime.destroy();
    }
  });
});
