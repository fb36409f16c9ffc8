// Differential fuzzing of the routed kernel on llvmpipe: random compositions of routed leaves
// (topk, cluster, lsh) with static leaves, `random` and `segment`, dtype f32 or f16, random
// sizes (Nq <= Nk), each compiled for the device's profile and for `portable` and compared
// with the CPU reference. Fixed seed, so every run sees the same cases.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaskNode } from '../../src/check/checked.js';
import { compileAttention } from '../../src/codegen/compile.js';
import { referenceAttention } from '../../src/reference/index.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';
import { attention, m, makeProblem, packedSegments, randomFloats } from './build.js';
import { r, type RoutingProblem } from './routing-cases.js';
import { excessError } from './run-cases.js';

const staticLeaf: fc.Arbitrary<MaskNode> = fc.oneof(
  fc.constant(m.causal()),
  fc.integer({ min: 0, max: 40 }).map((w) => m.window(w)),
  fc
    .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 10 }))
    .map(([a, b]) => m.window(a, b)),
  fc.integer({ min: 1, max: 7 }).map((s) => m.stride(s)),
  fc.integer({ min: 1, max: 20 }).map((n) => m.sink(n)),
  fc.integer({ min: 1, max: 50 }).map((b) => m.blocks(b)),
  fc
    .tuple(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 0, max: 99 }),
    )
    .map(([count, block, seed]) => m.random(count, block, seed)),
  fc.constant(m.segment()),
);

/** Routed leaves; every `cluster` of one case shares the count `clusters`. */
function routedLeaf(clusters: number): fc.Arbitrary<MaskNode> {
  return fc.oneof(
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 4, max: 40 }))
      .map(([k, block]) => r.topk(k, block)),
    fc.constant(r.cluster(clusters)),
    fc
      .tuple(fc.constantFrom(2, 4, 8), fc.integer({ min: 0, max: 99 }))
      .map(([buckets, seed]) => r.lsh(buckets, seed)),
  );
}

function hasRouted(node: MaskNode): boolean {
  if (node.kind === 'union' || node.kind === 'intersect') return node.terms.some(hasRouted);
  return node.kind === 'topk' || node.kind === 'cluster' || node.kind === 'lsh';
}

const specCase = fc.integer({ min: 2, max: 5 }).chain((clusters) =>
  fc.record({
    clusters: fc.constant(clusters),
    mask: fc
      .tuple(
        fc.letrec<{ node: MaskNode }>((tie) => ({
          node: fc.oneof(
            { depthSize: 'small' },
            staticLeaf,
            routedLeaf(clusters),
            fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((t) => m.or(...t)),
            fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((t) => m.and(...t)),
          ),
        })).node,
        routedLeaf(clusters),
        fc.boolean(),
      )
      // Every case has a routed leaf: otherwise the static kernels would run.
      .map(([node, extra, union]) =>
        hasRouted(node) ? node : union ? m.or(node, extra) : m.and(node, extra),
      ),
    causal: fc.boolean(),
    f16: fc.boolean(),
    kvHeads: fc.constantFrom(1, 2),
    layout: fc.constantFrom('bhnd' as const, 'bnhd' as const),
    headDim: fc.constantFrom(4, 8, 16),
    batch: fc.constantFrom(1, 2),
    seqK: fc.oneof(fc.constantFrom(1, 63, 64, 65, 129), fc.integer({ min: 1, max: 200 })),
    back: fc.integer({ min: 0, max: 200 }),
  }),
);

// ATTNC_FUZZ_RUNS / ATTNC_FUZZ_SEED widen the search locally; the default is a fixed 30.
const CASES = fc.sample(specCase, {
  numRuns: Number(process.env['ATTNC_FUZZ_RUNS'] ?? 30),
  seed: Number(process.env['ATTNC_FUZZ_SEED'] ?? 20261124),
});

describe('random routed masks on llvmpipe', () => {
  let acquired: AcquiredDevice;
  beforeAll(async () => {
    acquired = await acquireDevice({ adapter: 'llvmpipe' });
  });
  afterAll(() => acquired?.destroy());

  CASES.forEach((c, index) => {
    it(`case ${index}`, { timeout: 120_000 }, async () => {
      const spec = {
        ...attention({
          heads: 2 * c.kvHeads,
          kvHeads: c.kvHeads,
          headDim: c.headDim,
          layout: c.layout,
          mask: c.mask,
          causal: c.causal,
        }),
        dtype: c.f16 ? ('f16' as const) : ('f32' as const),
      };
      const seqQ = Math.max(1, c.seqK - c.back);
      const problem: RoutingProblem = makeProblem(spec, c.batch, seqQ, c.seqK, index + 1);
      Object.assign(problem, packedSegments(c.batch, seqQ, c.seqK, index + 7));
      problem.centroids = randomFloats(c.kvHeads * c.clusters * c.headDim, index + 99);
      const expected = referenceAttention(spec, problem);
      for (const profile of [acquired.profile, PORTABLE_PROFILE]) {
        const loaded = load(acquired.device, compileAttention(spec, profile, { verify: true }));
        try {
          const { o } = await loaded.run(problem);
          expect(excessError(o, expected, c.f16), `${JSON.stringify(c)} on ${profile.name}`).toBe(
            0,
          );
        } finally {
          loaded.destroy();
        }
      }
    });
  });
});
