// Low-rank host plans (no GPU): inputs E/F, the nystrom min-length constraint, profile limits,
// memory linear in N (never N x N), determinism, the examples through compile(), and dtype
// f16 (q/k/v/o packed halves; E, F and the scratch f32).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import type { LowRank } from '../../src/check/checked.js';
import { compileAttention } from '../../src/codegen/compile.js';
import { evalSize } from '../../src/codegen/plan.js';
import {
  CORE_PROFILE,
  LLVMPIPE_PROFILE,
  PORTABLE_PROFILE,
  SWIFTSHADER_PROFILE,
} from '../../src/target/profile.js';
import { asF16, attention, m } from '../kernels/build.js';

const S = { start: 0, end: 0 };
const PROFILES = [PORTABLE_PROFILE, CORE_PROFILE, LLVMPIPE_PROFILE, SWIFTSHADER_PROFILE];

function lowRank(lowrank: LowRank, options: Parameters<typeof attention>[0] = {}) {
  const base = attention({ heads: 4, kvHeads: 2, headDim: 64, maxSeq: 8192, ...options });
  return { ...base, groups: base.groups.map((g) => ({ ...g, lowrank })) };
}

const SPECS = [
  lowRank({ kind: 'linformer', rank: 256, span: S }),
  lowRank({ kind: 'linformer', rank: 20, span: S }, { headDim: 6, valueDim: 5, layout: 'bnhd' }),
  lowRank({ kind: 'nystrom', landmarks: 64, iters: 6, span: S }),
  lowRank({ kind: 'nystrom', landmarks: 10, iters: 2, span: S }, { headDim: 7 }),
  asF16(lowRank({ kind: 'linformer', rank: 64, span: S }, { layout: 'bnhd', valueDim: 32 })),
  asF16(lowRank({ kind: 'nystrom', landmarks: 16, iters: 6, span: S })),
];

describe('low-rank host plan', () => {
  it('declares E and F [Hkv, r, max_seq] for linformer only', () => {
    const lin = compileAttention(SPECS[0]!, PORTABLE_PROFILE).plan;
    const ef = lin.inputs.filter((i) => i.name === 'E' || i.name === 'F');
    expect(ef).toEqual([
      {
        name: 'E',
        dtype: 'f32',
        storage: 'f32',
        dims: ['Hkv', 'r', 'max_seq'],
        shape: [2, 256, 8192],
      },
      {
        name: 'F',
        dtype: 'f32',
        storage: 'f32',
        dims: ['Hkv', 'r', 'max_seq'],
        shape: [2, 256, 8192],
      },
    ]);
    expect(lin.constraints).toEqual({ maxSeqK: 8192 });
    const nys = compileAttention(SPECS[2]!, PORTABLE_PROFILE).plan;
    expect(nys.inputs.map((i) => i.name)).toEqual(['q', 'k', 'v']);
    expect(nys.constraints).toEqual({ maxSeqK: 8192, minSeq: 64 });
  });

  it('respects every profile: storage bindings, workgroup size, no workgroup memory', () => {
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
          expect(kernel.wgsl).not.toMatch(/var<workgroup>|\benable\b/);
        }
      }
    }
  });

  it('builds every low-rank kernel on the kernel IR, verified', () => {
    for (const spec of SPECS) {
      // compileAttention verifies each IR kernel against the profile (it throws otherwise).
      const { kernels } = compileAttention(spec, PORTABLE_PROFILE);
      for (const kernel of kernels) expect(kernel.ir, kernel.name).not.toBeNull();
    }
  });

  it('binds a shared qkv buffer once when the profile packs q, k and v', () => {
    const base = attention({
      headDim: 16,
      maxSeq: 512,
      groups: [
        { name: 'lin', heads: 1, kvHeads: 1, lowrank: { kind: 'linformer', rank: 8, span: S } },
        { name: 'soft', heads: 1, kvHeads: 1, mask: m.random(2, 16, 5) },
      ],
    });
    const { plan } = compileAttention(base, PORTABLE_PROFILE, { verify: true });
    expect(plan.arrays.find((a) => a.name === 'k')?.buffer).toBe('qkv');
    const project = plan.kernels.find((k) => k.name === 'lin.linformer-project')!;
    expect(project.bindings.map((b) => b.buffer)).toEqual([
      'params.lin.linformer-project',
      'qkv',
      'ef',
      'lowrank',
    ]);
  });

  it('needs memory linear in N (no N x N buffer)', () => {
    for (const spec of SPECS) {
      const { plan } = compileAttention(spec, PORTABLE_PROFILE);
      const bytes = (n: number) =>
        plan.buffers.reduce((sum, b) => sum + evalSize(b.size, { batch: 1, seqQ: n, seqK: n }), 0);
      // Doubling N at most doubles the memory (plus what does not grow with N).
      const fixed = 2 * bytes(4096) - bytes(8192);
      expect(fixed).toBeGreaterThanOrEqual(0);
      // Far below one N x N f32 matrix (256 MiB at N = 8192), E and F included.
      expect(bytes(8192)).toBeLessThan((8192 * 8192 * 4) / 2);
    }
  });

  it('is deterministic byte for byte', () => {
    for (const profile of PROFILES) {
      for (const spec of SPECS) {
        expect(JSON.stringify(compileAttention(spec, profile))).toBe(
          JSON.stringify(compileAttention(spec, profile)),
        );
      }
    }
  });

  it('compiles examples/linformer.attn and examples/nystromformer.attn without diagnostics', () => {
    for (const file of ['examples/linformer.attn', 'examples/nystromformer.attn']) {
      const result = compile(readFileSync(file, 'utf8'), {
        file,
        target: 'portable',
        verify: true,
      });
      expect(result.diagnostics, file).toEqual([]);
      expect(result.modules).toHaveLength(1);
    }
  });

  it('compiles an example-like dtype f16 spec: q/k/v/o are f16 in the plan, E, F, scratch f32', () => {
    for (const lowrank of ['linformer(256)', 'nystrom(64, iters: 6)']) {
      const text = `attention half {\n  heads: 8\n  kv_heads: 2\n  head_dim: 64\n  layout: bnhd\n  dtype: f16\n  max_seq: 4096\n  lowrank: ${lowrank}\n}\n`;
      const result = compile(text, { target: 'portable', verify: true });
      expect(result.diagnostics, lowrank).toEqual([]);
      const { plan } = result.modules[0]!;
      const storage = (name: string) => plan.inputs.find((i) => i.name === name)?.storage;
      expect(['q', 'k', 'v'].map(storage), lowrank).toEqual(['f16', 'f16', 'f16']);
      expect(plan.outputs[0]).toMatchObject({ name: 'o', dtype: 'f32', storage: 'f16' });
      const element = (name: string) => plan.arrays.find((a) => a.name === name)?.element;
      expect(['q', 'k', 'v', 'o'].map(element)).toEqual(['f16', 'f16', 'f16', 'f16']);
      if (lowrank.startsWith('linformer')) {
        expect([storage('E'), storage('F'), element('E'), element('F')]).toEqual([
          'f32',
          'f32',
          'f32',
          'f32',
        ]);
      }
      expect(plan.arrays.filter((a) => a.buffer === 'lowrank').map((a) => a.element)).toEqual(
        plan.arrays.filter((a) => a.buffer === 'lowrank').map(() => 'f32'),
      );
      // Packed halves without the optional shader-f16 feature.
      expect(plan.features).toBeUndefined();
      for (const kernel of plan.kernels) {
        expect(kernel.wgsl, kernel.name).not.toMatch(/\benable\b|array<f16>/);
        expect(kernel.wgsl, kernel.name).not.toMatch(
          /var<storage, [a-z_]+> (q|k|v|o|qkv)_buf: array<vec4<f32>>/,
        );
        const binds = kernel.bindings.map((b) => b.buffer);
        if (binds.some((b) => ['q', 'k', 'v', 'o', 'qkv'].includes(b)))
          expect(kernel.wgsl, kernel.name).toMatch(/array<vec2<u32>>/);
        if (binds.includes('lowrank'))
          expect(kernel.wgsl, kernel.name).toMatch(/lowrank_buf: array<(vec4<f32>|f32)>/);
      }
      const attend = plan.kernels.find((k) => k.name.endsWith('.attend-small'))!;
      expect(attend.wgsl).toContain('unpackRow(q_buf[qRow + d])');
      expect(attend.wgsl).toContain('o_buf[oRow + d] = packRow(acc[d] * inv);');
    }
  });

  it('still reports dtype f16 with a head_dim that is not a multiple of 4 as E600', () => {
    const text = 'attention a { heads: 2; head_dim: 6; dtype: f16; lowrank: nystrom(4) }';
    const result = compile(text);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['E600']);
    expect(result.diagnostics[0]!.message).toContain(
      'dtype f16 with head_dim 6 and value_dim 6 (f16 needs both to be multiples of 4)',
    );
  });
});
