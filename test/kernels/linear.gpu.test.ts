// Linear (kernelized) attention kernels on both software adapters, compared with the CPU
// reference (float64) within 1e-4, relative where |o| > 1. On llvmpipe each case is compiled
// for the device's own profile and for `portable` (compatibility limits: q, k, v share a
// binding, smaller feature blocks); SwiftShader, about 10x slower, runs the cases up to ~300
// keys for its own profile. N = 4096 runs on llvmpipe only, one head.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileAttention } from '../../src/codegen/compile.js';
import { referenceAttention } from '../../src/reference/index.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import { PORTABLE_PROFILE, type DeviceProfile } from '../../src/target/profile.js';
import { LINEAR_CASES } from './linear-cases.js';

/** Largest error beyond 1e-4 (times |expected| where that exceeds 1; one f16 ulp for f16). */
function excessError(actual: Float32Array, expected: Float32Array, f16: boolean): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let x = 0; x < actual.length; x++) {
    const e = expected[x]!;
    const ulp = f16 ? 2 ** (Math.floor(Math.log2(Math.max(Math.abs(e), 2 ** -14))) - 10) : 0;
    const d = Math.abs(actual[x]! - e) - Math.max(1e-4 * Math.max(1, Math.abs(e)), ulp);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

for (const adapter of ['llvmpipe', 'swiftshader'] as const) {
  describe(`linear attention kernels on ${adapter}`, () => {
    let acquired: AcquiredDevice;
    beforeAll(async () => {
      acquired = await acquireDevice({ adapter });
    });
    afterAll(() => acquired?.destroy());

    const cases = LINEAR_CASES.filter((c) => (adapter === 'llvmpipe' ? true : c.small && !c.large));
    for (const c of cases) {
      it(c.name, async () => {
        const problem = c.problem();
        const expected = referenceAttention(c.attention, problem);
        const profiles: DeviceProfile[] =
          adapter === 'llvmpipe' && !c.large
            ? [acquired.profile, PORTABLE_PROFILE]
            : [acquired.profile];
        for (const profile of profiles) {
          const compiled = compileAttention(c.attention, profile, { verify: true });
          const loaded = load(acquired.device, compiled);
          acquired.device.pushErrorScope('validation');
          const { o } = await loaded.run(problem);
          const error = await acquired.device.popErrorScope();
          expect(error?.message ?? null, `${profile.name}: WebGPU validation`).toBeNull();
          expect(o.every(Number.isFinite), `${profile.name}: finite output`).toBe(true);
          expect(
            excessError(o, expected, c.attention.dtype === 'f16'),
            `${profile.name}: error beyond tolerance`,
          ).toBe(0);
          loaded.destroy();
        }
      });
    }
  });
}
