// The KV-cache stores' kernels in the host plan (src/codegen/cache-kernels.ts,
// codegen/kernels/cache-side-tables.ts), without a GPU: which groups get which store, that
// every kernel verifies on both profiles and names its bindings as the stores bind them, and
// the loop bounds the stores check on llvmpipe. Their results are checked on llvmpipe in
// test/runtime/cache/*.gpu.test.ts.

import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { evalSize, type PlanCacheKernels, type PlanKernel } from '../../src/codegen/plan.js';
import { LLVMPIPE_PROFILE, PORTABLE_PROFILE } from '../../src/target/profile.js';

function storesOf(text: string, profile = LLVMPIPE_PROFILE): readonly PlanCacheKernels[] {
  const result = compile(text, { target: profile });
  const module = result.modules[0];
  if (!module) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  return module.plan.cacheKernels ?? [];
}

const kernelsOf = (store: PlanCacheKernels): PlanKernel[] => Object.values(store.kernels);
const storageBuffers = (k: PlanKernel) =>
  k.bindings.filter((b) => b.type !== 'uniform').map((b) => `${b.buffer}:${b.type}`);

describe('cache kernels in the plan', () => {
  it('a causal kernelized group gets a recurrent state; other groups, none', () => {
    const stores = storesOf(
      'attention mix { head_dim: 8; causal: true; group w { heads: 2; mask: window(left: 3) } ' +
        'group lin { heads: 4; kv_heads: 2; kernel: favor(16, seed: 3) } }',
    );
    expect(stores.map((s) => [s.kind, s.group])).toEqual([['recurrent', 'lin']]);
    const s = stores[0]!;
    if (s.kind !== 'recurrent') throw new Error('not recurrent');
    expect([s.heads, s.kvHeads, s.headOffset, s.kvHeadOffset, s.features]).toEqual([
      4, 2, 2, 2, 16,
    ]);
    expect(s.gaussian).toEqual({ seed: 3, rows: 16, cols: 8 });
    expect(kernelsOf(s).map((k) => [k.name, storageBuffers(k)])).toEqual([
      [
        'lin.cache_stage_keys',
        ['k:read-only-storage', 'v:read-only-storage', 'state:read-only-storage', 'chunk:storage'],
      ],
      ['lin.cache_fold', ['chunk:read-only-storage', 'state:storage']],
      [
        'lin.cache_stage_queries',
        ['q:read-only-storage', 'state:read-only-storage', 'qphi:storage'],
      ],
      [
        'lin.cache_attend',
        [
          'state:read-only-storage',
          'chunk:read-only-storage',
          'qphi:read-only-storage',
          'o:storage',
        ],
      ],
    ]);
    // The attend kernel's loop grows with the chunk, not with the context.
    const attend = s.kernels.attend.loopIterations!;
    expect(evalSize(attend, { batch: 1, seqQ: 1, seqK: 1 })).toBe(36);
    expect(evalSize(attend, { batch: 1, seqQ: 1, seqK: 8 })).toBe(18 + 8 * 18);
  });

  it('none without causal, with head_routing, or for softmax groups without routed terms', () => {
    expect(storesOf('attention a { heads: 2; head_dim: 8; kernel: elu1 }')).toEqual([]);
    expect(
      storesOf(
        'attention a { heads: 4; head_dim: 8; causal: true; kernel: relu; head_routing: top(2) }',
      ),
    ).toEqual([]);
    expect(storesOf('attention a { heads: 2; head_dim: 8; causal: true }')).toEqual([]);
  });

  it('routed terms of a causal group get their side tables, non-causal ones none', () => {
    const stores = storesOf(
      'attention r { heads: 2; head_dim: 8; causal: true; mask: window(left: 4) | topk(2, block: 16) | lsh(buckets: 4, seed: 9) }',
    );
    expect(stores.map((s) => s.kind)).toEqual(['block-means', 'bucket-ids']);
    const [means, buckets] = stores;
    if (means?.kind !== 'block-means' || buckets?.kind !== 'bucket-ids') throw new Error('kinds');
    expect(means.block).toBe(16);
    expect([buckets.routing, buckets.buckets, buckets.projection]).toEqual([
      'lsh',
      4,
      { seed: 9, rows: 8, cols: 2 },
    ]);
    for (const s of stores)
      expect(kernelsOf(s).map(storageBuffers)).toEqual([
        ['k:read-only-storage', 'table:storage'],
        ['table:storage'],
      ]);
    expect(storesOf('attention r { heads: 2; head_dim: 8; mask: topk(2, block: 16) }')).toEqual([]);
  });

  it('a linformer group with max_seq gets projected rows; its loops do not grow with the context', () => {
    const stores = storesOf(
      'attention lf { heads: 4; kv_heads: 2; head_dim: 8; value_dim: 4; max_seq: 100; lowrank: linformer(6) }',
    );
    expect(stores.map((s) => [s.kind, s.group])).toEqual([['projected', 'lf']]);
    const s = stores[0]!;
    if (s.kind !== 'projected') throw new Error('not projected');
    expect([s.heads, s.kvHeads, s.rank, s.maxSeq, s.valueDim]).toEqual([4, 2, 6, 100, 4]);
    // E after the count's 256 bytes, F at the next 256-byte boundary after E's 2 * 6 * 100 words.
    expect(s.ef).toEqual({ e: 64, f: 64 + 1216, words: 64 + 1216 + 1200 });
    expect(kernelsOf(s).map((k) => [k.name, storageBuffers(k)])).toEqual([
      [
        'lf.cache_project',
        ['k:read-only-storage', 'v:read-only-storage', 'ef:read-only-storage', 'partial:storage'],
      ],
      ['lf.cache_reduce', ['partial:read-only-storage', 'rows:storage']],
      ['lf.cache_advance', ['ef:storage']],
      ['lf.cache_attend', ['q:read-only-storage', 'rows:read-only-storage', 'o:storage']],
    ]);
    // The projection walks one chunk of keys, the sum the chunks of one append, the attend r rows.
    const at = (k: PlanKernel, seqK: number) =>
      evalSize(k.loopIterations!, { batch: 1, seqQ: 1, seqK });
    expect(at(s.kernels.project, 1)).toBe(at(s.kernels.project, 100));
    expect(at(s.kernels.reduce, s.chunk + 1)).toBe(at(s.kernels.reduce, 1) + 1);
    expect(at(s.kernels.attend, 1)).toBe(at(s.kernels.attend, 100));
    expect(at(s.kernels.attend, 1)).toBeGreaterThanOrEqual(6);
    expect(s.kernels.project.wgsl).toMatch(/let first = u32\(ef_buf\[0u\]\);/);
  });

  it('no projected rows with head_routing, or past the f32 count (max_seq over 2^24)', () => {
    expect(
      storesOf(
        'attention a { heads: 4; head_dim: 8; max_seq: 64; lowrank: linformer(4); head_routing: top(2) }',
      ),
    ).toEqual([]);
    expect(
      storesOf('attention a { heads: 1; head_dim: 4; max_seq: 16777217; lowrank: linformer(1) }'),
    ).toEqual([]);
  });

  it('every cache kernel verifies on the portable profile too (4 storage bindings at most)', () => {
    for (const text of [
      'attention a { heads: 2; kv_heads: 1; head_dim: 16; dtype: f16; causal: true; kernel: favor(8) }',
      'attention b { heads: 2; head_dim: 8; layout: bnhd; causal: true; mask: cluster(3) | topk(1, block: 4) }',
      'attention c { heads: 4; kv_heads: 2; head_dim: 8; dtype: f16; layout: bnhd; max_seq: 64; lowrank: linformer(4) }',
    ]) {
      const stores = storesOf(text, PORTABLE_PROFILE);
      expect(stores.length).toBeGreaterThan(0);
      for (const s of stores)
        for (const k of kernelsOf(s)) {
          expect(k.bindings.filter((b) => b.type !== 'uniform').length).toBeLessThanOrEqual(4);
          expect(k.wgsl).toMatch(/^\/\/ attnc (cache|low-rank): /);
        }
    }
  });
});
