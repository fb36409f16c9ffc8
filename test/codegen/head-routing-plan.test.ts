// Mixture of heads without a GPU: lowering, the printed IR, the plan (router input, routing
// kernels before the fused ones, routed dispatch bound, profile limits, determinism), the
// generated TypeScript module's input types, and the random inputs `attnc run` feeds.

import { describe, expect, it } from 'vitest';
import { compile, type CompiledModule } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import type { CheckedAttention } from '../../src/check/checked.js';
import { compileAttention } from '../../src/codegen/compile.js';
import { evalSize, type PlanInput } from '../../src/codegen/plan.js';
import { emitTypeScriptModule } from '../../src/codegen/typescript/emit-module.js';
import { printAttention } from '../../src/ir/print.js';
import { lowerAttention } from '../../src/lower/lower.js';
import {
  CORE_PROFILE,
  LLVMPIPE_PROFILE,
  PORTABLE_PROFILE,
  SWIFTSHADER_PROFILE,
} from '../../src/target/profile.js';
import { attention, m } from '../kernels/build.js';

const S = { start: 0, end: 0 };
const routed = (a: CheckedAttention, k: number): CheckedAttention => ({
  ...a,
  headRouting: { k, span: S },
});
const PROFILES = [PORTABLE_PROFILE, CORE_PROFILE, LLVMPIPE_PROFILE, SWIFTSHADER_PROFILE];
const SPECS = [
  routed(attention({ heads: 8, headDim: 64, causal: true }), 2),
  routed(
    attention({
      headDim: 32,
      layout: 'bnhd',
      groups: [
        { name: 'local', heads: 2, mask: m.window(16) },
        { name: 'docs', heads: 4, kvHeads: 2, mask: m.or(m.segment(), m.random(2, 64, 1)) },
      ],
    }),
    3,
  ),
];

describe('head routing: lowering and IR', () => {
  it('lowers to an attention-level head routing and prints it', () => {
    const lowered = lowerAttention(SPECS[0]!);
    expect(lowered.ok).toBe(true);
    if (!lowered.ok) return;
    expect(lowered.attention.headRouting?.k).toBe(2);
    const compiled = compileAttention(SPECS[0]!, PORTABLE_PROFILE, { verify: true });
    expect(printAttention(compiled.ir)).toContain(
      '  head_routing top(2) of 8: route-heads router -> weights [B x Nq x H] f32',
    );
  });

  it('every group kind walks the kept-row lists: no scale pass, kept-row dispatch bounds', () => {
    const a = routed(
      attention({
        headDim: 16,
        maxSeq: 8192,
        groups: [
          { name: 'soft', heads: 2, causal: true },
          { name: 'lin', heads: 2, kernel: { kind: 'elu1', span: S }, causal: true },
          { name: 'linfull', heads: 2, kernel: { kind: 'relu', span: S } },
          { name: 'lf', heads: 2, lowrank: { kind: 'linformer', rank: 16, span: S } },
          { name: 'ny', heads: 2, lowrank: { kind: 'nystrom', landmarks: 8, iters: 6, span: S } },
          { name: 'tk', heads: 2, mask: m.topk(2, 16) },
          { name: 'cl', heads: 2, mask: { kind: 'cluster', count: 4, span: S } },
          { name: 'lsh', heads: 2, mask: { kind: 'lsh', buckets: 8, seed: 1, span: S } },
        ],
      }),
      2,
    );
    // The per-query kernel of each group, and its rows per workgroup.
    const perQuery: [string, number][] = [
      ['soft.softmax', 64],
      ['lin.linear_output', 64],
      ['linfull.linear_output', 64],
      ['lf.attend-small', 64],
      ['ny.attend-small', 64],
      ['tk.softmax', 64],
      ['cl.softmax', 64],
      ['lsh.softmax', 64],
    ];
    for (const profile of PROFILES) {
      const plan = compileAttention(a, profile, { verify: true }).plan;
      const names = plan.kernels.map((k) => k.name);
      for (const kernel of plan.kernels) {
        const storage = kernel.bindings.filter((b) => b.type !== 'uniform').length;
        expect(storage, kernel.name).toBeLessThanOrEqual(
          profile.limits.maxStorageBuffersPerShaderStage,
        );
      }
      expect(names.filter((n) => n.startsWith('head_routing.'))).toEqual([
        'head_routing.select',
        'head_routing.scan',
        'head_routing.scatter',
      ]);
      const env = { batch: 2, seqQ: 4096, seqK: 4096 };
      for (const [name, tile] of perQuery) {
        const kernel = plan.kernels.find((k) => k.name === name);
        if (!kernel) throw new Error(`no kernel ${name} in ${names.join(', ')}`);
        if (!name.startsWith('soft.')) expect(kernel.wgsl, name).toContain('findKeptList(linear)');
        const step = plan.steps.find((s) => s.kind === 'dispatch' && s.kernel === name);
        if (step?.kind !== 'dispatch') throw new Error(`no dispatch of ${name}`);
        const [x, y] = step.workgroups.map((w) => evalSize(w, env));
        // The kept-row bound min(B Hg ceil(Nq / tile), ceil(B Nq min(k, Hg) / tile) + B Hg):
        // with k = Hg = 2 it is the unrouted count (here every group's rows may keep both).
        expect(x! * y!, name).toBe(Math.min(2 * 2 * (4096 / tile), (2 * 4096 * 2) / tile + 4));
      }
      // Key-side kernels are not routed: they still cover every (batch, kv head).
      expect(plan.kernels.find((k) => k.name === 'lin.linear_states')!.wgsl).not.toContain(
        'findKeptList',
      );
    }
  });

  it('launches workgroups for kept rows only in kernelized, low-rank and routed-mask groups', () => {
    const one = (fields: Record<string, unknown>) =>
      routed(
        attention({
          headDim: 16,
          maxSeq: 8192,
          groups: [{ name: 'g', heads: 8, ...fields }],
        }),
        2,
      );
    const cases: [string, CheckedAttention][] = [
      ['g.linear_output', one({ kernel: { kind: 'elu1', span: S }, causal: true })],
      ['g.linear_output', one({ kernel: { kind: 'favor', features: 32, seed: 1, span: S } })],
      ['g.attend-small', one({ lowrank: { kind: 'linformer', rank: 16, span: S } })],
      ['g.attend-small', one({ lowrank: { kind: 'nystrom', landmarks: 8, iters: 6, span: S } })],
      ['g.softmax', one({ mask: m.topk(2, 16) })],
      ['g.softmax', one({ mask: { kind: 'lsh', buckets: 8, seed: 1, span: S } })],
    ];
    for (const [name, spec] of cases) {
      const plan = compileAttention(spec, LLVMPIPE_PROFILE, { verify: true }).plan;
      expect(plan.kernels.map((k) => k.name)).not.toContain('head_routing.scale');
      const step = plan.steps.find((s) => s.kind === 'dispatch' && s.kernel === name);
      if (step?.kind !== 'dispatch') throw new Error(`no dispatch of ${name}`);
      const env = { batch: 1, seqQ: 4096, seqK: 4096 };
      const [x, y] = step.workgroups.map((w) => evalSize(w, env));
      // 2 of 8 heads per row: ceil(4096 * 2 / 64) + 8 = 136 tiles, not 8 * 64 = 512.
      expect(x! * y!, name).toBe(136);
      const unrouted = compileAttention({ ...spec, headRouting: undefined }, LLVMPIPE_PROFILE).plan;
      const plain = unrouted.steps.find((s) => s.kind === 'dispatch' && s.kernel === name);
      if (plain?.kind !== 'dispatch') throw new Error(`no unrouted dispatch of ${name}`);
      expect(plain.workgroups.map((w) => evalSize(w, env)).reduce((p, q) => p * q)).toBe(512);
    }
  });
});

describe('head routing: host plan', () => {
  it('names the router input [B, Nq, H] f32 whatever the layout and dtype', () => {
    for (const spec of [...SPECS, { ...SPECS[0]!, dtype: 'f16' as const }]) {
      const plan = compileAttention(spec, PORTABLE_PROFILE).plan;
      const router = plan.inputs.find((i) => i.name === 'router');
      expect(router).toEqual({
        name: 'router',
        dtype: 'f32',
        storage: 'f32',
        dims: ['B', 'Nq', 'H'],
        shape: ['batch', 'seqQ', spec.heads],
      });
    }
    const plain = compileAttention(attention({ heads: 8 }), PORTABLE_PROFILE).plan;
    expect(plain.inputs.map((i) => i.name)).not.toContain('router');
  });

  it('dispatches select, scan and scatter before the fused kernels', () => {
    const plan = compileAttention(SPECS[1]!, PORTABLE_PROFILE).plan;
    const dispatched = plan.steps.flatMap((s) => (s.kind === 'dispatch' ? [s.kernel] : []));
    expect(dispatched).toEqual([
      'head_routing.select',
      'head_routing.scan',
      'head_routing.scatter',
      'local.softmax',
      'docs.segment_ranges',
      'docs.softmax',
    ]);
  });

  it('launches workgroups for kept rows only', () => {
    const plan = compileAttention(SPECS[0]!, LLVMPIPE_PROFILE).plan;
    const step = plan.steps.find((s) => s.kind === 'dispatch' && s.kernel.endsWith('.softmax'));
    if (step?.kind !== 'dispatch') throw new Error('no softmax dispatch');
    const env = { batch: 1, seqQ: 4096, seqK: 4096 };
    const workgroups = step.workgroups.map((w) => evalSize(w, env));
    // 2 of 8 heads per row: ceil(4096 * 2 / 64) + 8 tiles, not 8 * 64.
    expect(workgroups[0]! * workgroups[1]!).toBe(136);
  });

  it('respects the profile and is deterministic', () => {
    for (const profile of PROFILES) {
      for (const spec of SPECS) {
        const a = compileAttention(spec, profile, { verify: true });
        expect(JSON.stringify(compileAttention(spec, profile))).toBe(JSON.stringify(a));
        for (const kernel of a.plan.kernels) {
          const storage = kernel.bindings.filter((b) => b.type !== 'uniform').length;
          expect(storage).toBeLessThanOrEqual(profile.limits.maxStorageBuffersPerShaderStage);
          expect(kernel.workgroupSize).toBeLessThanOrEqual(
            profile.limits.maxComputeInvocationsPerWorkgroup,
          );
        }
      }
    }
  });
});

describe('run-time inputs across the tool', () => {
  it('the generated module types and documents the router', () => {
    const { modules } = compile(
      'attention moh { heads: 8; head_dim: 64; causal: true; head_routing: top(2) }',
      { target: 'portable' },
    );
    const text = emitTypeScriptModule(modules[0]!, { specFile: 'moh.attn' });
    expect(text).toContain(
      '  /** mixture-of-heads router logits; each query row keeps its top-k heads: [B, Nq, H], f32. */\n' +
        '  readonly router: Float32Array;',
    );
  });

  it('random inputs: spread router logits, unit centroids, E and F scaled by 1/sqrt(Nk)', () => {
    const input = (name: PlanInput['name'], dims: string[], shape: PlanInput['shape']) =>
      ({ name, dtype: 'f32', storage: 'f32', dims, shape }) as PlanInput;
    const module = {
      plan: {
        inputs: [
          input('router', ['B', 'Nq', 'H'], ['batch', 'seqQ', 8]),
          input('centroids', ['Hkv', 'c', 'D'], [2, 4, 16]),
          input('E', ['Hkv', 'r', 'max_seq'], [2, 8, 1024]),
        ],
      },
    } as unknown as CompiledModule;
    const inputs = randomInputs(module, { batch: 2, seqQ: 100, seqK: 400, seed: 1 });
    const router = inputs.router!;
    expect(router.length).toBe(2 * 100 * 8);
    expect(Math.max(...router)).toBeGreaterThan(2.5);
    expect(Math.min(...router)).toBeLessThan(-2.5);
    const centroids = inputs.centroids!;
    for (let r = 0; r < 8; r++) {
      let norm = 0;
      for (let d = 0; d < 16; d++) norm += centroids[r * 16 + d]! ** 2;
      expect(norm).toBeCloseTo(1, 5);
    }
    const E = inputs.E!;
    expect(Math.max(...E.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(400));
    expect(Math.max(...E.map(Math.abs))).toBeGreaterThan(0.9 / Math.sqrt(400));
  });
});
