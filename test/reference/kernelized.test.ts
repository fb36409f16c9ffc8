import { describe, expect, it } from 'vitest';
import type { FeatureMap } from '../../src/check/checked.js';
import { gaussianMatrix } from '../../src/random/index.js';
import { featureFunction, LINEAR_EPSILON, referenceAttention } from '../../src/reference/index.js';
import { data, expectClose, m, S, single } from './build.js';

const maps: FeatureMap[] = [
  { kind: 'elu1', span: S },
  { kind: 'relu', span: S },
  { kind: 'favor', features: 16, seed: 5, span: S },
];

/** The defining formula of section 6, evaluated term by term over keys j <= limit(p). */
function quadratic(
  map: FeatureMap,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  nq: number,
  nk: number,
  D: number,
  Dv: number,
  causal: boolean,
): number[] {
  const phi = featureFunction(map, D);
  const out: number[] = [];
  for (let i = 0; i < nq; i++) {
    const p = i + nk - nq;
    const fq = phi(q.subarray(i * D, (i + 1) * D));
    const num = new Array<number>(Dv).fill(0);
    let den = 0;
    for (let j = 0; j < nk; j++) {
      if (causal && j > p) continue;
      const fk = phi(k.subarray(j * D, (j + 1) * D));
      const w = fq.reduce((s, x, t) => s + x * fk[t]!, 0);
      den += w;
      for (let d = 0; d < Dv; d++) num[d]! += w * v[j * Dv + d]!;
    }
    out.push(...num.map((x) => x / (den + LINEAR_EPSILON)));
  }
  return out;
}

describe('kernelized attention', () => {
  const D = 4;
  const Dv = 3;
  for (const map of maps) {
    for (const causal of [false, true]) {
      it(`${map.kind}, ${causal ? 'causal' : 'full'}: equals the explicit quadratic formula`, () => {
        const [nq, nk] = [5, 8];
        const q = data(nq * D, 1);
        const k = data(nk * D, 2);
        const v = data(nk * Dv, 3);
        const a = single({ heads: 1, headDim: D, valueDim: Dv, causal, kernel: map });
        const out = referenceAttention(a, { q, k, v, batch: 1, seqQ: nq, seqK: nk });
        expectClose(out, quadratic(map, q, k, v, nq, nk, D, Dv, causal), 1e-6);
      });
    }
  }

  it('mask: causal means the same as causal: true', () => {
    const inputs = { q: data(12, 4), k: data(12, 5), v: data(12, 6), batch: 1, seqQ: 3, seqK: 3 };
    const kernel = maps[0]!;
    const viaMask = referenceAttention(
      single({ heads: 1, headDim: 4, kernel, mask: m.causal() }),
      inputs,
    );
    const viaFlag = referenceAttention(
      single({ heads: 1, headDim: 4, kernel, causal: true }),
      inputs,
    );
    expect(Array.from(viaMask)).toEqual(Array.from(viaFlag));
  });

  it('elu1 and relu by hand', () => {
    expect(Array.from(featureFunction(maps[0]!, 3)([-1, 0, 2]))).toEqual([Math.exp(-1), 1, 3]);
    expect(Array.from(featureFunction(maps[1]!, 3)([-1, 0, 2]))).toEqual([0, 0, 2]);
  });

  it("favor: phi(x) = exp(W x' - |x'|^2 / 2) / sqrt(m) with x' = x D^(-1/4)", () => {
    const x = [0.5, -1, 2, 0];
    const w = gaussianMatrix(5, 16, 4);
    const scaled = x.map((xi) => xi * 4 ** -0.25);
    const half = scaled.reduce((s, xi) => s + xi * xi, 0) / 2;
    const expected = Array.from({ length: 16 }, (_, t) => {
      const wx = scaled.reduce((s, xi, d) => s + w[t * 4 + d]! * xi, 0);
      return Math.exp(wx - half) / 4;
    });
    expectClose(featureFunction(maps[2]!, 4)(x), expected, 1e-12);
  });

  it('favor: phi(x)·phi(y) estimates exp(x·y / sqrt(D)) without bias', () => {
    const phi = featureFunction({ kind: 'favor', features: 40000, seed: 1, span: S }, 4);
    const x = [0.3, -0.2, 0.5, 0.1];
    const y = [0.1, 0.4, 0.2, -0.3];
    const fy = phi(y);
    const estimate = phi(x).reduce((s, a, t) => s + a * fy[t]!, 0);
    const exact = Math.exp(x.reduce((s, a, d) => s + a * y[d]!, 0) / 2);
    expect(Math.abs(estimate / exact - 1)).toBeLessThan(0.02);
  });

  it('refuses a mask other than full or causal', () => {
    const a = single({ heads: 1, headDim: 2, kernel: maps[0]!, mask: m.window(1) });
    expect(() =>
      referenceAttention(a, {
        q: data(6, 1),
        k: data(6, 2),
        v: data(6, 3),
        batch: 1,
        seqQ: 3,
        seqK: 3,
      }),
    ).toThrow(/full or causal mask, got 'window'/);
  });
});
