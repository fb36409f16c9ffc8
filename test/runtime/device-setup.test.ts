// Device-layer logic that needs no GPU: telling adapters apart, what is requested of an
// adapter, the static target profiles, and the text of the no-adapter error.

import { describe, expect, it } from 'vitest';
import { classifyAdapter, describeAdapter } from '../../src/runtime/adapter-kind.js';
import { AdapterNotFoundError } from '../../src/runtime/adapter-not-found.js';
import { planDeviceRequest } from '../../src/runtime/device-request.js';
import {
  CORE_PROFILE,
  KERNEL_LIMIT_NAMES,
  LLVMPIPE_PROFILE,
  PORTABLE_PROFILE,
  STATIC_PROFILES,
  SWIFTSHADER_PROFILE,
  profileFits,
  staticProfile,
} from '../../src/target/profile.js';
// @ts-expect-error: a plain .mjs script without type declarations
import * as probeScript from '../../scripts/probe-adapters.mjs';

const probeClassify = (probeScript as { classifyAdapter(info: object): string }).classifyAdapter;

const SAMPLE_INFOS = [
  {
    info: {
      vendor: '',
      device: 'llvmpipe-llvm-15-0-6-256-bits-',
      description: 'OpenGL version 4.5 (Core Profile) Mesa 22.3.6',
    },
    kind: 'llvmpipe',
  },
  {
    info: {
      vendor: 'google',
      architecture: 'swiftshader',
      device: 'swiftshader-device-subzero-',
      description: 'SwiftShader driver 5.0.0',
      isFallbackAdapter: true,
    },
    kind: 'swiftshader',
  },
  { info: { vendor: 'mesa', description: 'lavapipe Vulkan 1.3' }, kind: 'other-software' },
  { info: { description: 'Microsoft Basic Render Driver' }, kind: 'other-software' },
  { info: { vendor: 'x', isFallbackAdapter: true }, kind: 'other-software' },
  {
    info: { vendor: 'nvidia', device: 'NVIDIA GeForce RTX 4090', description: 'NVIDIA: 550.54' },
    kind: 'hardware',
  },
  { info: { vendor: 'apple', architecture: 'metal-3' }, kind: 'hardware' },
  { info: {}, kind: 'hardware' },
] as const;

describe('classifyAdapter', () => {
  it.each(SAMPLE_INFOS)('$info.device$info.description -> $kind', ({ info, kind }) => {
    expect(classifyAdapter(info)).toBe(kind);
  });

  it('agrees with scripts/probe-adapters.mjs', () => {
    for (const { info } of SAMPLE_INFOS) {
      expect(probeClassify(info)).toBe(classifyAdapter(info));
    }
  });
});

describe('describeAdapter', () => {
  it('puts the device first and the driver after it', () => {
    expect(describeAdapter(SAMPLE_INFOS[1].info)).toBe(
      'swiftshader-device-subzero- (SwiftShader driver 5.0.0)',
    );
    expect(describeAdapter({ description: 'only' })).toBe('only');
    expect(describeAdapter({})).toBe('unnamed adapter');
  });
});

function fakeAdapter(limits: Record<string, number>, features: string[]) {
  return { limits: limits as unknown as GPUSupportedLimits, features: new Set(features) };
}

const LLVMPIPE_LIMITS = { ...LLVMPIPE_PROFILE.limits, minStorageBufferOffsetAlignment: 16 };

describe('planDeviceRequest', () => {
  it("asks for the adapter's maxima of every kernel limit, and the kernel features it has", () => {
    const request = planDeviceRequest(
      fakeAdapter(LLVMPIPE_LIMITS, ['texture-compression-bc', 'timestamp-query', 'subgroups']),
    );
    expect(request.requiredLimits).toEqual(LLVMPIPE_PROFILE.limits);
    expect(Object.keys(request.requiredLimits)).toEqual([...KERNEL_LIMIT_NAMES]);
    expect(request.requiredFeatures).toEqual(['subgroups', 'timestamp-query']);
  });

  it('lets the caller lower limits and choose features', () => {
    const request = planDeviceRequest(
      fakeAdapter(LLVMPIPE_LIMITS, ['timestamp-query']),
      { maxComputeInvocationsPerWorkgroup: 128, minStorageBufferOffsetAlignment: 256 },
      [],
    );
    expect(request.requiredLimits['maxComputeInvocationsPerWorkgroup']).toBe(128);
    expect(request.requiredLimits['minStorageBufferOffsetAlignment']).toBe(256);
    expect(request.requiredFeatures).toEqual([]);
  });

  it('names every limit the adapter cannot give', () => {
    expect(() =>
      planDeviceRequest(fakeAdapter(LLVMPIPE_LIMITS, []), {
        maxComputeWorkgroupStorageSize: 65536,
        maxNonsense: 1,
      }),
    ).toThrow(
      'requiredLimits exceed what the adapter offers: maxComputeWorkgroupStorageSize: ' +
        'asked 65536, adapter offers 32768; maxNonsense (the adapter does not know this limit)',
    );
  });
});

describe('static profiles', () => {
  it('are listed by name', () => {
    expect([...STATIC_PROFILES.keys()]).toEqual([
      'portable',
      'core',
      'core-f16',
      'llvmpipe',
      'swiftshader',
    ]);
    expect(staticProfile('portable')).toBe(PORTABLE_PROFILE);
    expect(staticProfile('nope')).toBeUndefined();
  });

  it('have the WebGPU default limits', () => {
    expect(PORTABLE_PROFILE.limits).toEqual({
      maxStorageBufferBindingSize: 134217728,
      maxBufferSize: 268435456,
      maxComputeWorkgroupStorageSize: 16384,
      maxComputeInvocationsPerWorkgroup: 128,
      maxStorageBuffersPerShaderStage: 4,
      maxComputeWorkgroupsPerDimension: 65535,
      maxComputeWorkgroupSizeX: 128,
    });
    expect(CORE_PROFILE.limits.maxComputeInvocationsPerWorkgroup).toBe(256);
    expect(CORE_PROFILE.limits.maxStorageBuffersPerShaderStage).toBe(8);
  });

  it('nest: portable fits everywhere, core fits core devices only', () => {
    for (const profile of STATIC_PROFILES.values()) {
      expect(profileFits(PORTABLE_PROFILE, profile), profile.name).toBe(true);
      expect(profile.limits.maxComputeWorkgroupSizeX).toBeLessThanOrEqual(
        profile.limits.maxComputeInvocationsPerWorkgroup,
      );
    }
    expect(profileFits(CORE_PROFILE, SWIFTSHADER_PROFILE)).toBe(true);
    expect(profileFits(CORE_PROFILE, LLVMPIPE_PROFILE)).toBe(false);
    expect(profileFits(SWIFTSHADER_PROFILE, CORE_PROFILE)).toBe(false);
    expect(LLVMPIPE_PROFILE.cpuLike && SWIFTSHADER_PROFILE.cpuLike).toBe(true);
  });
});

describe('AdapterNotFoundError', () => {
  it('lists the attempts and the exact commands to fix the machine', () => {
    const error = new AdapterNotFoundError('auto', [
      { kind: 'hardware', reason: 'no Vulkan driver installed' },
      { kind: 'llvmpipe', reason: "Mesa's EGL is not installed" },
      { kind: 'swiftshader', reason: 'no SwiftShader Vulkan ICD' },
    ]);
    expect(error.name).toBe('AdapterNotFoundError');
    expect(error.attempts).toHaveLength(3);
    expect(error.message).toBe(
      [
        "No WebGPU adapter found for adapter 'auto'. Tried:",
        '  - hardware: no Vulkan driver installed',
        "  - llvmpipe: Mesa's EGL is not installed",
        '  - swiftshader: no SwiftShader Vulkan ICD',
        'To get a software adapter on Debian/Ubuntu, run:',
        '  sudo apt-get install -y --no-install-recommends libegl1 libegl-mesa0 libgl1-mesa-dri     (Mesa llvmpipe, via OpenGL)',
        '  sudo apt-get install -y --no-install-recommends chromium libvulkan1     (SwiftShader, via Vulkan)',
        '  or: scripts/setup-webgpu.sh   (add --with-swiftshader for SwiftShader)',
      ].join('\n'),
    );
  });
});
