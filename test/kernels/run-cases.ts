// Shared body of the per-adapter kernel test files: one device per file, every case
// compiled for the device's own profile (the variant it would really run) and for the
// default `portable` profile (GPU-shaped tiled variant, compatibility limits, 4 storage
// bindings so q/k/v may share one), each
// result compared with the CPU reference within 1e-4.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileAttention } from '../../src/codegen/compile.js';
import { referenceAttention } from '../../src/reference/index.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';
import { KERNEL_CASES } from './cases.js';

export const TOLERANCE = 1e-4;

/**
 * Largest error beyond the allowed one: 1e-4, or for f16 storage one f16 ulp of the expected
 * value when that is larger (o itself is rounded to f16, and WGSL leaves pack2x16float's
 * rounding direction to the implementation). 0 means every element is within tolerance.
 */
export function excessError(actual: Float32Array, expected: Float32Array, f16: boolean): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let x = 0; x < actual.length; x++) {
    const e = expected[x]!;
    const ulp = f16 ? 2 ** (Math.floor(Math.log2(Math.max(Math.abs(e), 2 ** -14))) - 10) : 0;
    const d = Math.abs(actual[x]! - e) - Math.max(TOLERANCE, ulp);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let x = 0; x < a.length; x++) {
    const d = Math.abs(a[x]! - b[x]!);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
  }
  return max;
}

export function describeKernelCases(
  adapter: 'llvmpipe' | 'swiftshader',
  options: { smallOnly: boolean },
): void {
  describe(`kernels on ${adapter}`, () => {
    let acquired: AcquiredDevice;
    beforeAll(async () => {
      acquired = await acquireDevice({ adapter });
    });
    afterAll(() => acquired?.destroy());

    const cases = KERNEL_CASES.filter((c) => !options.smallOnly || c.small);
    for (const c of cases) {
      it(c.name, async () => {
        const problem = c.problem();
        const expected = referenceAttention(c.attention, problem);
        for (const profile of [acquired.profile, PORTABLE_PROFILE]) {
          const compiled = compileAttention(c.attention, profile, { verify: true });
          const loaded = load(acquired.device, compiled);
          acquired.device.pushErrorScope('validation');
          const { o } = await loaded.run(problem);
          const error = await acquired.device.popErrorScope();
          expect(error?.message ?? null, `${profile.name}: WebGPU validation`).toBeNull();
          const variant = compiled.ir.groups[0]?.mechanism.plan?.variant;
          expect(o.every(Number.isFinite), `${variant}: finite output`).toBe(true);
          expect(
            excessError(o, expected, c.attention.dtype === 'f16'),
            `${variant} on ${profile.name}`,
          ).toBe(0);
        }
      });
    }
  });
}
