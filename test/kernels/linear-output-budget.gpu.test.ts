// The linear output kernel's loop bound on llvmpipe (65,535 loop iterations per invocation,
// docs/runtime.md "llvmpipe's loop budget"). Its loops are bounded by the spec, not by seqK:
// per feature block the phi(q) vectors and the state rows (features x value_dim vectors).
// FAVOR+ with 4,096 features and value_dim 256 needs more than the budget at any size, so the
// run is refused naming the output kernel rather than cut short; a wide FAVOR+ that fits
// matches the CPU reference, causal and not.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type CompiledModule } from '../../src/api/compile.js';
import { compareOutput } from '../../src/api/compare-output.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import { evalSize } from '../../src/codegen/plan.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { loadChecked } from '../../src/runtime/loaded-kernel.js';
import { LLVMPIPE_LOOP_BUDGET } from '../../src/runtime/loop-budget.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const llvmpipe = await adapterAvailability('llvmpipe');

/** Only the output kernel keeps its bound, so the refusal below is the output kernel's. */
function onlyOutputBound(module: CompiledModule): CompiledModule {
  const kernels = module.plan.kernels.map((k) => {
    if (k.name.endsWith('.linear_output')) return k;
    const { loopIterations: _, ...rest } = k;
    return rest;
  });
  return { ...module, plan: { ...module.plan, kernels } };
}

describe.runIf(llvmpipe.run)('linear output kernel within llvmpipe loop budget', () => {
  let acquired: AcquiredDevice;
  beforeAll(async () => {
    acquired = await acquireDevice({ adapter: 'llvmpipe' });
  });
  afterAll(() => acquired?.destroy());

  function compiled(text: string): CompiledModule {
    const result = compile(text, { target: acquired.profile });
    expect(result.diagnostics).toEqual([]);
    return result.modules[0]!;
  }

  it('FAVOR+(4096) with value_dim 256: its feature loops alone pass the budget, so it is refused', async () => {
    const module = compiled(
      'attention wide { heads: 1; head_dim: 64; value_dim: 256; kernel: favor(4096, seed: 1) }',
    );
    const output = module.plan.kernels.find((k) => k.name === 'wide.linear_output')!;
    const sizes = { batch: 1, seqQ: 1, seqK: 1 };
    expect(evalSize(output.loopIterations!, sizes)).toBeGreaterThan(LLVMPIPE_LOOP_BUDGET);
    const inputs = randomInputs(module, { ...sizes, seed: 3 });
    for (const checked of [module, onlyOutputBound(module)]) {
      const kernel = await loadChecked(acquired.device, checked);
      try {
        await expect(kernel.run(inputs)).rejects.toThrow(
          checked === module
            ? /would run up to \d+ loop iterations per invocation .*No size fits this kernel/
            : /kernel 'wide\.linear_output' would run up to \d+ loop iterations .*No size fits this kernel/,
        );
      } finally {
        kernel.destroy();
      }
    }
  }, 120_000);

  for (const causal of [false, true])
    it(`FAVOR+(1024), ${causal ? 'causal' : 'full'}: within the budget, matches the reference`, async () => {
      const module = compiled(
        `attention fits { heads: 2; head_dim: 64; causal: ${causal}; kernel: favor(1024, seed: 2) }`,
      );
      const sizes = { batch: 1, seqQ: 65, seqK: 130 };
      for (const k of module.plan.kernels)
        if (k.loopIterations !== undefined)
          expect(evalSize(k.loopIterations, sizes)).toBeLessThanOrEqual(LLVMPIPE_LOOP_BUDGET);
      const inputs = randomInputs(module, { ...sizes, seed: 5 });
      const kernel = await loadChecked(acquired.device, module);
      try {
        const { o } = await kernel.run(inputs);
        expect(compareOutput(o, reference(module, inputs).o).relativeError).toBeLessThan(1e-4);
      } finally {
        kernel.destroy();
      }
    }, 120_000);
});
