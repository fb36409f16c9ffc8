// The split-K partial kernel with one invocation per kv head (kernels/decode-split-heads.ts)
// without a GPU: with GQA or MQA an invocation serves every query head of its kv head, reads
// each key's k and v rows once, keeps per-head state, and its loop bound pays the head loop
// per key; without GQA the kernel is the one-head form. Results against the reference:
// test/kernels/decode-split.gpu.test.ts.

import { describe, expect, it } from 'vitest';
import { kvHeadLoopCosts } from '../../../src/codegen/kernels/decode-split-heads.js';
import { compileAttention } from '../../../src/codegen/compile.js';
import { evalSize } from '../../../src/codegen/plan.js';
import { LLVMPIPE_PROFILE } from '../../../src/target/profile.js';
import { attention, m } from '../../kernels/build.js';

function partialOf(heads: number, kvHeads: number, headDim = 64) {
  const a = attention({ heads, kvHeads, headDim, causal: true, mask: m.full() });
  const compiled = compileAttention(a, LLVMPIPE_PROFILE, {});
  const planned = compiled.plan.kernels.find((k) => k.name.endsWith('.decode_partial'))!;
  const ir = compiled.kernels.find((k) => k.name === planned.name)!.ir!;
  return { planned, ir };
}

const at = (seqK: number) => ({ batch: 1, seqQ: 1, seqK, kvRows: seqK });

describe('split-K partial per kv head', () => {
  it('GQA 8/2: one invocation per (batch, kv head, row, split), k and v read once a key', () => {
    const { planned, ir } = partialOf(8, 2);
    const total = ir.uniforms.find((u) => u.name === 'total')!.value;
    // 16K keys: 64 splits of 256 keys, 2 kv heads.
    expect(evalSize(total, at(16_384))).toBe(2 * 64);
    const wgsl = planned.wgsl;
    expect(wgsl.match(/kbuf\[/g)).toHaveLength(1);
    expect(wgsl.match(/vbuf\[/g)).toHaveLength(1);
    expect(wgsl).toContain('for (var d = 0u; d < DW; d++) { krow[d] = kbuf[kRow + d]; }');
    expect(wgsl).toContain('var accs: array<array<vec4<f32>, DVW>, GROUP_SIZE>;');
    expect(wgsl).toContain('let rec = P.partBase + (record0 + g * recordStride) * REC;');
  });

  it('without GQA the partial keeps one head an invocation', () => {
    const { planned, ir } = partialOf(8, 8);
    expect(evalSize(ir.uniforms.find((u) => u.name === 'total')!.value, at(16_384))).toBe(8 * 64);
    expect(planned.wgsl).not.toContain('qrows');
    expect(planned.wgsl).toContain('var qrow: array<vec4<f32>, DW>;');
  });

  it('keeps one head an invocation past 32 vectors of key and value rows (compile time)', () => {
    expect(partialOf(8, 2, 64).planned.wgsl).toContain('qrows');
    const { planned, ir } = partialOf(8, 2, 128);
    expect(planned.wgsl).not.toContain('qrows');
    expect(evalSize(ir.uniforms.find((u) => u.name === 'total')!.value, at(16_384))).toBe(8 * 64);
  });

  it('pays the head loop per key in its bound: GROUP_SIZE + 1 a key, the row loops short', () => {
    expect(kvHeadLoopCosts(4, 64, 64, 4)).toEqual({ perKey: 5, perRow: 2 * 5 + 4 * 2 });
    // head_dim 256: 64 vectors a row; per key still short loops, per row paid.
    expect(kvHeadLoopCosts(16, 256, 256, 4)).toEqual({
      perKey: 17,
      perRow: 2 * 17 + 16 * (65 + 2 * 65 + 2),
    });
    // A split of 256 keys (4 tiles of 64): 4 + 256 * (1 + 5) + 18.
    const bound = partialOf(8, 2).planned.loopIterations!;
    expect(evalSize(bound, at(65_536))).toBe(4 + 256 * 6 + 18);
    expect(evalSize(partialOf(8, 8).planned.loopIterations!, at(65_536))).toBe(262);
  });
});
