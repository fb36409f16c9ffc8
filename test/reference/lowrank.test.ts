import { describe, expect, it } from 'vitest';
import type { LowRank } from '../../src/check/checked.js';
import {
  nystromPseudoInverse,
  referenceAttention,
  segmentMeans,
} from '../../src/reference/index.js';
import { data, expectClose, S, single } from './build.js';

const D = 3;
const linformer = (rank: number): LowRank => ({ kind: 'linformer', rank, span: S });
const nystrom = (landmarks: number, iters = 6): LowRank => ({
  kind: 'nystrom',
  landmarks,
  iters,
  span: S,
});

describe('linformer', () => {
  it('with E = F = identity on the first Nk columns equals full softmax attention', () => {
    const n = 5;
    const maxSeq = 7;
    const heads = 4;
    const kvHeads = 2;
    // [Hkv, r = n, max_seq]: identity on the first n columns, junk in the unused tail.
    const projection = new Float32Array(kvHeads * n * maxSeq);
    for (let h = 0; h < kvHeads; h++) {
      for (let t = 0; t < n; t++) {
        const row = (h * n + t) * maxSeq;
        projection[row + t] = 1;
        projection[row + n] = 1000;
        projection[row + n + 1] = -1000;
      }
    }
    const inputs = {
      q: data(heads * n * D, 1),
      k: data(kvHeads * n * D, 2),
      v: data(kvHeads * n * D, 3),
      batch: 1,
      seqQ: n,
      seqK: n,
    };
    const low = single({ heads, kvHeads, headDim: D, maxSeq, lowrank: linformer(n) });
    const out = referenceAttention(low, { ...inputs, E: projection, F: projection });
    expectClose(out, referenceAttention(single({ heads, kvHeads, headDim: D }), inputs), 1e-6);
  });

  it('with r = 1 and F the mean gives mean(v) on every row', () => {
    const n = 4;
    const v = data(n * D, 6);
    const E = Float32Array.from([1, 1, 1, 1, 9]);
    const F = Float32Array.from([0.25, 0.25, 0.25, 0.25, 9]);
    const out = referenceAttention(
      single({ heads: 1, headDim: D, maxSeq: 5, lowrank: linformer(1) }),
      {
        q: data(n * D, 4),
        k: data(n * D, 5),
        v,
        batch: 1,
        seqQ: n,
        seqK: n,
        E,
        F,
      },
    );
    const mean = [0, 1, 2].map((d) => (v[d]! + v[D + d]! + v[2 * D + d]! + v[3 * D + d]!) / 4);
    expectClose(out, [...mean, ...mean, ...mean, ...mean], 1e-6);
  });

  it('refuses Nk > max_seq and names E, F shapes', () => {
    const a = single({ heads: 1, headDim: D, maxSeq: 3, lowrank: linformer(2) });
    const base = {
      q: data(4 * D, 1),
      k: data(4 * D, 2),
      v: data(4 * D, 3),
      batch: 1,
      seqQ: 4,
      seqK: 4,
    };
    expect(() => referenceAttention(a, base)).toThrow(/seqK is 4, but max_seq is 3/);
    const ok = {
      ...base,
      q: data(3 * D, 1),
      k: data(3 * D, 2),
      v: data(3 * D, 3),
      seqQ: 3,
      seqK: 3,
    };
    expect(() => referenceAttention(a, { ...ok, E: new Float32Array(6) })).toThrow(
      /missing input 'F', expected \[Hkv, r, max_seq\] = 1 x 2 x 3/,
    );
  });
});

describe('nystrom', () => {
  it('landmarks are segment means over floor(t N / m)', () => {
    const rows = [[1], [2], [3], [4], [5]].map((r) => Float64Array.from(r));
    expect(segmentMeans(rows, 2, 1).map((r) => r[0])).toEqual([1.5, 4]);
    expect(segmentMeans(rows, 5, 1).map((r) => r[0])).toEqual([1, 2, 3, 4, 5]);
    expect(() => segmentMeans(rows, 6, 1)).toThrow(/nystrom\(6\) needs at least 6 rows, got 5/);
  });

  it('the iterative pseudo-inverse inverts a well-conditioned matrix', () => {
    const a = [
      [0.6, 0.3, 0.1],
      [0.2, 0.7, 0.1],
      [0.1, 0.2, 0.7],
    ].map((r) => Float64Array.from(r));
    const z = nystromPseudoInverse(a, 12);
    const product = a.map((row) =>
      [0, 1, 2].map((c) => row.reduce((s, x, t) => s + x * z[t]![c]!, 0)),
    );
    expectClose(product.flat(), [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-9);
  });

  it('with m = N landmarks approximates full softmax closely', () => {
    const n = 8;
    const inputs = {
      q: data(2 * n * D, 7),
      k: data(2 * n * D, 8),
      v: data(2 * n * D, 9),
      batch: 1,
      seqQ: n,
      seqK: n,
    };
    const approx = referenceAttention(
      single({ heads: 2, headDim: D, lowrank: nystrom(n, 20) }),
      inputs,
    );
    const exact = referenceAttention(single({ heads: 2, headDim: D }), inputs);
    expectClose(approx, exact, 1e-5);
  });

  it('with one landmark is the mean-key average of softmax(Ql K^T) V', () => {
    const n = 4;
    const inputs = {
      q: data(n * D, 10),
      k: data(n * D, 11),
      v: data(n * D, 12),
      batch: 1,
      seqQ: n,
      seqK: n,
    };
    const out = referenceAttention(
      single({ heads: 1, headDim: D, lowrank: nystrom(1, 6) }),
      inputs,
    );
    // softmax over one landmark is 1 and pinv([1]) converges to 1, so every row is softmax(ql K^T) V.
    const ql = [0, 1, 2].map((d) => [0, 1, 2, 3].reduce((s, i) => s + inputs.q[i * D + d]!, 0) / n);
    const scores = [0, 1, 2, 3].map(
      (j) => [0, 1, 2].reduce((s, d) => s + ql[d]! * inputs.k[j * D + d]!, 0) / Math.sqrt(D),
    );
    const max = Math.max(...scores);
    const w = scores.map((s) => Math.exp(s - max));
    const sum = w.reduce((a, b) => a + b, 0);
    const row = [0, 1, 2].map((d) =>
      w.reduce((s, wj, j) => s + (wj / sum) * inputs.v[j * D + d]!, 0),
    );
    expectClose(out, [...row, ...row, ...row, ...row], 1e-6);
  });
});
