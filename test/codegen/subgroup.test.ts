// The `subgroup` kernel variant without a GPU: which profiles get it (a real GPU with the
// `subgroups` feature), which fall back (CPU-like adapters keep `rowwise`, profiles without
// subgroups, unsupported masks, head routing or too little workgroup memory keep `tiled`),
// golden WGSL, determinism, and that the portable profile never uses subgroups.
// Rewrite the goldens with `UPDATE_GOLDEN=1 npx vitest run test/codegen` and review the diff.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CheckedAttention } from '../../src/check/checked.js';
import { compileAttention } from '../../src/codegen/compile.js';
import type { Attention, KernelVariant } from '../../src/ir/ir.js';
import { kernelFeatures } from '../../src/kernel/features.js';
import { verifyKernel } from '../../src/kernel/verify.js';
import { lowerAttention } from '../../src/lower/lower.js';
import { canonicalizeMask } from '../../src/passes/canonicalize-mask.js';
import { planBlocks } from '../../src/passes/plan-blocks.js';
import {
  CORE_PROFILE,
  LLVMPIPE_PROFILE,
  PORTABLE_PROFILE,
  SWIFTSHADER_PROFILE,
  type DeviceProfile,
} from '../../src/target/profile.js';
import { asF16, attention, m } from '../kernels/build.js';

const here = dirname(fileURLToPath(import.meta.url));
const update = process.env['UPDATE_GOLDEN'] === '1';

function golden(name: string, actual: string): void {
  const path = join(here, 'golden', name);
  if (update || !existsSync(path)) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

/** A discrete GPU as the runtime would read it: core limits raised, 32-lane subgroups. */
const GPU_PROFILE: DeviceProfile = {
  ...CORE_PROFILE,
  name: 'gpu-subgroups',
  limits: { ...CORE_PROFILE.limits, maxComputeWorkgroupStorageSize: 32768 },
  features: {
    ...CORE_PROFILE.features,
    subgroups: true,
    subgroupSize: 32,
    subgroupMinSize: 32,
    subgroupMaxSize: 32,
  },
};
/** Subgroups with an unknown size (an adapter that reports a range). */
const GPU_RANGE_PROFILE: DeviceProfile = {
  ...CORE_PROFILE,
  name: 'gpu-subgroup-range',
  features: { ...CORE_PROFILE.features, subgroups: true, subgroupMinSize: 32, subgroupMaxSize: 64 },
};
const SWIFTSHADER_GPU_SHAPED: DeviceProfile = {
  ...SWIFTSHADER_PROFILE,
  name: 'swiftshader-gpu-shaped',
  cpuLike: false,
};

function variants(a: CheckedAttention, profile: DeviceProfile): KernelVariant[] {
  return compileAttention(a, profile, { verify: true }).ir.groups.map(
    (g) => g.mechanism.plan?.variant ?? ('none' as KernelVariant),
  );
}

function softmaxWgsl(a: CheckedAttention, profile: DeviceProfile): string[] {
  return compileAttention(a, profile, { verify: true })
    .plan.kernels.filter((k) => k.name.endsWith('.softmax'))
    .map((k) => k.wgsl);
}

const longformer = attention({
  name: 'longformer',
  heads: 12,
  headDim: 64,
  mask: m.or(m.window(256), m.global(1)),
});
const bigbird = attention({
  name: 'bigbird',
  heads: 4,
  kvHeads: 2,
  headDim: 32,
  causal: true,
  softcap: 30,
  bias: 'alibi',
  mask: m.or(m.and(m.random(2, 64, 7), m.segment()), m.window(4, 0), m.window(0, 2)),
});

/** Specs covering every static primitive, modifiers, layouts, odd dims and f16. */
const SPECS: CheckedAttention[] = [
  attention(),
  attention({ causal: true }),
  longformer,
  bigbird,
  attention({ mask: m.dilated(4, 3) }),
  attention({ mask: m.or(m.and(m.blocks(32), m.stride(2)), m.sink(1)) }),
  attention({ headDim: 5, valueDim: 3, mask: m.window(9) }),
  attention({ layout: 'bnhd', heads: 4, kvHeads: 2, headDim: 8, mask: m.window(12) }),
  asF16(attention({ heads: 2, causal: true })),
];

function planned(a: CheckedAttention, profile: DeviceProfile, edit: (ir: Attention) => Attention) {
  const lowered = lowerAttention(a);
  if (!lowered.ok) throw new Error('lowering failed');
  return planBlocks(edit(canonicalizeMask(lowered.attention)), { profile });
}

describe('subgroup variant: choice per profile', () => {
  it('a GPU profile with subgroups gets it; CPU-like and featureless profiles do not', () => {
    expect(variants(longformer, GPU_PROFILE)).toEqual(['subgroup']);
    expect(variants(longformer, GPU_RANGE_PROFILE)).toEqual(['subgroup']);
    expect(variants(longformer, SWIFTSHADER_GPU_SHAPED)).toEqual(['subgroup']);
    expect(variants(longformer, SWIFTSHADER_PROFILE)).toEqual(['rowwise']);
    expect(variants(longformer, LLVMPIPE_PROFILE)).toEqual(['rowwise']);
    expect(variants(longformer, PORTABLE_PROFILE)).toEqual(['tiled']);
    expect(variants(longformer, CORE_PROFILE)).toEqual(['tiled']);
  });

  it('every spec of the matrix gets it on a GPU with subgroups', () => {
    for (const a of SPECS) expect(variants(a, GPU_PROFILE), a.name).toEqual(['subgroup']);
  });

  it('the portable profile never uses subgroups', () => {
    for (const a of SPECS) {
      expect(variants(a, PORTABLE_PROFILE)).toEqual(['tiled']);
      for (const wgsl of softmaxWgsl(a, PORTABLE_PROFILE)) expect(wgsl).not.toMatch(/subgroup/);
    }
  });

  it('tile shape: TQ rows and TK keys fit workgroup memory, smaller TQ for large D', () => {
    const plan = (a: CheckedAttention, p: DeviceProfile) =>
      compileAttention(a, p).ir.groups[0]!.mechanism.plan!;
    // D = Dv = 64 in 32 KiB: 32 rows (q + acc 16.6 KB) and 16 keys (16 KB).
    expect(plan(longformer, GPU_PROFILE)).toMatchObject({ queryTile: 32, keyTile: 16 });
    // In 16 KiB: 16 rows and 8 keys.
    expect(plan(longformer, GPU_RANGE_PROFILE)).toMatchObject({ queryTile: 16, keyTile: 8 });
    expect(plan(attention(), GPU_PROFILE)).toMatchObject({ queryTile: 64, keyTile: 32 });
    for (const a of SPECS) {
      const p = plan(a, GPU_RANGE_PROFILE);
      const bytes = (p.queryTile + p.keyTile) * (a.headDim + a.valueDim) * 4 + p.queryTile * 8;
      expect(bytes + 64).toBeLessThanOrEqual(
        GPU_RANGE_PROFILE.limits.maxComputeWorkgroupStorageSize,
      );
    }
  });

  it('falls back to tiled when workgroup memory is too small for it', () => {
    const small: DeviceProfile = {
      ...GPU_PROFILE,
      limits: { ...GPU_PROFILE.limits, maxComputeWorkgroupStorageSize: 8192 },
    };
    expect(variants(attention({ headDim: 128 }), small)).toEqual(['tiled']);
  });

  it('falls back to tiled for routed mask leaves and head routing', () => {
    const S = { start: 0, end: 0 };
    const routed = planned(attention(), GPU_PROFILE, (ir) => ({
      ...ir,
      groups: ir.groups.map((g) =>
        g.mechanism.kind === 'softmax'
          ? {
              ...g,
              mechanism: {
                ...g.mechanism,
                mask: {
                  kind: 'routed',
                  routing: { kind: 'topk', k: 2, block: 16, causal: false },
                  span: S,
                },
              },
            }
          : g,
      ),
    }));
    expect(
      routed.groups[0]!.mechanism.kind === 'softmax' && routed.groups[0]!.mechanism.plan?.variant,
    ).toBe('tiled');
    const headRouted = planned(attention(), GPU_PROFILE, (ir) => ({
      ...ir,
      headRouting: { k: 1, span: S },
    }));
    expect(
      headRouted.groups[0]!.mechanism.kind === 'softmax' &&
        headRouted.groups[0]!.mechanism.plan?.variant,
    ).toBe('tiled');
    const plain = planned(attention(), GPU_PROFILE, (ir) => ir);
    expect(
      plain.groups[0]!.mechanism.kind === 'softmax' && plain.groups[0]!.mechanism.plan?.variant,
    ).toBe('subgroup');
  });
});

describe('subgroup variant: WGSL', () => {
  it('enables subgroups and reduces scores with subgroupAdd', () => {
    for (const a of SPECS) {
      for (const wgsl of softmaxWgsl(a, GPU_PROFILE)) {
        expect(wgsl.startsWith('enable subgroups;\n')).toBe(true);
        expect(wgsl).toContain('subgroupAdd(part)');
        expect(wgsl).toContain('@builtin(subgroup_size) sgSize: u32');
        expect(wgsl).toContain('@workgroup_size(128)');
      }
    }
  });

  it('is built on the kernel IR, verified, with ring addressing of key rows', () => {
    const compiled = compileAttention(longformer, GPU_PROFILE, { verify: true });
    const softmax = compiled.kernels.find((k) => k.name.endsWith('.softmax'))!;
    expect(kernelFeatures(softmax.ir)).toEqual(['subgroups']);
    expect(verifyKernel(softmax.ir, GPU_PROFILE.limits)).toEqual([]);
    expect(softmax.ir.inputs?.map((i) => i.builtin)).toEqual([
      'subgroup_invocation_id',
      'subgroup_size',
    ]);
    // The key-slot uniforms a KV cache sets: k/v rows go through keyRowWalk.
    expect(softmax.ir.uniforms.map((u) => u.name).slice(-3)).toEqual([
      'kvRows',
      'ringPrefix',
      'ringSlots',
    ]);
    const wgsl = compiled.plan.kernels.find((k) => k.name === softmax.name)!.wgsl;
    expect(wgsl).toContain('P.ringPrefix + ((ja + x / DW) - P.ringPrefix) % P.ringSlots');
    expect(compiled.plan.features).toEqual(['subgroups']);
  });

  it('does not depend on the subgroup size the profile reports', () => {
    for (const a of SPECS)
      expect(softmaxWgsl(a, SWIFTSHADER_GPU_SHAPED)).toEqual(
        softmaxWgsl(a, { ...SWIFTSHADER_GPU_SHAPED, features: GPU_PROFILE.features }),
      );
  });

  it('is deterministic', () => {
    for (const a of SPECS) {
      const one = JSON.stringify(compileAttention(a, GPU_PROFILE).plan);
      const two = JSON.stringify(compileAttention(a, GPU_PROFILE).plan);
      expect(one).toBe(two);
    }
  });

  it('matches the golden WGSL', () => {
    golden(
      'subgroup-longformer-gpu.longformer_softmax.wgsl',
      softmaxWgsl(longformer, GPU_PROFILE)[0]!,
    );
    golden(
      'subgroup-bigbird-segment-gpu.bigbird_softmax.wgsl',
      softmaxWgsl(bigbird, GPU_PROFILE)[0]!,
    );
    golden(
      'subgroup-f16-bnhd-gpu.attn_softmax.wgsl',
      softmaxWgsl(
        asF16(attention({ layout: 'bnhd', heads: 4, kvHeads: 2, mask: m.window(9), valueDim: 8 })),
        GPU_PROFILE,
      )[0]!,
    );
  });
});
