// Kernel tests: acquiring each software adapter, what its profile says, running a small
// kernel on it, and releasing it. Never skipped in CI (see gpu-availability.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { AdapterNotFoundError } from '../../src/runtime/adapter-not-found.js';
import { KERNEL_LIMIT_NAMES, PORTABLE_PROFILE, profileFits } from '../../src/target/profile.js';
import { runAddKernel } from './add-kernel.js';
import { adapterAvailability, type Availability } from './gpu-availability.js';

const initialIcd = process.env['VK_ICD_FILENAMES'];

const SOFTWARE = [
  { adapter: 'llvmpipe', name: /llvmpipe/i, mode: 'compatibility' },
  { adapter: 'swiftshader', name: /swiftshader/i, mode: 'core' },
] as const;

const availabilityOf = new Map<string, Availability>();

for (const expected of SOFTWARE) {
  const availability = await adapterAvailability(expected.adapter);
  availabilityOf.set(expected.adapter, availability);

  describe.skipIf(!availability.run)(`${expected.adapter} adapter`, () => {
    let acquired: AcquiredDevice;
    beforeAll(async () => {
      acquired = await acquireDevice({ adapter: expected.adapter, label: 'runtime test' });
    });
    afterAll(() => acquired?.destroy());

    it('is the adapter asked for', () => {
      expect(acquired.kind).toBe(expected.adapter);
      expect(acquired.adapterName).toMatch(expected.name);
      expect(acquired.profile.name).toBe(acquired.adapterName);
    });

    it('has a sane profile, granted by the device itself', () => {
      const { profile, device } = acquired;
      expect(profile.mode).toBe(expected.mode);
      expect(profile.cpuLike).toBe(true);
      expect(profile.features.shaderF16).toBe(device.features.has('shader-f16'));
      expect(profile.features.subgroups).toBe(device.features.has('subgroups'));
      expect(profile.features.timestampQuery).toBe(device.features.has('timestamp-query'));
      for (const name of KERNEL_LIMIT_NAMES) {
        expect(profile.limits[name], name).toBe(device.limits[name]);
      }
      // Requested at the adapter's maxima, so at least the portable defaults.
      expect(profileFits(PORTABLE_PROFILE, profile)).toBe(true);
      expect(profile.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
      expect(profile.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
    });

    it('runs a compute kernel and reads the result back', async () => {
      expect(await runAddKernel(acquired.device, 10_000)).toEqual({ ok: true });
    });

    it('adopts its device as an external one without taking ownership', async () => {
      const external = await acquireDevice({ device: acquired.device });
      expect(external.kind).toBe('external');
      expect(external.profile).toEqual(acquired.profile);
      external.destroy();
      expect(await runAddKernel(acquired.device, 100)).toEqual({ ok: true });
    });
  });

  describe.skipIf(!availability.run)(`${expected.adapter} destroy()`, () => {
    it('loses the device as destroyed, and is idempotent', async () => {
      const acquired = await acquireDevice({ adapter: expected.adapter });
      acquired.destroy();
      const lost = await acquired.device.lost;
      expect(lost.reason).toBe('destroyed');
      expect(() => acquired.destroy()).not.toThrow();
    });

    it('rejects required limits above the adapter maxima, naming the limit', async () => {
      await expect(
        acquireDevice({
          adapter: expected.adapter,
          requiredLimits: { maxComputeInvocationsPerWorkgroup: 1 << 20 },
        }),
      ).rejects.toThrow(/maxComputeInvocationsPerWorkgroup: asked 1048576/);
    });

    it('leaves out optional features not asked for', async () => {
      const acquired = await acquireDevice({ adapter: expected.adapter, features: [] });
      try {
        expect(acquired.profile.features.timestampQuery).toBe(false);
        expect(acquired.profile.features.subgroups).toBe(false);
      } finally {
        acquired.destroy();
      }
    });
  });
}

const auto = await adapterAvailability('auto');

describe.skipIf(!auto.run)('auto adapter', () => {
  it('finds hardware first, then llvmpipe, then SwiftShader', async () => {
    const acquired = await acquireDevice({ adapter: 'auto' });
    try {
      expect(['hardware', 'llvmpipe', 'swiftshader']).toContain(acquired.kind);
      expect(await runAddKernel(acquired.device, 1000)).toEqual({ ok: true });
      if (acquired.kind !== 'hardware') {
        await expect(acquireDevice({ adapter: 'hardware' })).rejects.toThrow(AdapterNotFoundError);
      }
      if (acquired.kind === 'swiftshader') {
        await expect(acquireDevice({ adapter: 'llvmpipe' })).rejects.toThrow(AdapterNotFoundError);
      }
    } finally {
      acquired.destroy();
    }
  });
});

describe('hardware adapter', () => {
  it('is found, or the error says what was tried and what to install', async () => {
    try {
      const acquired = await acquireDevice({ adapter: 'hardware' });
      expect(acquired.kind).toBe('hardware');
      expect(acquired.profile.cpuLike).toBe(false);
      acquired.destroy();
    } catch (e) {
      expect(e).toBeInstanceOf(AdapterNotFoundError);
      const message = (e as Error).message;
      expect(message).toContain("No WebGPU adapter found for adapter 'hardware'");
      expect(message).toMatch(/^ {2}- hardware: /m);
      expect(message).toContain(
        'sudo apt-get install -y --no-install-recommends libegl1 libegl-mesa0 libgl1-mesa-dri',
      );
      expect(message).toContain('scripts/setup-webgpu.sh');
    }
  });

  it('is not SwiftShader even after SwiftShader was acquired in this process', async () => {
    if (!availabilityOf.get('swiftshader')?.run) return;
    const acquired = await acquireDevice({ adapter: 'swiftshader' });
    acquired.destroy();
    try {
      const hardware = await acquireDevice({ adapter: 'hardware' });
      expect(hardware.adapterName).not.toMatch(/swiftshader/i);
      hardware.destroy();
    } catch (e) {
      expect(e).toBeInstanceOf(AdapterNotFoundError);
    }
    expect(process.env['VK_ICD_FILENAMES']).toBe(initialIcd);
  });
});
