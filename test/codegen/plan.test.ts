import { describe, expect, it } from 'vitest';
import { compileAttention } from '../../src/codegen/compile.js';
import { evalSize, size, type SizeEnv } from '../../src/codegen/plan.js';
import {
  CORE_PROFILE,
  LLVMPIPE_PROFILE,
  PORTABLE_PROFILE,
  SWIFTSHADER_PROFILE,
  type DeviceProfile,
} from '../../src/target/profile.js';
import { attention, m } from '../kernels/build.js';

const PROFILES = [PORTABLE_PROFILE, CORE_PROFILE, LLVMPIPE_PROFILE, SWIFTSHADER_PROFILE];
const SPECS = [
  attention({ heads: 8, headDim: 64 }),
  attention({
    heads: 4,
    kvHeads: 1,
    headDim: 256,
    valueDim: 256,
    mask: m.or(m.window(128), m.segment(), m.random(3, 64, 1)),
  }),
  attention({ headDim: 5, valueDim: 7, layout: 'bnhd', mask: m.and(m.blocks(64), m.segment()) }),
];

describe('host plan', () => {
  it('is deterministic byte for byte and JSON-serializable', () => {
    for (const profile of PROFILES) {
      for (const spec of SPECS) {
        const a = JSON.stringify(compileAttention(spec, profile));
        const b = JSON.stringify(compileAttention(spec, profile));
        expect(a).toBe(b);
        expect(JSON.parse(a).plan.version).toBe(1);
      }
    }
  });

  it('respects the profile: storage bindings, workgroup size and workgroup memory', () => {
    for (const profile of PROFILES) {
      for (const spec of SPECS) {
        const { plan, ir } = compileAttention(spec, profile, { verify: true });
        for (const kernel of plan.kernels) {
          const storage = kernel.bindings.filter((b) => b.type !== 'uniform').length;
          expect(storage, `${profile.name} ${kernel.name}`).toBeLessThanOrEqual(
            profile.limits.maxStorageBuffersPerShaderStage,
          );
          expect(kernel.workgroupSize).toBeLessThanOrEqual(
            profile.limits.maxComputeInvocationsPerWorkgroup,
          );
          expect(kernel.wgsl).not.toMatch(/\benable\b/);
        }
        for (const group of ir.groups) {
          const plan = group.mechanism.plan!;
          expect(plan.variant).toBe(profile.cpuLike ? 'rowwise' : 'tiled');
          if (plan.variant === 'tiled') {
            expect(plan.keyTile * (spec.headDim + spec.valueDim) * 4 + 16).toBeLessThanOrEqual(
              profile.limits.maxComputeWorkgroupStorageSize,
            );
          }
        }
      }
    }
  });

  it('never sizes a buffer O(N^2)', () => {
    for (const spec of SPECS) {
      const { plan } = compileAttention(spec, PORTABLE_PROFILE);
      for (const buffer of plan.buffers) {
        const at = (n: number): number => evalSize(buffer.size, { batch: 1, seqQ: n, seqK: n });
        // Linear: doubling N at most doubles the size (plus alignment slack).
        expect(at(1 << 16), buffer.name).toBeLessThanOrEqual(2 * at(1 << 15) + 64);
      }
    }
  });

  it('folds dispatches into two dimensions past maxComputeWorkgroupsPerDimension', () => {
    const tiny: DeviceProfile = {
      ...PORTABLE_PROFILE,
      limits: { ...PORTABLE_PROFILE.limits, maxComputeWorkgroupsPerDimension: 100 },
    };
    const { plan } = compileAttention(attention({ heads: 16 }), tiny);
    const env: SizeEnv = { batch: 4, seqQ: 4096, seqK: 4096 };
    const dispatch = plan.steps.find((s) => s.kind === 'dispatch');
    if (dispatch?.kind !== 'dispatch') throw new Error('no dispatch');
    const [x, y, z] = dispatch.workgroups.map((w) => evalSize(w, env));
    expect(x).toBe(100);
    expect(y).toBe(Math.ceil((4 * 16 * 4096) / 64 / 100));
    expect(z).toBe(1);
  });

  it('packs q, k, v into one binding only when the device has too few', () => {
    const seg = attention({ mask: m.segment() });
    const portable = compileAttention(seg, PORTABLE_PROFILE).plan;
    expect(portable.buffers.map((b) => b.name)).toContain('qkv');
    const llvmpipe = compileAttention(seg, LLVMPIPE_PROFILE).plan;
    expect(llvmpipe.buffers.map((b) => b.name)).toEqual(
      expect.arrayContaining(['q', 'k', 'v', 'o', 'aux']),
    );
    expect(
      compileAttention(attention(), PORTABLE_PROFILE).plan.buffers.map((b) => b.name),
    ).toContain('q');
  });

  it('stores f16 tensors as half-size packed arrays', () => {
    const { plan } = compileAttention(
      { ...attention({ headDim: 8 }), dtype: 'f16' },
      PORTABLE_PROFILE,
    );
    const env: SizeEnv = { batch: 1, seqQ: 10, seqK: 10 };
    expect(plan.inputs[0]).toMatchObject({ name: 'q', dtype: 'f32', storage: 'f16' });
    expect(plan.outputs[0]).toMatchObject({ dtype: 'f32', storage: 'f16' });
    expect(evalSize(plan.arrays.find((a) => a.name === 'q')!.length, env)).toBe(40);
    expect(plan.kernels[0]!.wgsl).toContain('unpack2x16float');
  });

  it('lists the run-time inputs with symbolic shapes', () => {
    const { plan } = compileAttention(
      attention({
        heads: 4,
        kvHeads: 2,
        headDim: 8,
        valueDim: 4,
        layout: 'bnhd',
        mask: m.segment(),
      }),
      PORTABLE_PROFILE,
    );
    expect(plan.inputs).toEqual([
      {
        name: 'q',
        dtype: 'f32',
        storage: 'f32',
        dims: ['B', 'Nq', 'H', 'D'],
        shape: ['batch', 'seqQ', 4, 8],
      },
      {
        name: 'k',
        dtype: 'f32',
        storage: 'f32',
        dims: ['B', 'Nk', 'Hkv', 'D'],
        shape: ['batch', 'seqK', 2, 8],
      },
      {
        name: 'v',
        dtype: 'f32',
        storage: 'f32',
        dims: ['B', 'Nk', 'Hkv', 'Dv'],
        shape: ['batch', 'seqK', 2, 4],
      },
      { name: 'seg_q', dtype: 'u32', storage: 'u32', dims: ['B', 'Nq'], shape: ['batch', 'seqQ'] },
      { name: 'seg_k', dtype: 'u32', storage: 'u32', dims: ['B', 'Nk'], shape: ['batch', 'seqK'] },
    ]);
  });
});

describe('evalSize', () => {
  const env: SizeEnv = { batch: 2, seqQ: 3, seqK: 100 };
  it('evaluates every operator, with any number of arguments', () => {
    expect(evalSize(size.add('seqK', 1, 'batch'), env)).toBe(103);
    expect(evalSize(size.add(), env)).toBe(0);
    expect(evalSize(size.mul('batch', 'seqQ', 4), env)).toBe(24);
    expect(evalSize(size.mul(), env)).toBe(1);
    expect(evalSize(size.sub('seqK', 'seqQ'), env)).toBe(97);
    expect(evalSize(size.min('seqK', 64, size.mul('seqQ', 30)), env)).toBe(64);
    expect(evalSize(size.max(1, size.sub('seqQ', 'seqK')), env)).toBe(1);
    expect(evalSize(size.ceilDiv('seqK', 16), env)).toBe(7);
    expect(evalSize(size.alignUp('seqK', 16), env)).toBe(112);
  });

  it('reads the cache symbols from the env, else their defaults (keys at their own positions)', () => {
    expect(evalSize('kvRows', env)).toBe(100);
    expect(evalSize(size.min('seqK', 'kvRows'), { ...env, kvRows: 40 })).toBe(40);
  });
});
