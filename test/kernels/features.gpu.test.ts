// A plan that enables an optional feature names it, and loading it on a device without the
// feature is a clear error rather than a shader compilation failure.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import { SWIFTSHADER_PROFILE } from '../../src/target/profile.js';

const spec = 'attention a { heads: 2; head_dim: 16; mask: window(8) }';
// A GPU with subgroups: SwiftShader's limits and features, without the CPU-like tuning.
const gpuWithSubgroups = { ...SWIFTSHADER_PROFILE, name: 'gpu-subgroups', cpuLike: false };

describe('plan features', () => {
  let llvmpipe: AcquiredDevice;
  beforeAll(async () => {
    llvmpipe = await acquireDevice({ adapter: 'llvmpipe' });
  });
  afterAll(() => llvmpipe?.destroy());

  it('a subgroup plan declares the feature; portable plans declare none', () => {
    const gpu = compile(spec, { target: gpuWithSubgroups }).modules[0]!;
    expect(gpu.plan.features).toEqual(['subgroups']);
    expect(compile(spec).modules[0]!.plan.features).toBeUndefined();
  });

  it('loading it on a device without subgroups names the feature and the fix', () => {
    expect(llvmpipe.device.features.has('subgroups')).toBe(false);
    const gpu = compile(spec, { target: gpuWithSubgroups }).modules[0]!;
    expect(() => load(llvmpipe.device, gpu)).toThrow(
      "'a' was compiled for target 'gpu-subgroups' and needs the WebGPU feature 'subgroups', which this device does not have; compile it for this device (compile(text, { target: runtime.profile })) or for 'portable'",
    );
  });

  it('a core-f16 plan of an f16 spec needs shader-f16, which llvmpipe does not have', () => {
    const f16 = compile('attention a { heads: 2; head_dim: 16; dtype: f16 }', {
      target: 'core-f16',
    }).modules[0]!;
    expect(f16.plan.features).toEqual(['shader-f16']);
    // f32 specs compile the same as for core: nothing to enable.
    expect(compile(spec, { target: 'core-f16' }).modules[0]!.plan.features).toBeUndefined();
    expect(() => load(llvmpipe.device, f16)).toThrow(
      "'a' was compiled for target 'core-f16' and needs the WebGPU feature 'shader-f16', which this device does not have",
    );
  });
});
