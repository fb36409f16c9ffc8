// Which variants a module uses and what each falls back to: the self-check's bookkeeping,
// no device needed (test/api/variant-check.gpu.test.ts runs the probes).

import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { fallbackName, variantsOf, withoutVariant } from '../../src/api/variant-check.js';
import {
  CORE_F16_PROFILE,
  LLVMPIPE_PROFILE,
  PORTABLE_PROFILE,
  SWIFTSHADER_PROFILE,
  type DeviceProfile,
} from '../../src/target/profile.js';

const SPEC = 'attention a { heads: 2; head_dim: 8; causal: true }';
const F16 = 'attention h { heads: 2; head_dim: 8; causal: true; dtype: f16 }';
const LINEAR = 'attention l { heads: 1; head_dim: 8; kernel: elu1 }';

function variants(text: string, profile: DeviceProfile) {
  const result = compile(text, { target: profile });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return variantsOf(result.modules[0]!);
}

describe('variantsOf', () => {
  it('reads the softmax variant each profile picks, and native f16', () => {
    expect(variants(SPEC, LLVMPIPE_PROFILE)).toEqual(['rowwise']);
    expect(variants(SPEC, PORTABLE_PROFILE)).toEqual(['tiled']);
    expect(variants(SPEC, { ...SWIFTSHADER_PROFILE, cpuLike: false })).toEqual(['subgroup']);
    expect(variants(F16, CORE_F16_PROFILE)).toEqual(['tiled', 'f16-native']);
    expect(variants(F16, PORTABLE_PROFILE)).toEqual(['tiled']);
  });

  it('kernels without a softmax variant need no self-check', () => {
    expect(variants(LINEAR, PORTABLE_PROFILE)).toEqual([]);
  });
});

describe('withoutVariant', () => {
  it('turns off exactly what selects the variant', () => {
    const gpu = { ...SWIFTSHADER_PROFILE, cpuLike: false };
    expect(variants(SPEC, withoutVariant(gpu, 'subgroup')!)).toEqual(['tiled']);
    expect(withoutVariant(gpu, 'subgroup')!.features).toEqual({
      shaderF16: false,
      subgroups: false,
      timestampQuery: true,
    });
    expect(variants(SPEC, withoutVariant(LLVMPIPE_PROFILE, 'rowwise')!)).toEqual(['tiled']);
    expect(variants(F16, withoutVariant(CORE_F16_PROFILE, 'f16-native')!)).toEqual(['tiled']);
  });

  it('the portable variant has no fallback', () => {
    expect(withoutVariant(PORTABLE_PROFILE, 'tiled')).toBeNull();
    expect(fallbackName('tiled', PORTABLE_PROFILE)).toBe('nothing (tiled is the portable variant)');
  });

  it('names the fallback the runtime profile gives', () => {
    expect(fallbackName('subgroup', SWIFTSHADER_PROFILE)).toBe('rowwise');
    expect(fallbackName('subgroup', { ...SWIFTSHADER_PROFILE, cpuLike: false })).toBe('tiled');
    expect(fallbackName('f16-native', CORE_F16_PROFILE)).toBe('f16 packed in u32 words');
  });
});
