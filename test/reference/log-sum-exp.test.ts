// The reference's log-sum-exp of each query row, and merging outputs over disjoint key sets by
// it: by hand, rows without an allowed key, the two cascade uses (a decode row whose keys are
// split in two, and a shared prefix attended without a mask next to a causal suffix) in both
// layouts, and the clear refusal for groups without a softmax.

import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import {
  mergeByLse,
  referenceAttention,
  referenceAttentionWithLse,
  type ReferenceInputs,
} from '../../src/reference/index.js';
import { expectClose, single } from './build.js';

const k3 = Float32Array.from([1, 0, 0, 1, 0, 0]);
const v3 = Float32Array.from([1, 0, 0, 1, 1, 1]);
const q3 = Float32Array.from([0, 0, Math.log(2), 0, 0, Math.log(3)]);
const tiny: ReferenceInputs = { q: q3, k: k3, v: v3, batch: 1, seqQ: 3, seqK: 3 };

function attentionOf(text: string) {
  const result = compile(text);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.modules[0]!;
}

/** Keys [from, to) of a k or v tensor `[B, Hkv, Nk, W]` (bhnd) or `[B, Nk, Hkv, W]` (bnhd). */
function keyRange(
  data: Float32Array,
  layout: 'bhnd' | 'bnhd',
  shape: { batch: number; kvHeads: number; seqK: number; width: number },
  from: number,
  to: number,
): Float32Array {
  const { batch, kvHeads, seqK, width } = shape;
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    if (layout === 'bhnd') {
      for (let h = 0; h < kvHeads; h++) {
        const base = ((b * kvHeads + h) * seqK + from) * width;
        out.push(...data.subarray(base, base + (to - from) * width));
      }
    } else {
      const base = (b * seqK + from) * kvHeads * width;
      out.push(...data.subarray(base, base + (to - from) * kvHeads * width));
    }
  }
  return Float32Array.from(out);
}

describe('reference log-sum-exp', () => {
  it('is log sum exp of the allowed scores, by hand', () => {
    // Scores per row: [0,0,0], [log 2,0,0], [0,log 3,0].
    const full = referenceAttentionWithLse(single({ heads: 1, headDim: 2, scale: 1 }), tiny);
    expectClose(full.lse, [Math.log(3), Math.log(4), Math.log(5)], 1e-6);
    expect(full.o).toEqual(referenceAttention(single({ heads: 1, headDim: 2, scale: 1 }), tiny));
    const causal = referenceAttentionWithLse(
      single({ heads: 1, headDim: 2, scale: 1, causal: true }),
      tiny,
    );
    expectClose(causal.lse, [0, Math.log(3), Math.log(5)], 1e-6);
  });

  it('is -Infinity for a row with no allowed key (its output row is 0)', () => {
    const module = attentionOf(
      'attention e { heads: 2; head_dim: 8; causal: true; mask: sink(2) & window(left: 1) }',
    );
    const inputs = randomInputs(module, { batch: 1, seqQ: 6, seqK: 6 });
    const { o, lse } = referenceAttentionWithLse(module.attention, inputs);
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < 6; i++) {
        // p = i: allowed keys j < 2 and j >= p - 1, none from p = 3 on.
        const value = lse[h * 6 + i]!;
        if (i < 3) expect(Number.isFinite(value)).toBe(true);
        else expect(value).toBe(-Infinity);
      }
      expect([...o.subarray((h * 6 + 3) * 8, (h * 6 + 6) * 8)].every((x) => x === 0)).toBe(true);
    }
  });

  it('merging a decode row over two halves of the keys gives the row over all of them', () => {
    const module = attentionOf(
      'attention d { heads: 4; kv_heads: 2; head_dim: 16; causal: true; softcap: 20 }',
    );
    const seqK = 96;
    const whole = randomInputs(module, { batch: 2, seqQ: 1, seqK, seed: 4 });
    const shape = { batch: 2, kvHeads: 2, seqK, width: 16 };
    const half = (from: number, to: number) =>
      referenceAttentionWithLse(module.attention, {
        ...whole,
        seqK: to - from,
        k: keyRange(whole.k, 'bhnd', shape, from, to),
        v: keyRange(whole.v, 'bhnd', shape, from, to),
      });
    const merged = mergeByLse({ layout: 'bhnd', batch: 2, heads: 4, seqQ: 1, valueDim: 16 }, [
      half(0, 40),
      half(40, seqK),
    ]);
    const expected = referenceAttentionWithLse(module.attention, whole);
    expectClose(merged.o, expected.o, 1e-6);
    expectClose(merged.lse, expected.lse, 1e-5);
  });

  for (const layout of ['bhnd', 'bnhd'] as const) {
    it(`cascade, ${layout}: a shared prefix (no mask) merged with a causal suffix is causal attention over both`, () => {
      const shapeText = `heads: 2; head_dim: 8; value_dim: 4; layout: ${layout}`;
      const causal = attentionOf(`attention c { ${shapeText}; causal: true }`);
      const prefixOnly = attentionOf(`attention p { ${shapeText} }`);
      const prefix = 20;
      const rows = 6;
      const seqK = prefix + rows;
      const whole = randomInputs(causal, { batch: 1, seqQ: rows, seqK, seed: 9 });
      const kShape = { batch: 1, kvHeads: 2, seqK, width: 8 };
      const vShape = { ...kShape, width: 4 };
      const part = (module: typeof causal, from: number, to: number) =>
        referenceAttentionWithLse(module.attention, {
          ...whole,
          seqK: to - from,
          k: keyRange(whole.k, layout, kShape, from, to),
          v: keyRange(whole.v, layout, vShape, from, to),
        });
      // Every query row sees the whole prefix; the suffix's queries and keys are aligned
      // bottom-right, so `causal` over them is the causal part of the whole.
      const merged = mergeByLse({ layout, batch: 1, heads: 2, seqQ: rows, valueDim: 4 }, [
        part(prefixOnly, 0, prefix),
        part(causal, prefix, seqK),
      ]);
      const expected = referenceAttentionWithLse(causal.attention, whole);
      expectClose(merged.o, expected.o, 1e-6);
      expectClose(merged.lse, expected.lse, 1e-5);
    });
  }

  it('a row empty in every part stays a zero row with LSE -Infinity; an empty part weighs nothing', () => {
    const shape = { layout: 'bhnd' as const, batch: 1, heads: 1, seqQ: 2, valueDim: 2 };
    const merged = mergeByLse(shape, [
      { o: Float32Array.from([0, 0, 1, 2]), lse: Float32Array.from([-Infinity, 0.5]) },
      { o: Float32Array.from([0, 0, 9, 9]), lse: Float32Array.from([-Infinity, -Infinity]) },
    ]);
    expect([...merged.o]).toEqual([0, 0, 1, 2]);
    expect(merged.lse[0]).toBe(-Infinity);
    expect(merged.lse[1]).toBeCloseTo(0.5, 6);
    expect(() => mergeByLse(shape, [{ o: new Float32Array(3), lse: new Float32Array(2) }])).toThrow(
      'mergeByLse: part 0 has 3 output elements and 2 LSE values; [B, H, Nq, Dv] = [1, 1, 2, 2] needs 4 and 2',
    );
  });

  it('is what reference() returns next to o for a module compiled with { lse: true }', () => {
    const text = 'attention r { heads: 2; head_dim: 8; causal: true }';
    const withLse = compile(text, { lse: true }).modules[0]!;
    const inputs = randomInputs(withLse, { batch: 1, seqQ: 5, seqK: 7 });
    expect(reference(withLse, inputs)).toEqual(
      referenceAttentionWithLse(withLse.attention, inputs),
    );
    expect(reference(attentionOf(text), inputs).lse).toBeUndefined();
  });

  it('is refused for kernelized and low-rank groups, naming the group', () => {
    const linear = attentionOf(
      'attention h { head_dim: 8; causal: true; group local { heads: 2; mask: window(left: 4) } group lin { heads: 2; kernel: elu1 } }',
    );
    const inputs = randomInputs(linear, { batch: 1, seqQ: 4, seqK: 4 });
    expect(() => referenceAttentionWithLse(linear.attention, inputs)).toThrow(
      "reference: the log-sum-exp is not defined for group 'lin' (kernel: elu1): it has no softmax over the keys, so its rows cannot be merged by LSE",
    );
    const lowRank = attentionOf(
      'attention l { heads: 2; head_dim: 8; max_seq: 16; lowrank: linformer(4) }',
    );
    const lowInputs = randomInputs(lowRank, { batch: 1, seqQ: 4, seqK: 4 });
    expect(() => referenceAttentionWithLse(lowRank.attention, lowInputs)).toThrow(
      /group 'l' \(lowrank: linformer\)/,
    );
  });
});
