// How many splits the split-K decode kernels cut a step's keys into (wgsl/decode-splits.ts),
// without a GPU: 256 keys a split on long contexts, and a short step cut finer (splits of at
// least 64 keys) until the partial kernel has 32 invocations, so a step under 4K keys spreads
// over a CPU's threads and fills llvmpipe's SIMD lanes; the merge reads as many records as
// the partial writes, and the scratch holds them all. Results against the reference:
// test/kernels/decode-split.gpu.test.ts and test/runtime/cache/kv-cache.gpu.test.ts.

import { describe, expect, it } from 'vitest';
import { compileAttention } from '../../../src/codegen/compile.js';
import { evalSize, type SizeEnv } from '../../../src/codegen/plan.js';
import { LLVMPIPE_PROFILE } from '../../../src/target/profile.js';
import { attention, m } from '../../kernels/build.js';

function decodeOf(heads: number, kvHeads: number) {
  const a = attention({ heads, kvHeads, headDim: 64, causal: true, mask: m.full() });
  const compiled = compileAttention(a, LLVMPIPE_PROFILE, {});
  const irOf = (kernel: string) => compiled.kernels.find((k) => k.name.endsWith(`.${kernel}`))!.ir!;
  const uniform = (kernel: string, name: string) =>
    irOf(kernel).uniforms.find((u) => u.name === name)!.value;
  const partialWgsl = compiled.plan.kernels.find((k) => k.name.endsWith('.decode_partial'))!.wgsl;
  const part = compiled.plan.arrays.find((x) => x.name.endsWith('.part'))!;
  return {
    keyTile: Number(/const TK: u32 = (\d+)u;/.exec(partialWgsl)![1]),
    splits: (sizes: SizeEnv) => evalSize(uniform('decode_partial', 'splits'), sizes),
    mergeSplits: (sizes: SizeEnv) => evalSize(uniform('decode_merge', 'splits'), sizes),
    tilesPerSplit: (sizes: SizeEnv) => evalSize(uniform('decode_partial', 'tilesPerSplit'), sizes),
    partWords: (sizes: SizeEnv) => evalSize(part.length, sizes),
  };
}

const at = (seqK: number, batch = 1, seqQ = 1, kvRows = seqK) => ({ batch, seqQ, seqK, kvRows });

describe('split-K decode split count', () => {
  it('GQA 8/2 (an invocation per kv head): splits of 64 keys up to 32 invocations, then 256', () => {
    const { splits } = decodeOf(8, 2);
    const counts = [1, 64, 65, 256, 1024, 2048, 4096, 8192, 16_384, 65_536, 1 << 20].map((n) =>
      splits(at(n)),
    );
    // 1K: 16 splits x 2 kv heads (4 workgroups of 8 on llvmpipe) where 256-key splits gave 4.
    expect(counts).toEqual([1, 1, 2, 4, 16, 16, 16, 32, 64, 256, 256]);
  });

  it('counts the invocations of every batch entry, row and query head', () => {
    const gqa = decodeOf(8, 2);
    // batch 8: 16 invocations a split, so 2 fill 32; never fewer than 256 keys a split gives.
    expect(gqa.splits(at(1024, 8))).toBe(4);
    expect(gqa.splits(at(256, 8))).toBe(2);
    expect(gqa.splits(at(16_384, 8))).toBe(64);
    // 16 query rows: 32 invocations a split.
    expect(gqa.splits(at(1024, 1, 16))).toBe(4);
    expect(gqa.splits(at(1024, 1, 2))).toBe(8);
    // Without GQA an invocation per query head: 8 a split.
    expect(decodeOf(8, 8).splits(at(1024))).toBe(4);
    expect(decodeOf(8, 8).splits(at(256))).toBe(4);
  });

  it('cuts a ring by its rows, not its absolute length', () => {
    // 1040 rows of a window at position 100,000: 16 splits (32 invocations) of 65 keys.
    expect(decodeOf(8, 2).splits(at(100_000, 1, 1, 1040))).toBe(16);
  });

  it('merges as many records as the partial writes, and the scratch holds them all', () => {
    const d = decodeOf(8, 2);
    for (const sizes of [at(65), at(1000), at(3000), at(16_384), at(1024, 3, 4)]) {
      const splits = d.splits(sizes);
      expect(d.mergeSplits(sizes)).toBe(splits);
      // A record per (batch, query head, row, split): DV floats, then m and l in a vec4.
      expect(d.partWords(sizes)).toBe(sizes.batch * 8 * sizes.seqQ * splits * (64 + 4));
    }
  });

  it('walks at least 48 keys a split: the 64-key floor, less the rounding to whole tiles', () => {
    const d = decodeOf(8, 2);
    for (let n = 1; n <= 8300; n += 7) {
      expect(d.splits(at(n)), `seqK ${n}`).toBeLessThanOrEqual(Math.ceil(n / 64));
      const keys = d.tilesPerSplit(at(n)) * d.keyTile;
      expect(keys, `seqK ${n}`).toBeGreaterThanOrEqual(Math.min(48, n));
    }
  });
});
