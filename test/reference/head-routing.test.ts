import { describe, expect, it } from 'vitest';
import { headRoutingWeights, referenceAttention } from '../../src/reference/index.js';
import { data, expectClose, S, single } from './build.js';

describe('head routing weights', () => {
  it('keeps the top k, ties to the lower head', () => {
    expectClose(headRoutingWeights([1, 1, 1, 0], 2), [0.5, 0.5, 0, 0], 1e-12);
    expectClose(headRoutingWeights([0, 2, 1, 2], 2), [0, 0.5, 0, 0.5], 1e-12);
    expectClose(headRoutingWeights([0, Math.log(3), 0], 2), [0.25, 0.75, 0], 1e-12);
  });

  it('with k = H is the softmax over all heads', () => {
    expectClose(headRoutingWeights([0, Math.log(2), Math.log(5)], 3), [1 / 8, 2 / 8, 5 / 8], 1e-12);
  });

  it('survives large logits', () => {
    expectClose(headRoutingWeights([1e4, -1e4, 1e4 - Math.log(3)], 2), [0.75, 0, 0.25], 1e-9);
  });
});

describe('head routing in attention', () => {
  for (const layout of ['bhnd', 'bnhd'] as const) {
    it(`scales each kept head's row and zeroes dropped heads (${layout})`, () => {
      const [B, H, n, D] = [2, 3, 4, 2];
      const inputs = {
        q: data(B * H * n * D, 1),
        k: data(B * n * D, 2),
        v: data(B * n * D, 3),
        batch: B,
        seqQ: n,
        seqK: n,
      };
      const router = data(B * n * H, 4);
      router[5] = router[4]!; // a tie in row (b 0, i 1)
      const options = { heads: H, kvHeads: 1, headDim: D, causal: true, layout };
      const plain = referenceAttention(single(options), inputs);
      const routed = referenceAttention(single({ ...options, headRouting: { k: 2, span: S } }), {
        ...inputs,
        router,
      });
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < n; i++) {
          const weights = headRoutingWeights(
            router.subarray((b * n + i) * H, (b * n + i + 1) * H),
            2,
          );
          expect(weights.filter((w) => w > 0).length).toBe(2);
          for (let h = 0; h < H; h++) {
            const at = layout === 'bhnd' ? ((b * H + h) * n + i) * D : ((b * n + i) * H + h) * D;
            const expected = Array.from(plain.subarray(at, at + D), (x) =>
              Math.fround(weights[h]! * x),
            );
            expectClose(routed.subarray(at, at + D), expected, 1e-7);
          }
        }
      }
    });
  }
});
