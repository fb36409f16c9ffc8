// The benchmark's baseline kernel must compute attention: compared with the float64
// reference on every row, on each software adapter, at a small N.

import { describe, expect, it } from 'vitest';
import { createBaselineCase } from '../../bench/baseline.js';
import { timeCase } from '../../bench/harness.js';
import { acquireDevice } from '../../src/runtime/device.js';
import { adapterAvailability } from './gpu-availability.js';

for (const adapter of ['llvmpipe', 'swiftshader'] as const) {
  const availability = await adapterAvailability(adapter);
  describe.skipIf(!availability.run)(`${adapter}: baseline attention kernel`, () => {
    it('matches the reference and is timed by the harness', async () => {
      const acquired = await acquireDevice({ adapter });
      try {
        const { device, profile } = acquired;
        // N not a multiple of the workgroup size: the bounds check matters.
        const benchCase = createBaselineCase(device, { n: 100, d: 64 }, { workgroupSize: 32 });
        try {
          const result = await timeCase(device, benchCase, {
            warmup: 1,
            reps: 2,
            useTimestamps: profile.features.timestampQuery,
          });
          expect(result.timer).toBe(profile.features.timestampQuery ? 'timestamp' : 'wall');
          expect(result.medianMs).toBeGreaterThan(0);
          expect(result.gflops).toBeGreaterThan(0);
          expect(result.check?.maxAbsError).toBeLessThan(1e-5);
        } finally {
          benchCase.destroy();
        }
      } finally {
        acquired.destroy();
      }
    });
  });
}
