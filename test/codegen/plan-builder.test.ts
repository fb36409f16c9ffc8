// The one host-plan builder every family uses: the binder numbers buffers in first-use order
// (q, k and v sharing `qkv` take one binding), the dispatcher folds past the device's
// per-dimension limit, the layout aligns arrays to 16 bytes, and the target choices come from
// the profile. That every family's plans are unchanged by it is pinned by generated/.

import { describe, expect, it } from 'vitest';
import { evalSize } from '../../src/codegen/plan.js';
import { bindBuffers, Layout, PlanBuilder, planTarget } from '../../src/codegen/plan-builder.js';
import { KernelBuilder, T } from '../../src/kernel/build.js';
import { LLVMPIPE_PROFILE, PORTABLE_PROFILE } from '../../src/target/profile.js';

describe('plan builder', () => {
  it('binds each buffer once, in first-use order, writable where some use writes', () => {
    const bound = bindBuffers([
      { buffer: 'qkv', write: false },
      { buffer: 'qkv', write: false },
      { buffer: 'linear', write: false },
      { buffer: 'o', write: true },
      { buffer: 'qkv', write: false },
    ]);
    expect(bound.plan).toEqual([
      { binding: 1, buffer: 'qkv', type: 'read-only-storage' },
      { binding: 2, buffer: 'linear', type: 'read-only-storage' },
      { binding: 3, buffer: 'o', type: 'storage' },
    ]);
    expect(bound.of('o')).toEqual({ name: 'obuf', binding: 3 });
    expect(bound.has('aux')).toBe(false);
    expect(() => bound.of('aux')).toThrow(/buffer aux is not bound/);
    const named = bindBuffers([{ buffer: 'lowrank', write: true }], (b) => `${b}_buf`);
    expect(named.of('lowrank')).toEqual({ name: 'lowrank_buf', binding: 1 });
  });

  it('packs q, k and v into one buffer only past the profile storage-binding limit', () => {
    const limit = PORTABLE_PROFILE.limits.maxStorageBuffersPerShaderStage;
    expect(planTarget(PORTABLE_PROFILE, limit).packQkv).toBe(false);
    expect(planTarget(PORTABLE_PROFILE, limit + 1).packQkv).toBe(true);
    expect(planTarget(LLVMPIPE_PROFILE, 5).maxWorkgroupsPerDimension).toBe(
      LLVMPIPE_PROFILE.limits.maxComputeWorkgroupsPerDimension,
    );
  });

  it('folds a dispatch past the per-dimension limit into a second dimension', () => {
    const plan = new PlanBuilder(planTarget(PORTABLE_PROFILE, 4));
    const k = new KernelBuilder(64);
    k.uniform('total', { op: 'mul', args: ['batch', 'seqQ'] });
    k.storage(1, 'out', 'read_write', T.u32);
    k.gridIndex('invocation', 'x', 'total');
    k.main((b) => b.store('out', 'x', 'x'));
    const kernel = k.build();
    plan.run('k', kernel, [{ binding: 1, buffer: 'out', type: 'storage' }], 'invocations');
    expect(plan.steps.map((s) => s.kind)).toEqual(['write-uniforms', 'dispatch']);
    const dispatch = plan.steps[1]!;
    if (dispatch.kind !== 'dispatch') throw new Error('not a dispatch');
    const max = PORTABLE_PROFILE.limits.maxComputeWorkgroupsPerDimension;
    const env = { batch: 1, seqQ: 64 * (max + 5), seqK: 1 };
    expect(dispatch.workgroups.map((w) => evalSize(w, env))).toEqual([max, 2, 1]);
    expect(plan.kernels[0]!.bindings[0]).toEqual({
      binding: 0,
      buffer: 'params.k',
      type: 'uniform',
    });
    expect(plan.compiled).toEqual([{ name: 'k', ir: kernel }]);
  });

  it('lays arrays out 16-byte aligned, f16 elements two per word', () => {
    const layout = new Layout();
    layout.buffer('aux');
    expect(layout.add('a', 'aux', 5, 'u32')).toBe(0);
    const b = layout.add('b', 'aux', 6, 'f16');
    expect(evalSize(b, { batch: 1, seqQ: 1, seqK: 1 })).toBe(8);
    expect(layout.offsetOf('b')).toBe(b);
    expect(() => layout.offsetOf('c')).toThrow(/array c missing/);
    expect(() => layout.add('d', 'nowhere', 1, 'u32')).toThrow(/unknown buffer nowhere/);
    const [aux] = layout.finish();
    expect(evalSize(aux!.size, { batch: 1, seqQ: 1, seqK: 1 })).toBe(48);
  });
});
