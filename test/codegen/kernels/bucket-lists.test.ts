// The cluster / lsh bucket counts and lists kernels (kernels/bucket-lists.ts) without a GPU:
// both are IR kernels that verify, bind only aux, run in chunks of keys (bounds that stay at
// one chunk's walk whatever seqK), dispatch counts before lists, and the counts array is laid
// out in aux. Their results against the reference: test/kernels/routing.gpu.test.ts and
// loop-budget.gpu.test.ts (cluster past 32,766 keys).

import { describe, expect, it } from 'vitest';
import { BUCKET_CHUNK } from '../../../src/codegen/kernels/bucket-lists.js';
import { compileAttention } from '../../../src/codegen/compile.js';
import { evalSize } from '../../../src/codegen/plan.js';
import { printSize } from '../../../src/kernel/print.js';
import { verifyKernel } from '../../../src/kernel/verify.js';
import { LLVMPIPE_PROFILE } from '../../../src/target/profile.js';
import { attention } from '../../kernels/build.js';
import { r } from '../../kernels/routing-cases.js';

const cluster = attention({ mask: r.cluster(4), heads: 4, kvHeads: 2 });
const compiled = compileAttention(cluster, LLVMPIPE_PROFILE, {});
const named = (suffix: string) => {
  const planned = compiled.plan.kernels.find((k) => k.name.endsWith(suffix))!;
  const ir = compiled.kernels.find((k) => k.name === planned.name)!.ir!;
  return { planned, ir };
};
const sizes = (seqK: number) => ({ batch: 2, seqQ: 1, seqK });

describe('bucket counts and lists', () => {
  it('are IR kernels that verify and bind only aux', () => {
    for (const suffix of ['.bucket_counts', '.bucket_lists']) {
      const { planned, ir } = named(suffix);
      expect(verifyKernel(ir, LLVMPIPE_PROFILE.limits)).toEqual([]);
      expect(planned.bindings.map((b) => b.buffer)).toEqual([`params.${planned.name}`, 'aux']);
      expect(planned.wgsl).toContain(`const CHUNK: u32 = ${BUCKET_CHUNK}u;`);
    }
  });

  it('walk one chunk of keys an invocation, so their bounds stay small at any seqK', () => {
    const counts = named('.bucket_counts').planned.loopIterations!;
    const lists = named('.bucket_lists').planned.loopIterations!;
    expect(printSize(counts)).toBe('min(seqK, 4096) + 1');
    expect(evalSize(counts, sizes(100))).toBe(101);
    expect(evalSize(counts, sizes(1 << 20))).toBe(4097);
    // The lists add the chunks' counts: 256 chunks at 2^20 keys.
    expect(evalSize(lists, sizes(1 << 20))).toBe(256 + 1 + 4097);
    expect(evalSize(lists, sizes(100))).toBe(1 + 1 + 101);
  });

  it('dispatch one invocation per (batch, kv head, chunk, bucket), counts before lists', () => {
    const total = (suffix: string) =>
      named(suffix).ir.uniforms.find((u) => u.name === 'total')!.value;
    // batch 2, 2 kv heads, 3 chunks of 4,096 keys at 10,000 keys, 4 buckets.
    for (const suffix of ['.bucket_counts', '.bucket_lists'])
      expect(evalSize(total(suffix), sizes(10_000))).toBe(2 * 2 * 3 * 4);
    const dispatched = compiled.plan.steps.flatMap((s) =>
      s.kind === 'dispatch' ? [s.kernel] : [],
    );
    expect(dispatched.indexOf('attn.cluster0.bucket_counts')).toBeGreaterThan(
      dispatched.indexOf('attn.cluster0.key_buckets'),
    );
    expect(dispatched.indexOf('attn.cluster0.bucket_lists')).toBe(
      dispatched.indexOf('attn.cluster0.bucket_counts') + 1,
    );
  });

  it('lay out the counts in aux: (less, equal) per (batch, kv head, chunk, bucket)', () => {
    const counts = compiled.plan.arrays.find((a) => a.name === 'attn.cluster0.counts')!;
    expect(counts.buffer).toBe('aux');
    expect(evalSize(counts.length, sizes(10_000))).toBe(2 * 2 * 3 * 4 * 2);
  });
});
