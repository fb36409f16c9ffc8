import { describe, expect, it } from 'vitest';
import { referenceAttention, roundToF16, type ReferenceInputs } from '../../src/reference/index.js';
import { attention, data, expectClose, group, m, single } from './build.js';

// k0 = [1,0], k1 = [0,1], k2 = [0,0]; v0 = [1,0], v1 = [0,1], v2 = [1,1]; scale 1.
const k3 = Float32Array.from([1, 0, 0, 1, 0, 0]);
const v3 = Float32Array.from([1, 0, 0, 1, 1, 1]);
const q3 = Float32Array.from([0, 0, Math.log(2), 0, 0, Math.log(3)]);
const tiny = (q = q3): ReferenceInputs => ({ q, k: k3, v: v3, batch: 1, seqQ: 3, seqK: 3 });

describe('softmax attention by hand (N = 3, D = 2)', () => {
  it('full', () => {
    const out = referenceAttention(single({ heads: 1, headDim: 2, scale: 1 }), tiny());
    // row 0: uniform; row 1: weights [2,1,1]/4; row 2: weights [1,3,1]/5.
    expectClose(out, [2 / 3, 2 / 3, 3 / 4, 1 / 2, 2 / 5, 4 / 5], 1e-7);
  });

  it('causal', () => {
    const out = referenceAttention(
      single({ heads: 1, headDim: 2, scale: 1, causal: true }),
      tiny(),
    );
    // row 0 sees k0; row 1 sees k0, k1 with weights [2,1]/3; row 2 sees all.
    expectClose(out, [1, 0, 2 / 3, 1 / 3, 2 / 5, 4 / 5], 1e-7);
  });

  it('scale multiplies q·k', () => {
    const doubled = Float32Array.from(q3, (x) => x / 2);
    const out = referenceAttention(single({ heads: 1, headDim: 2, scale: 2 }), tiny(doubled));
    expectClose(out, [2 / 3, 2 / 3, 3 / 4, 1 / 2, 2 / 5, 4 / 5], 1e-6);
  });

  it('softcap: s -> c tanh(s / c)', () => {
    const c = 0.5;
    const out = referenceAttention(single({ heads: 1, headDim: 2, scale: 1, softcap: c }), tiny());
    const capped = c * Math.tanh(Math.log(2) / c);
    const w = [Math.exp(capped), 1, 1].map((x) => x / (Math.exp(capped) + 2));
    expectClose(out.subarray(2, 4), [w[0]! + w[2]!, w[1]! + w[2]!], 1e-6);
  });

  it('alibi: s - m_h |p - j| with m_h = 2^(-8 (h+1) / H) per head of the group', () => {
    const zeros = new Float32Array(2 * 3 * 2);
    const kk = new Float32Array(3 * 2);
    const out = referenceAttention(single({ heads: 2, kvHeads: 1, headDim: 2, bias: 'alibi' }), {
      q: zeros,
      k: kk,
      v: v3,
      batch: 1,
      seqQ: 3,
      seqK: 3,
    });
    for (const h of [0, 1]) {
      const slope = 2 ** ((-8 * (h + 1)) / 2);
      // row 2 (p = 2): scores -2m, -m, 0
      const w = [Math.exp(-2 * slope), Math.exp(-slope), 1];
      const sum = w[0]! + w[1]! + w[2]!;
      const base = (h * 3 + 2) * 2;
      expectClose(
        out.subarray(base, base + 2),
        [(w[0]! + w[2]!) / sum, (w[1]! + w[2]!) / sum],
        1e-6,
      );
    }
  });
});

describe('edge cases', () => {
  it('a fully masked row gives 0, not NaN', () => {
    const a = single({ heads: 1, headDim: 2, mask: m.segment() });
    const out = referenceAttention(a, {
      ...tiny(),
      seg_q: Uint32Array.from([0, 5, 2]),
      seg_k: Uint32Array.from([0, 0, 2]),
    });
    expectClose(out, [0.5, 0.5, 0, 0, 1, 1], 1e-6);
  });

  it('an empty intersection gives zeros everywhere', () => {
    const out = referenceAttention(
      single({ heads: 1, headDim: 2, mask: m.and(m.sink(1), m.window(0, 1)) }),
      {
        ...tiny(),
      },
    );
    expectClose(out, [1, 0, 0, 0, 0, 0], 0);
  });

  it('large logits (|s| ~ 1e4) stay finite', () => {
    const q = Float32Array.from([100, 0, -100, 0, 0, 100]);
    const k = Float32Array.from([100, 0, -100, 0, 0, 100]);
    const out = referenceAttention(single({ heads: 1, headDim: 2, scale: 1 }), { ...tiny(q), k });
    expect(out.every(Number.isFinite)).toBe(true);
    expectClose(out, [1, 0, 0, 1, 1, 1], 1e-6);
  });

  it('bottom-right alignment: a decode row equals the last row of the full causal computation', () => {
    const D = 4;
    const n = 7;
    const a = single({ heads: 2, headDim: D, causal: true, mask: m.window(3) });
    const q = data(2 * n * D, 1);
    const k = data(2 * n * D, 2);
    const v = data(2 * n * D, 3);
    const full = referenceAttention(a, { q, k, v, batch: 1, seqQ: n, seqK: n });
    const lastQ = Float32Array.from([
      ...q.subarray((n - 1) * D, n * D),
      ...q.subarray((2 * n - 1) * D, 2 * n * D),
    ]);
    const decode = referenceAttention(a, { q: lastQ, k, v, batch: 1, seqQ: 1, seqK: n });
    expectClose(decode.subarray(0, D), full.subarray((n - 1) * D, n * D), 1e-6);
    expectClose(decode.subarray(D), full.subarray((2 * n - 1) * D, 2 * n * D), 1e-6);
  });
});

describe('heads, batch and layout', () => {
  const D = 3;
  const n = 5;

  it('GQA: head h reads kv head floor(h / (H / Hkv))', () => {
    const a = single({ heads: 4, kvHeads: 2, headDim: D, causal: true });
    const q = data(2 * 4 * n * D, 4);
    const k = data(2 * 2 * n * D, 5);
    const v = data(2 * 2 * n * D, 6);
    const out = referenceAttention(a, { q, k, v, batch: 2, seqQ: n, seqK: n });
    const one = single({ heads: 1, headDim: D, causal: true });
    const slice = (x: Float32Array, index: number): Float32Array =>
      x.subarray(index * n * D, (index + 1) * n * D);
    for (let b = 0; b < 2; b++) {
      for (let h = 0; h < 4; h++) {
        const kv = b * 2 + Math.floor(h / 2);
        const expected = referenceAttention(one, {
          q: slice(q, b * 4 + h),
          k: slice(k, kv),
          v: slice(v, kv),
          batch: 1,
          seqQ: n,
          seqK: n,
        });
        expectClose(slice(out, b * 4 + h), expected, 0);
      }
    }
  });

  it('bnhd is bhnd transposed', () => {
    const B = 2;
    const H = 4;
    const Hkv = 2;
    const Nq = 3;
    const Nk = 5;
    const Dv = 2;
    const toBnhd = (x: Float32Array, heads: number, seq: number, width: number): Float32Array => {
      const out = new Float32Array(x.length);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < heads; h++)
          for (let i = 0; i < seq; i++)
            for (let d = 0; d < width; d++)
              out[((b * seq + i) * heads + h) * width + d] =
                x[((b * heads + h) * seq + i) * width + d]!;
      return out;
    };
    const q = data(B * H * Nq * D, 7);
    const k = data(B * Hkv * Nk * D, 8);
    const v = data(B * Hkv * Nk * Dv, 9);
    const options = {
      heads: H,
      kvHeads: Hkv,
      headDim: D,
      valueDim: Dv,
      mask: m.or(m.window(1), m.sink(1)),
    };
    const bhnd = referenceAttention(single(options), { q, k, v, batch: B, seqQ: Nq, seqK: Nk });
    const bnhd = referenceAttention(single({ ...options, layout: 'bnhd' }), {
      q: toBnhd(q, H, Nq, D),
      k: toBnhd(k, Hkv, Nk, D),
      v: toBnhd(v, Hkv, Nk, Dv),
      batch: B,
      seqQ: Nq,
      seqK: Nk,
    });
    expect(Array.from(bnhd)).toEqual(Array.from(toBnhd(bhnd, H, Nq, Dv)));
  });

  it('groups: each group computes its own heads with its own mechanism', () => {
    const local = group(
      { name: 'local', heads: 2, kvHeads: 1, mask: m.window(1), causal: true },
      D,
    );
    const linear = group(
      {
        name: 'linear',
        heads: 2,
        kvHeads: 2,
        kernel: { kind: 'elu1', span: { start: 0, end: 0 } },
      },
      D,
    );
    const a = attention({ headDim: D }, [local, linear]);
    expect(a.groups[1]!.headOffset).toBe(2);
    const q = data(4 * n * D, 10);
    const k = data(3 * n * D, 11);
    const v = data(3 * n * D, 12);
    const out = referenceAttention(a, { q, k, v, batch: 1, seqQ: n, seqK: n });
    const first = referenceAttention(attention({ headDim: D }, [local]), {
      q: q.subarray(0, 2 * n * D),
      k: k.subarray(0, n * D),
      v: v.subarray(0, n * D),
      batch: 1,
      seqQ: n,
      seqK: n,
    });
    const second = referenceAttention(attention({ headDim: D }, [linear]), {
      q: q.subarray(2 * n * D),
      k: k.subarray(n * D),
      v: v.subarray(n * D),
      batch: 1,
      seqQ: n,
      seqK: n,
    });
    expectClose(out, [...first, ...second], 0);
  });

  it('alibi slopes restart in each group', () => {
    const g = group({ heads: 1, bias: 'alibi' }, D);
    const twice = attention({ headDim: D }, [g, { ...g, name: 'h' }]);
    const q = data(n * D, 13);
    const k = data(n * D, 14);
    const sameInputs = referenceAttention(twice, {
      q: Float32Array.from([...q.subarray(0, n * D), ...q.subarray(0, n * D)]),
      k: Float32Array.from([...k.subarray(0, n * D), ...k.subarray(0, n * D)]),
      v: Float32Array.from([...k.subarray(0, n * D), ...k.subarray(0, n * D)]),
      batch: 1,
      seqQ: n,
      seqK: n,
    });
    expect(Array.from(sameInputs.subarray(0, n * D))).toEqual(
      Array.from(sameInputs.subarray(n * D)),
    );
  });
});

describe('input validation', () => {
  const a = single({ heads: 2, kvHeads: 1, headDim: 2 });
  const ok = (): ReferenceInputs => ({
    q: new Float32Array(2 * 3 * 2),
    k: new Float32Array(3 * 2),
    v: new Float32Array(3 * 2),
    batch: 1,
    seqQ: 3,
    seqK: 3,
  });

  it('accepts the right shapes', () => {
    expect(referenceAttention(a, ok()).length).toBe(12);
  });

  it('names the input, the expected and the actual length', () => {
    expect(() => referenceAttention(a, { ...ok(), q: new Float32Array(10) })).toThrow(
      "reference: input 'q' has 10 elements, expected [B, H, Nq, D] = 1 x 2 x 3 x 2 = 12 elements",
    );
    expect(() => referenceAttention(a, { ...ok(), v: new Float32Array(7) })).toThrow(
      /input 'v' has 7 elements/,
    );
  });

  it('names a missing run-time input', () => {
    const seg = single({ heads: 2, kvHeads: 1, headDim: 2, mask: m.segment() });
    expect(() => referenceAttention(seg, ok())).toThrow(
      "reference: missing input 'seg_q', expected [B, Nq] = 1 x 3 = 3 elements",
    );
    expect(() =>
      referenceAttention(seg, { ...ok(), seg_q: new Uint32Array(3), seg_k: new Uint32Array(2) }),
    ).toThrow(/input 'seg_k' has 2 elements, expected \[B, Nk\]/);
  });

  it('names a NaN and its index', () => {
    const k = new Float32Array(6);
    k[4] = NaN;
    expect(() => referenceAttention(a, { ...ok(), k })).toThrow(
      "reference: input 'k' holds NaN at index 4",
    );
  });

  it('rejects Nq > Nk and non-integer sizes', () => {
    expect(() => referenceAttention(a, { ...ok(), seqQ: 4 })).toThrow(
      /seqQ \(4\) must not exceed seqK \(3\)/,
    );
    expect(() => referenceAttention(a, { ...ok(), batch: 0 })).toThrow(
      /batch must be an integer >= 1/,
    );
  });

  it('requires the router for head routing', () => {
    const routed = single({
      heads: 2,
      kvHeads: 1,
      headDim: 2,
      headRouting: { k: 1, span: { start: 0, end: 0 } },
    });
    expect(() => referenceAttention(routed, ok())).toThrow(
      /missing input 'router', expected \[B, Nq, H\]/,
    );
  });
});

describe('dtype f16', () => {
  it('rounds to nearest binary16, ties to even', () => {
    expect(roundToF16(1 / 3)).toBe(0.333251953125);
    expect(roundToF16(2049)).toBe(2048);
    expect(roundToF16(2051)).toBe(2052);
    expect(roundToF16(65504)).toBe(65504);
    expect(roundToF16(65520)).toBe(Infinity);
    expect(roundToF16(-(2 ** -24))).toBe(-(2 ** -24));
    expect(roundToF16(2 ** -26)).toBe(0);
    expect(roundToF16(1 - 2 ** -12)).toBe(1);
  });

  it('computes on f16-rounded q, k, v and rounds o', () => {
    const options = { heads: 1, headDim: 2 };
    const inputs = { q: data(6, 20), k: data(6, 21), v: data(6, 22), batch: 1, seqQ: 3, seqK: 3 };
    const half = referenceAttention(single({ ...options, dtype: 'f16' }), inputs);
    const rounded = referenceAttention(single(options), {
      ...inputs,
      q: inputs.q.map(roundToF16),
      k: inputs.k.map(roundToF16),
      v: inputs.v.map(roundToF16),
    });
    expect(Array.from(half)).toEqual(Array.from(rounded.map(roundToF16)));
  });

  it('refuses values beyond the f16 range', () => {
    const q = Float32Array.from([1e5, 0, 0, 0, 0, 0]);
    expect(() =>
      referenceAttention(single({ heads: 1, headDim: 2, dtype: 'f16' }), { ...tiny(q) }),
    ).toThrow(/input 'q' holds 100000 at index 0, beyond the f16 range/);
  });
});

describe('batch', () => {
  it('each batch entry reads its own seg_q and seg_k rows', () => {
    const a = single({ heads: 1, headDim: 2, mask: m.segment() });
    const q = Float32Array.from([...q3, ...q3]);
    const k = Float32Array.from([...k3, ...k3]);
    const v = Float32Array.from([...v3, ...v3]);
    const out = referenceAttention(a, {
      q,
      k,
      v,
      batch: 2,
      seqQ: 3,
      seqK: 3,
      seg_q: Uint32Array.from([0, 0, 0, 1, 2, 3]),
      seg_k: Uint32Array.from([0, 0, 0, 1, 2, 3]),
    });
    const full = referenceAttention(single({ heads: 1, headDim: 2 }), tiny());
    expectClose(out.subarray(0, 6), full, 0);
    expectClose(out.subarray(6), v3, 0);
  });
});
