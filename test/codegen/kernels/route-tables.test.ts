// The route kernels and the head-routing kernels on the kernel IR, without a GPU: every one
// is built as IR (no template left), verifies against the profile, reads k through the codec
// and layout the attention asks for, and carries its loop bound into the plan. Their results
// are checked against the reference on llvmpipe (test/kernels/routing.gpu.test.ts,
// head-routing.gpu.test.ts); their WGSL is pinned by generated/ and the goldens.

import { describe, expect, it } from 'vitest';
import type { CheckedAttention } from '../../../src/check/checked.js';
import { compileAttention } from '../../../src/codegen/compile.js';
import { printSize } from '../../../src/kernel/print.js';
import { renderKernel } from '../../../src/kernel/render-wgsl.js';
import { verifyKernel } from '../../../src/kernel/verify.js';
import { LLVMPIPE_PROFILE, PORTABLE_PROFILE } from '../../../src/target/profile.js';
import { asF16, attention, m } from '../../kernels/build.js';
import { r } from '../../kernels/routing-cases.js';

const S = { start: 0, end: 0 };

function kernelsOf(a: CheckedAttention, profile = LLVMPIPE_PROFILE) {
  const compiled = compileAttention(a, profile, {});
  return compiled.kernels.map((k) => {
    const planned = compiled.plan.kernels.find((p) => p.name === k.name)!;
    return { ...k, planned };
  });
}

const routeKernels = (a: CheckedAttention, profile = LLVMPIPE_PROFILE) =>
  kernelsOf(a, profile).filter((k) =>
    /\.(means|key_buckets|bucket_counts|bucket_lists)$/.test(k.name),
  );

describe('route kernels on the kernel IR', () => {
  const cases: [string, CheckedAttention][] = [
    ['topk', attention({ mask: m.topk(2, 16), heads: 4, kvHeads: 2 })],
    ['cluster bnhd', attention({ mask: r.cluster(4), layout: 'bnhd' })],
    ['lsh f16', asF16(attention({ mask: r.lsh(8, 3), headDim: 16 }))],
  ];
  for (const [name, a] of cases)
    for (const profile of [LLVMPIPE_PROFILE, PORTABLE_PROFILE])
      it(`${name} on ${profile.name}: built as IR, verified, rendered as planned`, () => {
        const kernels = routeKernels(a, profile);
        expect(kernels.length).toBe(name === 'topk' ? 1 : 3);
        for (const k of kernels) {
          expect(k.ir).not.toBeNull();
          expect(verifyKernel(k.ir!, profile.limits)).toEqual([]);
          expect(k.planned.wgsl).toBe(renderKernel(k.ir!));
        }
      });

  it('reads k through its layout and codec', () => {
    const [bnhd] = routeKernels(attention({ mask: r.cluster(4), layout: 'bnhd' }));
    expect(bnhd!.planned.wgsl).toContain(
      's += kbuf[P.kBase + ((b * P.kvRows + slot) * TOTAL_KV_HEADS + hk) * D + d] * bitcast<f32>(aux[mu + d]);',
    );
    const [f16] = routeKernels(asF16(attention({ mask: r.lsh(8, 3) })));
    const element = '((b * TOTAL_KV_HEADS + hk) * P.kvRows + slot) * D + d';
    expect(f16!.planned.wgsl).toContain(
      `unpack2x16float(kbuf[P.kBase + (${element}) / 2u])[(${element}) & 1u]`,
    );
    expect(f16!.planned.wgsl).toContain('var<storage, read> kbuf: array<u32>;');
  });

  it('binds k, or the packed q/k/v buffer where the profile has too few bindings', () => {
    const a = attention({ mask: m.topk(2, 16) });
    const buffers = (profile = LLVMPIPE_PROFILE) =>
      routeKernels(a, profile)[0]!.planned.bindings.map((b) => b.buffer);
    expect(buffers()).toEqual(['params.attn.topk0.means', 'k', 'aux']);
    const fewBindings = {
      ...PORTABLE_PROFILE,
      limits: { ...PORTABLE_PROFILE.limits, maxStorageBuffersPerShaderStage: 4 },
    };
    expect(buffers(fewBindings)).toEqual(['params.attn.topk0.means', 'qkv', 'aux']);
  });

  it('declares constants, bindings and Params without blank lines (compact layout)', () => {
    const [means] = routeKernels(attention({ mask: m.topk(2, 16) }));
    expect(means!.planned.wgsl).toContain(
      'const TOTAL_KV_HEADS: u32 = 1u;\n@group(0) @binding(1) var<storage, read> kbuf: array<f32>;\n' +
        '@group(0) @binding(2) var<storage, read_write> aux: array<u32>;\nstruct Params {',
    );
  });

  it('the bucket counts and lists kernels bind no k and walk one chunk of keys each', () => {
    const [, counts, lists] = routeKernels(attention({ mask: r.cluster(4) }));
    for (const [kernel, name] of [
      [counts, 'bucket_counts'],
      [lists, 'bucket_lists'],
    ] as const) {
      expect(kernel!.planned.wgsl).not.toContain('kbuf');
      expect(kernel!.planned.bindings.map((b) => b.buffer)).toEqual([
        `params.attn.cluster0.${name}`,
        'aux',
      ]);
      expect(kernel!.planned.loopIterations).toEqual(kernel!.ir!.loopIterations);
    }
    expect(printSize(counts!.ir!.loopIterations!)).toBe('min(seqK, 4096) + 1');
    expect(printSize(lists!.ir!.loopIterations!)).toBe(
      'ceilDiv(min(seqK, kvRows), 4096) + 1 + min(seqK, 4096) + 1',
    );
  });
});

describe('head-routing kernels on the kernel IR', () => {
  const routed = (a: CheckedAttention, k: number): CheckedAttention => ({
    ...a,
    headRouting: { k, span: S },
  });
  const headRouting = (a: CheckedAttention) =>
    kernelsOf(a).filter((k) => k.name.startsWith('head_routing.'));

  it('select, scan and scatter are IR kernels that verify, with their loop bounds', () => {
    const kernels = headRouting(routed(attention({ heads: 4, headDim: 16 }), 2));
    expect(kernels.map((k) => k.name)).toEqual([
      'head_routing.select',
      'head_routing.scan',
      'head_routing.scatter',
    ]);
    for (const k of kernels) {
      expect(verifyKernel(k.ir!, LLVMPIPE_PROFILE.limits)).toEqual([]);
      expect(k.planned.wgsl).toBe(renderKernel(k.ir!));
      expect(k.planned.loopIterations).toBeDefined();
      expect(k.planned.loopIterations).toEqual(k.ir!.loopIterations);
    }
  });

  it('scan is one workgroup: main takes only lid and decodes no grid', () => {
    const [, scan] = headRouting(routed(attention({ heads: 4, headDim: 16 }), 2));
    const wgsl = scan!.planned.wgsl;
    expect(wgsl).toContain('fn main(@builtin(local_invocation_index) lid: u32) {\n');
    expect(wgsl).not.toContain('wid');
    expect(wgsl).toContain('  storageBarrier();\n  if (lid == 0u) {');
    expect(scan!.ir!.grid.kind).toBe('single-workgroup');
  });

  it('scatter zeroes dropped rows of o in its layout', () => {
    const [, , bhnd] = headRouting(routed(attention({ heads: 4, headDim: 16 }), 2));
    expect(bhnd!.planned.wgsl).toContain('let oRow = P.oBase + ((b * H + h) * P.seqQ + i) * OW;');
    const [, , bnhd] = headRouting(routed(attention({ heads: 4, headDim: 16, layout: 'bnhd' }), 2));
    expect(bnhd!.planned.wgsl).toContain('let oRow = P.oBase + ((b * P.seqQ + i) * H + h) * OW;');
  });
});
