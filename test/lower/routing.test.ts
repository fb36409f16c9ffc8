// Data-dependent masks (topk, cluster, lsh) without a GPU: lowering (causal scope of topk),
// printer, verifier, passes, key sources, the host plan (route kernels, centroids, LSH's R)
// and the WGSL (profile limits, determinism).

import { describe, expect, it } from 'vitest';
import { compileAttention } from '../../src/codegen/compile.js';
import { keySources } from '../../src/codegen/routing/key-source.js';
import type { Mask } from '../../src/ir/ir.js';
import { printAttention } from '../../src/ir/print.js';
import { verifyAttention } from '../../src/ir/verify.js';
import { lowerAttention } from '../../src/lower/lower.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';
import { attention, m } from '../kernels/build.js';
import { r } from '../kernels/routing-cases.js';

function lowered(a: ReturnType<typeof attention>) {
  const result = lowerAttention(a);
  if (!result.ok) throw new Error(JSON.stringify(result.unsupported));
  return result.attention;
}

function routedLeaves(mask: Mask): Mask[] {
  if (mask.kind === 'union' || mask.kind === 'intersect') return mask.terms.flatMap(routedLeaves);
  return mask.kind === 'routed' ? [mask] : [];
}

const mechanismMask = (a: ReturnType<typeof lowered>) =>
  (a.groups[0]!.mechanism as { mask: Mask }).mask;

describe('lowering of routed masks', () => {
  it('lowers topk, cluster and lsh to routed leaves', () => {
    const ir = lowered(attention({ mask: m.or(r.topk(2, 16), r.cluster(4), r.lsh(8, 3)) }));
    expect(verifyAttention(ir, 'lower')).toEqual([]);
    expect(
      routedLeaves(mechanismMask(ir)).map((l) => (l.kind === 'routed' ? l.routing : null)),
    ).toEqual([
      { kind: 'topk', k: 2, block: 16, causal: false },
      { kind: 'cluster', count: 4 },
      { kind: 'lsh', buckets: 8, seed: 3 },
    ]);
  });

  it('marks topk causal under causal: true and under an intersection with causal', () => {
    const causalFlag = (a: ReturnType<typeof attention>) =>
      routedLeaves(mechanismMask(lowered(a))).map((l) =>
        l.kind === 'routed' && l.routing.kind === 'topk' ? l.routing.causal : null,
      );
    expect(causalFlag(attention({ mask: r.topk(2, 16), causal: true }))).toEqual([true]);
    expect(causalFlag(attention({ mask: m.and(m.causal(), r.topk(2, 16)) }))).toEqual([true]);
    expect(
      causalFlag(attention({ mask: m.and(m.causal(), m.or(m.window(2), r.topk(2, 16))) })),
    ).toEqual([true]);
    expect(causalFlag(attention({ mask: m.or(m.causal(), r.topk(2, 16)) }))).toEqual([false]);
    expect(causalFlag(attention({ mask: m.and(m.window(4, 0), r.topk(2, 16)) }))).toEqual([false]);
  });

  it('lowers f16 and combinations with random and segment (no longer E600)', () => {
    const f16 = lowerAttention({ ...attention({ mask: r.cluster(4) }), dtype: 'f16' });
    expect(f16.ok).toBe(true);
    const seg = lowerAttention(attention({ mask: m.and(m.segment(), r.lsh(4, 1)) }));
    expect(seg.ok).toBe(true);
    const rnd = lowerAttention(attention({ mask: m.or(r.topk(4, 64), m.random(2, 64, 1)) }));
    expect(rnd.ok).toBe(true);
  });

  it('still reports dtype f16 with head_dim not a multiple of 4', () => {
    const odd = lowerAttention({ ...attention({ mask: r.topk(2, 16), headDim: 6 }), dtype: 'f16' });
    expect(odd.ok ? [] : odd.unsupported.map((u) => u.feature)).toEqual(['dtype']);
  });
});

describe('routed masks through the passes', () => {
  it('prints, plans and fuses a route step before the fused step', () => {
    const ir = runPipeline(
      lowered(attention({ mask: m.or(m.window(8), r.topk(2, 16)), causal: true })),
      { profile: PORTABLE_PROFILE },
      { verify: true },
    );
    const text = printAttention(ir);
    expect(text).toContain('topk(2, block: 16, causal)');
    expect(text).toContain('routing attn.topk0');
    expect(text).toMatch(/0: route k -> attn\.topk0\n.*1: fused-softmax/);
    expect(verifyAttention(ir, 'fuse-softmax')).toEqual([]);
  });

  it('canonicalize keeps a routed leaf and dedups identical ones', () => {
    const ir = runPipeline(
      lowered(attention({ mask: m.or(r.cluster(4), r.cluster(4), m.window(2)) })),
      { profile: PORTABLE_PROFILE },
      { after: 'canonicalize-mask' },
    );
    expect(routedLeaves(mechanismMask(ir))).toHaveLength(1);
  });

  it('verifier rejects a bad routed leaf', () => {
    const ir = lowered(attention({ mask: r.lsh(4, 1) }));
    const bad = {
      ...ir,
      groups: ir.groups.map((g) => ({
        ...g,
        mechanism: {
          ...g.mechanism,
          mask: { kind: 'routed', routing: { kind: 'lsh', buckets: 3, seed: 1 }, span: g.span },
        },
      })),
    } as typeof ir;
    expect(verifyAttention(bad, 'lower').join('\n')).toMatch(/bad lsh/);
  });
});

describe('key sources of a routed mask', () => {
  const S = { start: 0, end: 0 };
  const topk: Mask = {
    kind: 'routed',
    routing: { kind: 'topk', k: 1, block: 4, causal: false },
    span: S,
  };
  const cl: Mask = { kind: 'routed', routing: { kind: 'cluster', count: 2 }, span: S };
  const band: Mask = { kind: 'band', lo: -2, hi: 2, span: S };
  const sink: Mask = { kind: 'sink', count: 1, span: S };
  it('union: static terms merged into one range first, then each routed leaf', () => {
    const sources = keySources({ kind: 'union', terms: [topk, band, cl, sink], span: S });
    expect(sources.map((s) => s.kind)).toEqual(['range', 'routed', 'routed']);
    expect(sources[0]!.kind === 'range' && sources[0]!.mask.kind).toBe('union');
  });
  it('intersection: a routed term alone', () => {
    expect(keySources({ kind: 'intersect', terms: [band, cl], span: S })).toEqual([
      { kind: 'routed', leaf: cl },
    ]);
  });

  const random: Mask = { kind: 'random', count: 2, block: 4, seed: 1, span: S };
  const segment: Mask = { kind: 'segment', span: S };
  it('union: a random term is a source of its own (its drawn blocks), not the whole range', () => {
    const sources = keySources({ kind: 'union', terms: [topk, random, band], span: S });
    expect(sources).toEqual([
      { kind: 'range', mask: band },
      { kind: 'routed', leaf: topk },
      { kind: 'random', leaf: random },
    ]);
  });
  it('intersection: segment only filters; a random term of a static intersection is its source', () => {
    expect(keySources({ kind: 'intersect', terms: [segment, cl], span: S })).toEqual([
      { kind: 'routed', leaf: cl },
    ]);
    const causal: Mask = { kind: 'band', lo: null, hi: 0, span: S };
    const inner: Mask = { kind: 'intersect', terms: [random, causal], span: S };
    expect(keySources({ kind: 'union', terms: [topk, inner], span: S })).toEqual([
      { kind: 'routed', leaf: topk },
      { kind: 'random', leaf: random },
    ]);
  });
});

describe('host plan and WGSL of routed masks', () => {
  const cases = {
    topk: attention({ mask: m.or(m.window(8), r.topk(2, 16)), heads: 4, kvHeads: 2 }),
    cluster: attention({ mask: m.or(m.window(8, 0), r.cluster(4)), causal: true }),
    lsh: attention({ mask: r.lsh(8, 7), layout: 'bnhd' }),
    f16: { ...attention({ mask: m.or(r.topk(2, 16), r.cluster(4)) }), dtype: 'f16' as const },
    random: attention({ mask: m.and(m.or(r.topk(2, 16), m.random(2, 16, 1)), m.segment()) }),
  };

  it('f16: route kernels and the routed kernel read packed halves', () => {
    const { plan } = compileAttention(cases.f16, PORTABLE_PROFILE, { verify: true });
    for (const name of ['attn.topk0.means', 'attn.cluster1.key_buckets', 'attn.softmax']) {
      const kernel = plan.kernels.find((k) => k.name === name);
      expect(kernel?.wgsl, name).toMatch(/unpack2x16float/);
    }
    expect(plan.kernels.find((k) => k.name === 'attn.softmax')?.wgsl).toMatch(/pack2x16float/);
    expect(plan.features ?? []).toEqual([]);
  });

  it('random and segment: their tables in aux, read by the routed kernel', () => {
    const { plan } = compileAttention(cases.random, PORTABLE_PROFILE, { verify: true });
    expect(plan.steps.some((s) => s.kind === 'fill-random-blocks')).toBe(true);
    expect(plan.inputs.map((i) => i.name)).toEqual(['q', 'k', 'v', 'seg_q', 'seg_k']);
    const softmax = plan.kernels.find((k) => k.name === 'attn.softmax')!;
    expect(softmax.uniforms.map((u) => u.name)).toEqual(
      expect.arrayContaining(['segQBase', 'segKBase', 'random0Base', 'random0PerBlock']),
    );
    expect(softmax.wgsl).toMatch(/source \d: random leaf 0/);
  });

  it('topk: block means kernel, then the routed kernel (and its split-K decode pair); no N x N array', () => {
    const { plan } = compileAttention(cases.topk, PORTABLE_PROFILE, { verify: true });
    expect(plan.kernels.map((k) => k.name)).toEqual([
      'attn.topk0.means',
      'attn.softmax',
      'attn.decode_partial',
      'attn.decode_merge',
    ]);
    const json = JSON.stringify(plan.arrays);
    expect(json).not.toMatch(/"seqQ","seqK"|"seqK","seqQ"/);
  });

  it('cluster: centroids input [Hkv, c, D], key buckets and bucket lists', () => {
    const { plan } = compileAttention(cases.cluster, PORTABLE_PROFILE, { verify: true });
    expect(plan.inputs.find((i) => i.name === 'centroids')).toMatchObject({
      dims: ['Hkv', 'c', 'D'],
      shape: [1, 4, 16],
    });
    expect(plan.kernels.map((k) => k.name)).toEqual([
      'attn.cluster0.key_buckets',
      'attn.cluster0.bucket_counts',
      'attn.cluster0.bucket_lists',
      'attn.softmax',
      'attn.decode_partial',
      'attn.decode_merge',
    ]);
  });

  it('lsh: R drawn on the host by fill-gaussian', () => {
    const { plan } = compileAttention(cases.lsh, PORTABLE_PROFILE, { verify: true });
    expect(plan.steps.find((s) => s.kind === 'fill-gaussian')).toMatchObject({
      seed: 7,
      rows: 16,
      cols: 4,
    });
  });

  it('respects the portable profile and is deterministic', () => {
    for (const a of Object.values(cases)) {
      const one = compileAttention(a, PORTABLE_PROFILE);
      const two = compileAttention(a, PORTABLE_PROFILE);
      expect(JSON.stringify(one.plan)).toBe(JSON.stringify(two.plan));
      for (const kernel of one.plan.kernels) {
        const storage = kernel.bindings.filter((b) => b.type !== 'uniform').length;
        expect(storage).toBeLessThanOrEqual(
          PORTABLE_PROFILE.limits.maxStorageBuffersPerShaderStage,
        );
        expect(kernel.workgroupSize).toBeLessThanOrEqual(
          PORTABLE_PROFILE.limits.maxComputeInvocationsPerWorkgroup,
        );
        expect(kernel.wgsl).not.toMatch(/var<workgroup>/);
      }
    }
  });
});
