// The compile option `lse`: an extra output and store, and nothing else. Without it the plan
// has one output and no kernel mentions it (generated/ stays byte-identical); with it, groups
// without a softmax and head routing are refused, naming what.

import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { CORE_PROFILE, type DeviceProfile } from '../../src/target/profile.js';

const SHAPE = 'heads: 4; kv_heads: 2; head_dim: 16';

describe('compile option lse', () => {
  it('adds the [B, H, Nq] f32 output, its own buffer and binding, and a store per kernel', () => {
    for (const target of ['portable', 'llvmpipe', 'core']) {
      for (const mask of ['causal', 'window(4) | random(1, block: 8)', 'topk(2, block: 8)']) {
        const text = `attention t { ${SHAPE}; causal: true; mask: ${mask} }`;
        const plain = compile(text, { target }).modules[0]!;
        const withLse = compile(text, { target, lse: true }).modules[0]!;
        expect(plain.plan.outputs.map((o) => o.name)).toEqual(['o']);
        expect(plain.plan.kernels.some((k) => /lsebuf|lseBase/.test(k.wgsl))).toBe(false);
        expect(withLse.plan.outputs.map((o) => [o.name, o.dims])).toEqual([
          ['o', ['B', 'H', 'Nq', 'Dv']],
          ['lse', ['B', 'H', 'Nq']],
        ]);
        const softmax = withLse.plan.kernels.find((k) => k.name.endsWith('.softmax'))!;
        expect(softmax.bindings.find((b) => b.buffer === 'lse')?.type).toBe('storage');
        expect(softmax.wgsl).toContain('var<storage, read_write> lsebuf: array<f32>;');
        expect(softmax.wgsl).toContain('lsebuf[P.lseBase + (b * TOTAL_HEADS + h) * P.seqQ + i]');
        // The LSE's uniforms last, but for the key-slot uniforms of the kernels that address
        // a KV cache (not the routed ones yet).
        const names = softmax.uniforms.map((u) => u.name);
        const keySlots = names.at(-1) === 'ringSlots' ? 3 : 0;
        expect(names.slice(-2 - keySlots, names.length - keySlots)).toEqual([
          'lseBase',
          'lseEmpty',
        ]);
        // Everything before the LSE store is the kernel without it.
        const cut = (wgsl: string) =>
          wgsl.split('\n').filter((l) => !/lsebuf|lseBase|lseEmpty/.test(l));
        if (target !== 'portable')
          expect(cut(softmax.wgsl)).toEqual(
            cut(plain.plan.kernels.find((k) => k.name === softmax.name)!.wgsl),
          );
      }
    }
  });

  it('stores one LSE per row in the subgroup variant', () => {
    const gpu: DeviceProfile = {
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
    const module = compile(`attention s { ${SHAPE}; causal: true }`, { target: gpu, lse: true })
      .modules[0]!;
    expect(module.ir.groups[0]!.mechanism.plan?.variant).toBe('subgroup');
    expect(module.plan.kernels[0]!.wgsl).toContain(
      'if (x % DVW == 0u) { lsebuf[P.lseBase + (b * TOTAL_HEADS + h) * P.seqQ + i] = ',
    );
  });

  it('is refused for kernelized, low-rank and head-routed attentions, naming what', () => {
    expect(() =>
      compile(
        `attention h { head_dim: 8; causal: true; group a { heads: 2; mask: window(left: 4) } group lin { heads: 2; kernel: elu1 } }`,
        { lse: true },
      ),
    ).toThrow(
      "compile option lse: group 'lin' of 'h' is kernelized (elu1); the log-sum-exp is defined only for softmax groups, whose rows are normalized by a sum over the keys",
    );
    expect(() =>
      compile('attention l { heads: 2; head_dim: 8; max_seq: 16; lowrank: linformer(4) }', {
        lse: true,
      }),
    ).toThrow(/group 'l' of 'l' is low-rank \(linformer\)/);
    expect(() =>
      compile('attention m { heads: 4; head_dim: 8; causal: true; head_routing: top(2) }', {
        lse: true,
      }),
    ).toThrow(
      "compile option lse: 'm' has head_routing, whose kernels walk compacted rows; the LSE output does not support it yet",
    );
  });
});
