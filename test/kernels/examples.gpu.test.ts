// Every example of examples/, compiled through the public API and run on both software
// adapters (llvmpipe for the device's own profile and for `portable`, SwiftShader for its
// own), compared with the CPU reference. An example whose construct has no kernels yet must
// be reported as E600, so a newly supported family is picked up here automatically.

import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type CompiledModule } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import { PORTABLE_PROFILE, type DeviceProfile } from '../../src/target/profile.js';

const examplesDir = new URL('../../examples/', import.meta.url);
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.attn'))
  .sort()
  .map((file) => ({ file, text: readFileSync(new URL(file, examplesDir), 'utf8') }));

/** 1e-4, relative for large outputs (methods that divide, like linear attention). */
function worstExcess(actual: Float32Array, expected: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const excess = Math.abs(actual[i]! - e) - 1e-4 * Math.max(1, Math.abs(e));
    worst = Number.isNaN(excess) ? Infinity : Math.max(worst, excess);
  }
  return worst;
}

const SIZES: Record<'llvmpipe' | 'swiftshader', [number, number][]> = {
  // [seqQ, seqK]: a single token, tile boundaries, and a decode step over a longer cache.
  llvmpipe: [
    [1, 1],
    [65, 65],
    [257, 257],
    [1, 257],
  ],
  swiftshader: [
    [1, 1],
    [63, 63],
    [1, 130],
  ],
};

for (const adapter of ['llvmpipe', 'swiftshader'] as const) {
  describe(`examples on ${adapter}`, () => {
    let acquired: AcquiredDevice;
    beforeAll(async () => {
      acquired = await acquireDevice({ adapter });
    });
    afterAll(() => acquired?.destroy());

    for (const { file, text } of examples) {
      it(file, async () => {
        const profiles: DeviceProfile[] =
          adapter === 'llvmpipe' ? [acquired.profile, PORTABLE_PROFILE] : [acquired.profile];
        for (const profile of profiles) {
          const result = compile(text, { file, target: profile, verify: true });
          const errors = result.diagnostics.filter((d) => d.severity === 'error');
          if (errors.length > 0) {
            // Not compiled yet: it must say so precisely, not fail some other way.
            expect(errors.map((d) => d.code)).toEqual(errors.map(() => 'E600'));
            continue;
          }
          for (const module of result.modules) await runSizes(acquired, module, adapter, profile);
        }
      });
    }
  });
}

async function runSizes(
  acquired: AcquiredDevice,
  module: CompiledModule,
  adapter: 'llvmpipe' | 'swiftshader',
  profile: DeviceProfile,
): Promise<void> {
  const kernel = load(acquired.device, module);
  try {
    for (const [seqQ, seqK] of SIZES[adapter]) {
      const inputs = randomInputs(module, { batch: 1, seqQ, seqK, seed: seqK });
      const minSeq = module.plan.constraints.minSeq ?? 1;
      if (Math.min(seqQ, seqK) < minSeq) {
        // nystrom(m) averages one row per landmark: shorter inputs are a run-time error.
        await expect(kernel.run(inputs)).rejects.toThrow(`must be at least ${minSeq}`);
        continue;
      }
      acquired.device.pushErrorScope('validation');
      const { o } = await kernel.run(inputs);
      expect((await acquired.device.popErrorScope())?.message ?? null).toBeNull();
      const expected = reference(module, inputs).o;
      expect(
        worstExcess(o, expected),
        `${module.name} on ${profile.name}, seqQ ${seqQ}, seqK ${seqK}`,
      ).toBe(0);
    }
  } finally {
    kernel.destroy();
  }
}
