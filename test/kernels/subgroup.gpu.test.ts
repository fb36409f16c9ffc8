// The `subgroup` kernel variant on SwiftShader (subgroups of 4 lanes). SwiftShader's own profile
// is CPU-like and picks `rowwise`, so every case is compiled for a copy of it with
// `cpuLike: false`, which makes plan-blocks pick `subgroup` as on a real GPU. Every small case of
// the shared matrix (cases.ts: each static primitive, unions/intersections, softcap, alibi,
// GQA/MQA, value_dim, bnhd, batch 2, N in {1, 2, 63, 64, 65, 257}, Nq < Nk, decode, fully masked
// rows, |s| ~ 1e4, two groups, f16) plus a few shapes aimed at the lane split is compared with
// the CPU reference within 1e-4.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckedAttention } from '../../src/check/checked.js';
import { compileAttention } from '../../src/codegen/compile.js';
import { referenceAttention } from '../../src/reference/index.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import type { DeviceProfile } from '../../src/target/profile.js';
import { attention, m, makeProblem, type Problem } from './build.js';
import { KERNEL_CASES } from './cases.js';
import { excessError } from './run-cases.js';

interface Case {
  readonly name: string;
  readonly attention: CheckedAttention;
  readonly problem: () => Problem;
  /** Workgroup storage to plan for (smaller than the device's: a smaller query tile). */
  readonly storage?: number;
  /** The query tile plan-blocks must pick (64: 2 rows per 4-lane subgroup; 16: half idle). */
  readonly queryTile?: number;
}

const shaped = (
  name: string,
  a: CheckedAttention,
  b: number,
  nq: number,
  nk: number,
  options: { storage?: number; queryTile?: number } = {},
): Case => ({
  name: `${name} [B=${b} Nq=${nq} Nk=${nk}]`,
  attention: a,
  problem: () => makeProblem(a, b, nq, nk, 5),
  ...options,
});

/** Shapes that stress the lane split (D or Dv not a multiple of the subgroup size, long rows). */
const EXTRA_CASES: readonly Case[] = [
  shaped(
    'value_dim 6 head_dim 16 (Dv % 4 != 0)',
    attention({ headDim: 16, valueDim: 6 }),
    1,
    65,
    65,
  ),
  shaped(
    'head_dim 7 value_dim 9 causal',
    attention({ headDim: 7, valueDim: 9, causal: true }),
    1,
    64,
    64,
  ),
  shaped(
    'head_dim 64 value_dim 32 window',
    attention({ headDim: 64, valueDim: 32, mask: m.window(20) }),
    1,
    100,
    130,
  ),
  shaped('decode Nq=1 window', attention({ mask: m.window(40), heads: 2 }), 2, 1, 257),
  shaped('Nq < Nk dense', attention({ heads: 2, kvHeads: 1 }), 1, 3, 257),
  // 128 invocations = 32 subgroups of 4 lanes: TQ 64 gives each subgroup 2 rows, TQ 16 (D = Dv
  // = 64 in 16 KiB) leaves half the subgroups without a row.
  shaped('2 rows per subgroup', attention({ mask: m.window(30), causal: true }), 1, 200, 200, {
    queryTile: 64,
  }),
  shaped('idle subgroups (TQ 16)', attention({ headDim: 64, mask: m.window(50) }), 2, 70, 90, {
    storage: 16384,
    queryTile: 16,
  }),
];

describe('subgroup variant on SwiftShader', () => {
  let acquired: AcquiredDevice;
  let profile: DeviceProfile;
  beforeAll(async () => {
    acquired = await acquireDevice({ adapter: 'swiftshader' });
    profile = { ...acquired.profile, name: 'swiftshader-gpu-shaped', cpuLike: false };
  });
  afterAll(() => acquired?.destroy());

  it('the device has subgroups, and the kernel enables and uses them', () => {
    expect(acquired.profile.features.subgroups).toBe(true);
    const compiled = compileAttention(attention({ causal: true }), profile, { verify: true });
    const kernel = compiled.plan.kernels.find((k) => k.name.endsWith('.softmax'))!;
    expect(compiled.ir.groups[0]!.mechanism.plan?.variant).toBe('subgroup');
    expect(kernel.wgsl.startsWith('enable subgroups;\n')).toBe(true);
    expect(kernel.wgsl).toContain('subgroupAdd(');
    expect(kernel.wgsl).toContain('@builtin(subgroup_size)');
  });

  const cases: Case[] = [...KERNEL_CASES.filter((c) => c.small), ...EXTRA_CASES];
  for (const c of cases) {
    it(c.name, async () => {
      const problem = c.problem();
      const expected = referenceAttention(c.attention, problem);
      const target: DeviceProfile =
        c.storage === undefined
          ? profile
          : {
              ...profile,
              limits: { ...profile.limits, maxComputeWorkgroupStorageSize: c.storage },
            };
      const compiled = compileAttention(c.attention, target, { verify: true });
      for (const group of compiled.ir.groups) {
        expect(group.mechanism.plan?.variant, group.name).toBe('subgroup');
        if (c.queryTile !== undefined)
          expect(group.mechanism.plan?.queryTile, group.name).toBe(c.queryTile);
      }
      const loaded = load(acquired.device, compiled);
      acquired.device.pushErrorScope('validation');
      const { o } = await loaded.run(problem);
      const error = await acquired.device.popErrorScope();
      loaded.destroy();
      expect(error?.message ?? null, 'WebGPU validation').toBeNull();
      expect(o.every(Number.isFinite), 'finite output').toBe(true);
      expect(excessError(o, expected, c.attention.dtype === 'f16')).toBe(0);
    });
  }
});
