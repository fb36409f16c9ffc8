// Kernelized (linear) attention before the GPU: lowering folds the mask into `causal`, the
// fuse-linear pass builds the program, the verifier guards it, the host plan stays linear in N
// and within every profile's limits.

import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { compileAttention } from '../../src/codegen/compile.js';
import { evalSize } from '../../src/codegen/plan.js';
import type { Attention, Group } from '../../src/ir/ir.js';
import { printAttention } from '../../src/ir/print.js';
import { verifyAttention } from '../../src/ir/verify.js';
import { lowerAttention } from '../../src/lower/lower.js';
import { chooseLinearPlan } from '../../src/passes/fuse-linear.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import {
  CORE_PROFILE,
  LLVMPIPE_PROFILE,
  PORTABLE_PROFILE,
  SWIFTSHADER_PROFILE,
} from '../../src/target/profile.js';
import { m } from '../kernels/build.js';
import { linearAttention, phi } from '../kernels/linear-cases.js';

const PROFILES = [PORTABLE_PROFILE, CORE_PROFILE, LLVMPIPE_PROFILE, SWIFTSHADER_PROFILE];

function lowered(a = linearAttention({ kernel: phi.elu1(), causal: true })): Attention {
  const result = lowerAttention(a);
  if (!result.ok) throw new Error(result.unsupported.map((u) => u.message).join('; '));
  return result.attention;
}

function linearOf(group: Group) {
  const mechanism = group.mechanism;
  if (mechanism.kind !== 'linear') throw new Error(`group ${group.name} is ${mechanism.kind}`);
  return mechanism;
}

describe('lowering kernelized groups', () => {
  it('copies the feature map and folds the mask into causal', () => {
    const cases = [
      [linearAttention({ kernel: phi.elu1() }), false],
      [linearAttention({ kernel: phi.elu1(), causal: true }), true],
      [linearAttention({ kernel: phi.relu(), mask: m.causal() }), true],
      [linearAttention({ kernel: phi.relu(), mask: m.and(m.full(), m.causal()) }), true],
      [linearAttention({ kernel: phi.relu(), mask: m.or(m.full(), m.causal()) }), false],
      [linearAttention({ kernel: phi.relu(), mask: m.or(m.causal(), m.causal()) }), true],
    ] as const;
    for (const [a, causal] of cases) {
      const ir = lowered(a);
      const mechanism = linearOf(ir.groups[0]!);
      expect(mechanism.causal).toBe(causal);
      expect(mechanism.mask).toMatchObject(
        causal ? { kind: 'band', lo: null, hi: 0 } : { kind: 'all' },
      );
      expect(mechanism.plan).toBeNull();
      expect(verifyAttention(ir, 'lower')).toEqual([]);
    }
    const favor = linearOf(lowered(linearAttention({ kernel: phi.favor(64, 9) })).groups[0]!);
    expect(favor.featureMap).toEqual({ kind: 'favor', features: 64, seed: 9 });
  });

  it('keeps softmax groups beside linear ones, with their offsets', () => {
    const result = compile(
      [
        'attention hybrid {',
        '  head_dim: 16',
        '  causal: true',
        '  group local  { heads: 4; kv_heads: 2; mask: window(left: 8, right: 0) }',
        '  group linear { heads: 2; kernel: favor(8, seed: 3) }',
        '}',
      ].join('\n'),
      { target: 'portable', verify: true },
    );
    expect(result.diagnostics).toEqual([]);
    const ir = result.modules[0]!.ir;
    expect(ir.groups.map((g) => [g.name, g.mechanism.kind, g.headOffset, g.kvHeadOffset])).toEqual([
      ['local', 'softmax', 0, 0],
      ['linear', 'linear', 4, 2],
    ]);
    const kernels = result.modules[0]!.plan.kernels.map((k) => k.name);
    expect(kernels).toEqual([
      'local.softmax',
      'local.decode_partial',
      'local.decode_merge',
      'linear.linear_states',
      'linear.linear_scan',
      'linear.linear_output',
    ]);
  });
});

describe('fuse-linear', () => {
  it('builds [draw-gaussian], states, scan, output; nothing before the pass', () => {
    const favor = lowered(linearAttention({ kernel: phi.favor(32, 4), causal: true }));
    const before = runPipeline(
      favor,
      { profile: PORTABLE_PROFILE },
      { after: 'fuse-softmax', verify: true },
    );
    expect(before.groups[0]!.program).toEqual([]);
    const ir = runPipeline(favor, { profile: PORTABLE_PROFILE }, { verify: true });
    const group = ir.groups[0]!;
    expect(group.program.map((s) => s.kind)).toEqual([
      'draw-gaussian',
      'linear-chunk-states',
      'linear-scan',
      'linear-output',
    ]);
    expect(group.tables).toEqual([
      { kind: 'gaussian', name: 'lin.favor_w', rows: 32, cols: 16, seed: 4 },
      {
        kind: 'linear-states',
        name: 'lin.states',
        features: 32,
        valueDim: 16,
        causal: true,
        plan: { chunk: 64, featureBlock: 32, maxSlots: 64, vectorWidth: 4 },
      },
    ]);
    const elu = runPipeline(lowered(), { profile: LLVMPIPE_PROFILE }, { verify: true });
    expect(elu.groups[0]!.program.map((s) => s.kind)).toEqual([
      'linear-chunk-states',
      'linear-scan',
      'linear-output',
    ]);
  });

  it('chooses the chunk, feature block and vector width from the profile', () => {
    // llvmpipe: every feature of D = 64 fits one block (16 KiB of its 32 KiB).
    expect(chooseLinearPlan(LLVMPIPE_PROFILE, 64, 64, 64)).toEqual({
      chunk: 64,
      featureBlock: 64,
      maxSlots: 64,
      vectorWidth: 4,
    });
    // portable: 16 KiB of workgroup memory, so FAVOR+'s 256 features go 32 at a time.
    expect(chooseLinearPlan(PORTABLE_PROFILE, 64, 64, 256).featureBlock).toBe(32);
    expect(chooseLinearPlan(PORTABLE_PROFILE, 5, 3, 5).vectorWidth).toBe(1);
    expect(chooseLinearPlan(LLVMPIPE_PROFILE, 16, 16, 7)).toMatchObject({
      featureBlock: 7,
      vectorWidth: 1,
    });
  });

  it('prints the program', () => {
    const ir = runPipeline(
      lowered(linearAttention({ kernel: phi.favor(32, 4), causal: true, heads: 4, kvHeads: 2 })),
      { profile: PORTABLE_PROFILE },
    );
    expect(printAttention(ir)).toBe(
      [
        'attention attn heads=4 kv_heads=2 head_dim=16 value_dim=16 layout=bhnd dtype=f32',
        '  group lin heads=[0, 4) kv_heads=[0, 2)',
        '    linear phi=favor(32, seed: 4) mask=causal',
        '    table lin.favor_w = gaussian(seed: 4) [32 x 16] f32  (host)',
        '    table lin.states = linear-states(chunk: 64, feature_block: 32) [B x Hkv x ceil(Nk/64) x 32 x (16 + 1)] f32',
        '    0: draw-gaussian -> lin.favor_w  (host)',
        '    1: linear-chunk-states k, v, lin.favor_w -> lin.states  (phi(k)^T v and sum phi(k) per slot, phi=favor(32, seed: 4) on the fly)',
        '    2: linear-scan lin.states  (exclusive prefix over chunks, in place)',
        '    3: linear-output q, k, v, lin.favor_w, lin.states -> o  (phi(q)·S / (phi(q)·z + 1e-6), plus the own chunk exactly under the causal mask)',
        '',
      ].join('\n'),
    );
    const full = runPipeline(lowered(linearAttention({ kernel: phi.relu() })), {
      profile: LLVMPIPE_PROFILE,
    });
    expect(printAttention(full)).toContain(
      'table lin.states = linear-states(chunk: 64, feature_block: 16) [B x Hkv x ceil(Nk/max(64, ceil(Nk/64))) x 16 x (16 + 1)] f32',
    );
    expect(printAttention(full)).toContain(
      'linear-scan lin.states  (sum of the slots into slot 0)',
    );
  });
});

describe('verifying linear programs', () => {
  const fused = () =>
    runPipeline(lowered(linearAttention({ kernel: phi.favor(8, 1), causal: true })), {
      profile: PORTABLE_PROFILE,
    });
  const withGroup = (ir: Attention, change: (g: Group) => Group): Attention => ({
    ...ir,
    groups: ir.groups.map(change),
  });

  it('accepts what the pipeline builds', () => {
    expect(verifyAttention(fused(), 'fuse-linear')).toEqual([]);
  });

  it('rejects an empty program after fuse-linear, a wrong order and a missing W', () => {
    const ir = fused();
    expect(
      verifyAttention(
        withGroup(ir, (g) => ({ ...g, program: [] })),
        'fuse-linear',
      ),
    ).toEqual(['group lin: empty program after fuse-linear']);
    const reversed = withGroup(ir, (g) => ({ ...g, program: [...g.program].reverse() }));
    expect(verifyAttention(reversed, 'fuse-linear').join('\n')).toMatch(
      /linear program is \[linear-output, linear-scan, linear-chunk-states, draw-gaussian\]/,
    );
    const noW = withGroup(ir, (g) => ({ ...g, program: g.program.slice(1) }));
    expect(verifyAttention(noW, 'fuse-linear').join('\n')).toMatch(
      /reads lin\.favor_w before it is filled/,
    );
  });

  it('rejects a mask that disagrees with causal', () => {
    const ir = withGroup(fused(), (g) => ({
      ...g,
      mechanism: { ...linearOf(g), mask: { kind: 'all', span: g.span } },
    }));
    expect(verifyAttention(ir, 'fuse-linear').join('\n')).toMatch(/agree with causal=true/);
  });
});

describe('host plan of linear groups', () => {
  const SPECS = [
    linearAttention({ kernel: phi.elu1(), causal: true, heads: 4, kvHeads: 2, headDim: 64 }),
    linearAttention({ kernel: phi.favor(256, 0), headDim: 64 }),
    linearAttention({ kernel: phi.favor(256, 0), causal: true, headDim: 64, layout: 'bnhd' }),
    linearAttention({ kernel: phi.relu(), headDim: 5, valueDim: 3 }),
  ];

  it('respects every profile: storage bindings, workgroup size and memory', () => {
    for (const profile of PROFILES) {
      for (const spec of SPECS) {
        const { plan } = compileAttention(spec, profile, { verify: true });
        for (const kernel of plan.kernels) {
          const storage = kernel.bindings.filter((b) => b.type !== 'uniform').length;
          expect(storage, `${profile.name} ${kernel.name}`).toBeLessThanOrEqual(
            profile.limits.maxStorageBuffersPerShaderStage,
          );
          expect(kernel.workgroupSize).toBeLessThanOrEqual(
            profile.limits.maxComputeInvocationsPerWorkgroup,
          );
          const shared = /var<workgroup> kf: array<(vec4<f32>|f32), C \* FW>/.exec(kernel.wgsl);
          if (shared) {
            const chunk = Number(/const C: u32 = (\d+)u;/.exec(kernel.wgsl)![1]);
            const fw = Number(/const FW: u32 = (\d+)u;/.exec(kernel.wgsl)![1]);
            const bytes = chunk * fw * (shared[1] === 'f32' ? 4 : 16);
            expect(bytes).toBeLessThanOrEqual(profile.limits.maxComputeWorkgroupStorageSize);
          }
        }
      }
    }
  });

  it('is linear in N: no N x N buffer, and phi(K) is never stored', () => {
    for (const spec of SPECS) {
      const { plan } = compileAttention(spec, PORTABLE_PROFILE);
      for (const buffer of plan.buffers) {
        const at = (n: number): number => evalSize(buffer.size, { batch: 1, seqQ: n, seqK: n });
        expect(at(1 << 16), buffer.name).toBeLessThanOrEqual(2 * at(1 << 15) + 64);
      }
      // The states: at most (N / 64 + 1) slots of features x (value_dim + 1) per kv head.
      const states = plan.arrays.find((a) => a.name === 'lin.states')!;
      const words = evalSize(states.length, { batch: 1, seqQ: 4096, seqK: 4096 });
      const features = spec.groups[0]!.kernel!.kind === 'favor' ? 256 : spec.headDim;
      expect(words).toBeLessThanOrEqual(
        spec.kvHeads * (4096 / 64 + 1) * features * (spec.valueDim + 1),
      );
    }
  });

  it('draws FAVOR+ W on the host with the reference generator', () => {
    const { plan } = compileAttention(SPECS[1]!, LLVMPIPE_PROFILE);
    expect(plan.steps.find((s) => s.kind === 'fill-gaussian')).toEqual({
      kind: 'fill-gaussian',
      array: 'lin.favor_w',
      seed: 0,
      rows: 256,
      cols: 64,
    });
  });
});
