// Schedules without a GPU: the candidates a tuner gets per profile (all valid, the default
// first, few), an override that changes the emitted kernel, the default written out as an
// override giving byte-identical kernels, and every kind of schedule a profile cannot run
// rejected with a message naming the group and the problem.

import { describe, expect, it } from 'vitest';
import { compile, type CompileSourceOptions } from '../../src/api/compile.js';
import { maskLeaves } from '../../src/ir/ir.js';
import { defaultSchedule } from '../../src/passes/plan-blocks.js';
import { scheduleCandidates } from '../../src/passes/schedule-candidates.js';
import {
  describeSchedule,
  ScheduleError,
  scheduleProblem,
  type Schedule,
} from '../../src/passes/schedule.js';
import {
  CORE_PROFILE,
  LLVMPIPE_PROFILE,
  PORTABLE_PROFILE,
  SWIFTSHADER_PROFILE,
  type DeviceProfile,
} from '../../src/target/profile.js';

const LONGFORMER =
  'attention longformer { heads: 12; head_dim: 64; mask: window(256) | global(0) }';
const ODD_DIMS = 'attention odd { heads: 2; head_dim: 5; value_dim: 3; mask: window(9) }';
const F16 = 'attention half { heads: 2; head_dim: 16; causal: true; dtype: f16 }';
const ROUTED = 'attention routed { heads: 2; head_dim: 16; mask: cluster(4) }';

const GPU_SUBGROUPS: DeviceProfile = {
  ...CORE_PROFILE,
  name: 'gpu-subgroups',
  limits: { ...CORE_PROFILE.limits, maxComputeWorkgroupStorageSize: 32768 },
  features: { ...CORE_PROFILE.features, subgroups: true, subgroupMinSize: 32, subgroupMaxSize: 32 },
};

function module(text: string, options: CompileSourceOptions = {}) {
  const result = compile(text, options);
  expect(result.diagnostics).toEqual([]);
  return result.modules[0]!;
}

function candidates(text: string, profile: DeviceProfile): Schedule[] {
  const m = module(text, { target: profile });
  return scheduleCandidates(m.ir, m.ir.groups[0]!.name, profile);
}

function softmaxWgsl(text: string, options: CompileSourceOptions): string {
  return module(text, options)
    .plan.kernels.filter((k) => k.name.endsWith('.softmax'))
    .map((k) => k.wgsl)
    .join('\n');
}

describe('schedule candidates', () => {
  it('on llvmpipe: rowwise default first, tiled and rowwise neighbours, no subgroup', () => {
    const list = candidates(LONGFORMER, LLVMPIPE_PROFILE).map(describeSchedule);
    expect(list).toEqual([
      'rowwise 64x64 vec4',
      'tiled 64x32 vec4',
      'rowwise 128x64 vec4',
      'rowwise 32x64 vec4',
      'rowwise 64x128 vec4',
      'rowwise 64x32 vec4',
      'tiled 32x32 vec4',
      'rowwise 64x64 scalar',
    ]);
  });

  it('every candidate of every profile is one the profile can run, the default first', () => {
    for (const profile of [
      PORTABLE_PROFILE,
      CORE_PROFILE,
      LLVMPIPE_PROFILE,
      SWIFTSHADER_PROFILE,
      GPU_SUBGROUPS,
    ]) {
      for (const text of [LONGFORMER, ODD_DIMS, F16]) {
        const m = module(text, { target: profile });
        const group = m.ir.groups[0]!;
        if (group.mechanism.kind !== 'softmax') throw new Error('not softmax');
        const leaves = maskLeaves(group.mechanism.mask);
        const list = scheduleCandidates(m.ir, group.name, profile);
        expect(list.length, `${profile.name} ${m.name}`).toBeGreaterThanOrEqual(2);
        expect(list.length).toBeLessThanOrEqual(8);
        expect(list[0]).toEqual(defaultSchedule(m.ir, profile, leaves));
        const plan = group.mechanism.plan!;
        expect(list[0]).toMatchObject({
          variant: plan.variant,
          rowsPerWorkgroup: plan.queryTile,
          keyTile: plan.keyTile,
          vectorWidth: plan.vectorWidth,
        });
        for (const s of list) expect(scheduleProblem(s, m.ir, profile, leaves)).toBeNull();
        expect(new Set(list.map(describeSchedule)).size).toBe(list.length);
      }
    }
  });

  it('subgroup only where the profile has subgroups (also on CPU-like SwiftShader)', () => {
    const variants = (p: DeviceProfile) => new Set(candidates(LONGFORMER, p).map((s) => s.variant));
    expect(variants(PORTABLE_PROFILE).has('subgroup')).toBe(false);
    expect(variants(LLVMPIPE_PROFILE).has('subgroup')).toBe(false);
    expect(variants(SWIFTSHADER_PROFILE).has('subgroup')).toBe(true);
    expect(candidates(LONGFORMER, GPU_SUBGROUPS)[0]!.variant).toBe('subgroup');
    expect(candidates(LONGFORMER, PORTABLE_PROFILE)[0]!.variant).toBe('tiled');
  });

  it('odd dims get scalar loads only, f16 vec4 only, a routed mask only its default', () => {
    expect(candidates(ODD_DIMS, LLVMPIPE_PROFILE).every((s) => s.vectorWidth === 1)).toBe(true);
    expect(candidates(F16, LLVMPIPE_PROFILE).every((s) => s.vectorWidth === 4)).toBe(true);
    expect(candidates(ROUTED, LLVMPIPE_PROFILE)).toHaveLength(1);
  });

  it('honours a smaller maximum', () => {
    const m = module(LONGFORMER, { target: LLVMPIPE_PROFILE });
    expect(scheduleCandidates(m.ir, 'longformer', LLVMPIPE_PROFILE, 3)).toHaveLength(3);
  });
});

describe('schedule overrides', () => {
  it('change the emitted kernel', () => {
    const target = LLVMPIPE_PROFILE;
    const plain = softmaxWgsl(LONGFORMER, { target });
    expect(plain).toContain('const TK: u32 = 64u;');
    const tuned = softmaxWgsl(LONGFORMER, {
      target,
      schedules: { longformer: { rowsPerWorkgroup: 32, keyTile: 16 } },
    });
    expect(tuned).toContain('const TQ: u32 = 32u;');
    expect(tuned).toContain('const TK: u32 = 16u;');
    expect(tuned).toContain('@compute @workgroup_size(32)');
    const tiled = softmaxWgsl(LONGFORMER, { target, schedules: { '*': { variant: 'tiled' } } });
    expect(tiled).toContain('variant tiled');
    expect(tiled).toContain('var<workgroup> kTile');
  });

  it('the default written out as an override gives byte-identical kernels', () => {
    for (const target of [PORTABLE_PROFILE, LLVMPIPE_PROFILE, GPU_SUBGROUPS]) {
      const m = module(LONGFORMER, { target });
      const [first] = scheduleCandidates(m.ir, 'longformer', target);
      const again = module(LONGFORMER, { target, schedules: { longformer: first! } });
      expect(again.plan).toEqual(m.plan);
      expect(module(LONGFORMER, { target, schedules: {} }).plan).toEqual(m.plan);
    }
  });

  it.each([
    [
      LLVMPIPE_PROFILE,
      { variant: 'subgroup' },
      "schedule subgroup 64x32 vec4 for group 'longformer' of 'longformer' cannot run on profile 'llvmpipe': variant 'subgroup' needs the 'subgroups' feature, which profile 'llvmpipe' lacks",
    ],
    [
      PORTABLE_PROFILE,
      { rowsPerWorkgroup: 256 },
      "a workgroup of 256 invocations exceeds the 128 that profile 'portable' allows",
    ],
    [
      PORTABLE_PROFILE,
      { keyTile: 64 },
      "32832 bytes of workgroup memory exceed the 16384 that profile 'portable' allows",
    ],
    [LLVMPIPE_PROFILE, { keyTile: 48 }, 'keyTile must be a power of two from 1 to 1024, got 48'],
    [LLVMPIPE_PROFILE, { rowsPerWorkgroup: 0 }, 'rowsPerWorkgroup must be a power of two'],
    [LLVMPIPE_PROFILE, { vectorWidth: 2 }, 'vectorWidth must be 1 or 4, got 2'],
    [LLVMPIPE_PROFILE, { variant: 'flash' }, "unknown variant 'flash'"],
  ])('on %s, %j is rejected', (target, override, message) => {
    expect(() =>
      compile(LONGFORMER, { target, schedules: { longformer: override as Partial<Schedule> } }),
    ).toThrow(new RegExp(escape(message)));
  });

  it('rejects vec4 on odd dims, scalar f16, and a group that does not exist', () => {
    expect(() =>
      compile(ODD_DIMS, { target: LLVMPIPE_PROFILE, schedules: { '*': { vectorWidth: 4 } } }),
    ).toThrow('vectorWidth 4 needs head_dim and value_dim multiples of 4 (they are 5 and 3)');
    expect(() =>
      compile(F16, { target: LLVMPIPE_PROFILE, schedules: { '*': { vectorWidth: 1 } } }),
    ).toThrow('dtype f16 rows are read four halves at a time: vectorWidth must be 4');
    expect(() => compile(LONGFORMER, { schedules: { longformr: { keyTile: 16 } } })).toThrow(
      new ScheduleError(
        "a schedule is given for 'longformr', which is not a softmax group of 'longformer' (its softmax groups: longformer)",
      ),
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
