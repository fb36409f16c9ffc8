import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { MaskNode } from '../../src/check/checked.js';
import { maskGrid, referenceAttention } from '../../src/reference/index.js';
import { data, expectClose, group, m, single } from './build.js';

const positional: fc.Arbitrary<MaskNode> = fc.oneof(
  fc.constant(m.full()),
  fc.constant(m.causal()),
  fc.integer({ min: 0, max: 4 }).map((w) => m.window(w)),
  fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
    .map(([a, b]) => m.window(a, b)),
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
    .map(([w, d]) => m.dilated(w, d)),
  fc.integer({ min: 1, max: 4 }).map((s) => m.stride(s)),
  fc.integer({ min: 0, max: 3 }).map((g) => m.global(g, [7])),
  fc.integer({ min: 1, max: 3 }).map((n) => m.sink(n)),
  fc.integer({ min: 1, max: 4 }).map((b) => m.blocks(b)),
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.nat())
    .map(([r, b, s]) => m.random(r, b, s)),
);

const cells = (mask: MaskNode, nq: number, nk: number, causal = false): boolean[][] =>
  maskGrid(group({ heads: 1, mask, causal }), nq, nk);

describe('composition laws', () => {
  it('a union is the cellwise or, an intersection the cellwise and; causal: true ands the whole', () => {
    fc.assert(
      fc.property(
        positional,
        positional,
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 5 }),
        (a, b, nk, drop) => {
          const nq = Math.max(1, nk - drop);
          const ga = cells(a, nq, nk);
          const gb = cells(b, nq, nk);
          const causal = cells(m.causal(), nq, nk);
          expect(cells(m.or(a, b), nq, nk)).toEqual(
            ga.map((row, i) => row.map((x, j) => x || gb[i]![j]!)),
          );
          expect(cells(m.and(a, b), nq, nk)).toEqual(
            ga.map((row, i) => row.map((x, j) => x && gb[i]![j]!)),
          );
          expect(cells(m.or(a, b), nq, nk, true)).toEqual(
            cells(m.or(a, b), nq, nk).map((row, i) => row.map((x, j) => x && causal[i]![j]!)),
          );
        },
      ),
    );
  });
});

describe('softmax attention', () => {
  it('every output is a convex combination of allowed values, or 0 for an empty row', () => {
    fc.assert(
      fc.property(
        positional,
        positional,
        fc.integer({ min: 1, max: 9 }),
        fc.nat(),
        (a, b, n, seed) => {
          const mask = m.and(a, b);
          const v = data(n, seed + 3);
          const out = referenceAttention(single({ heads: 1, headDim: 2, valueDim: 1, mask }), {
            q: data(2 * n, seed, 4),
            k: data(2 * n, seed + 1, 4),
            v,
            batch: 1,
            seqQ: n,
            seqK: n,
          });
          cells(mask, n, n).forEach((row, i) => {
            const allowed = Array.from(v).filter((_, j) => row[j]);
            const o = out[i]!;
            if (allowed.length === 0) expect(o).toBe(0);
            else {
              expect(o).toBeGreaterThanOrEqual(Math.min(...allowed) - 1e-6);
              expect(o).toBeLessThanOrEqual(Math.max(...allowed) + 1e-6);
            }
          });
        },
      ),
    );
  });
});

describe('data-dependent masks under GQA', () => {
  const [H, Hkv, n, D, c] = [4, 2, 6, 2, 3];
  const slice = (x: Float32Array, index: number, size: number): Float32Array =>
    x.subarray(index * size, (index + 1) * size);

  for (const mask of [m.cluster(c), m.topk(1, 2), m.lsh(4, 9), m.or(m.window(1), m.cluster(c))]) {
    it(`${mask.kind}: head h reads kv head floor(h / (H / Hkv)) and its centroids`, () => {
      const q = data(H * n * D, 1);
      const k = data(Hkv * n * D, 2);
      const v = data(Hkv * n * D, 3);
      const centroids = data(Hkv * c * D, 4);
      const out = referenceAttention(single({ heads: H, kvHeads: Hkv, headDim: D, mask }), {
        q,
        k,
        v,
        batch: 1,
        seqQ: n,
        seqK: n,
        centroids,
      });
      for (let h = 0; h < H; h++) {
        const kv = Math.floor(h / 2);
        const alone = referenceAttention(single({ heads: 1, headDim: D, mask }), {
          q: slice(q, h, n * D),
          k: slice(k, kv, n * D),
          v: slice(v, kv, n * D),
          batch: 1,
          seqQ: n,
          seqK: n,
          centroids: slice(centroids, kv, c * D),
        });
        expectClose(slice(out, h, n * D), alone, 0);
      }
    });
  }
});
