// Low-rank kernels (linformer, nystrom) on llvmpipe: every case (N up to 4096), the examples
// (as written and with `dtype: f16`) through compile() with the random inputs `attnc run` uses,
// and the run-time length errors.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import { compileAttention } from '../../src/codegen/compile.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import { makeProblem } from './build.js';
import {
  describeLowRankCases,
  linformer,
  lowRankAttention,
  lowRankExcess,
  nystrom,
  projections,
} from './lowrank-cases.js';

describeLowRankCases('llvmpipe', { smallOnly: false });

describe('low-rank examples and run-time errors on llvmpipe', () => {
  let acquired: AcquiredDevice;
  beforeAll(async () => {
    acquired = await acquireDevice({ adapter: 'llvmpipe' });
  });
  afterAll(() => acquired?.destroy());

  for (const [file, n] of [
    ['examples/linformer.attn', 300],
    ['examples/nystromformer.attn', 200],
  ] as const) {
    it(`${file} through compile() at N=${n}`, async () => {
      const result = compile(readFileSync(file, 'utf8'), {
        file,
        target: acquired.profile,
        verify: true,
      });
      expect(result.diagnostics).toEqual([]);
      const module = result.modules[0]!;
      const inputs = randomInputs(module, { batch: 1, seqQ: n, seqK: n, seed: 3 });
      const { o } = await load(acquired.device, module).run(inputs);
      const relative = file.includes('nystrom');
      expect(lowRankExcess(o, reference(module, inputs).o, relative)).toBe(0);
    });

    it(`${file} with dtype f16 through compile() at N=${n}`, async () => {
      const text = readFileSync(file, 'utf8').replace(
        'head_dim: 64\n',
        'head_dim: 64\n  dtype: f16\n',
      );
      expect(text).toContain('dtype: f16');
      const result = compile(text, { file, target: acquired.profile, verify: true });
      expect(result.diagnostics).toEqual([]);
      const module = result.modules[0]!;
      expect(module.plan.inputs.find((i) => i.name === 'q')?.storage).toBe('f16');
      const inputs = randomInputs(module, { batch: 1, seqQ: n, seqK: n, seed: 5 });
      const { o } = await load(acquired.device, module).run(inputs);
      const relative = file.includes('nystrom');
      expect(lowRankExcess(o, reference(module, inputs).o, relative, true)).toBe(0);
    });
  }

  it('rejects Nk > max_seq, naming max_seq and both values', async () => {
    const spec = lowRankAttention(linformer(8), { maxSeq: 100 });
    const loaded = load(acquired.device, compileAttention(spec, acquired.profile));
    const problem = { ...makeProblem(spec, 1, 101, 101), ...projections(spec, 1, 0.2) };
    await expect(loaded.run(problem)).rejects.toThrow('seqK (101) exceeds max_seq (100)');
    const fits = { ...makeProblem(spec, 1, 100, 100), ...projections(spec, 1, 0.2) };
    await expect(loaded.run(fits)).resolves.toBeDefined();
  });

  it('names E when it is missing or of the wrong shape', async () => {
    const spec = lowRankAttention(linformer(8), { maxSeq: 100 });
    const loaded = load(acquired.device, compileAttention(spec, acquired.profile));
    const { E, F } = projections(spec, 1, 0.2);
    const problem = makeProblem(spec, 1, 50, 50);
    await expect(loaded.run({ ...problem, F })).rejects.toThrow(/input 'E' is missing/);
    await expect(loaded.run({ ...problem, E: E!.subarray(1), F })).rejects.toThrow(
      /input 'E': expected \[Hkv, r, max_seq\] = \[1, 8, 100\]/,
    );
  });

  it('rejects Nq or Nk below the nystrom landmark count', async () => {
    const spec = lowRankAttention(nystrom(16));
    const loaded = load(acquired.device, compileAttention(spec, acquired.profile));
    await expect(loaded.run(makeProblem(spec, 1, 15, 40))).rejects.toThrow(
      'seqQ (15) and seqK (40) must be at least 16',
    );
  });
});
