// Differential fuzzing on llvmpipe: random compositions of every static mask primitive,
// random modifiers and sizes (Nq <= Nk, tile boundaries included), each compiled for the
// device's profile and for `portable`, compared with the CPU reference. Fixed seed, so CI
// sees the same cases every run.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaskNode } from '../../src/check/checked.js';
import { compileAttention } from '../../src/codegen/compile.js';
import { referenceAttention } from '../../src/reference/index.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';
import { attention, m, makeProblem, packedSegments } from './build.js';
import { excessError } from './run-cases.js';

const leaf: fc.Arbitrary<MaskNode> = fc.oneof(
  fc.constant(m.full()),
  fc.constant(m.causal()),
  fc.integer({ min: 0, max: 70 }).map((w) => m.window(w)),
  fc
    .tuple(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 70 }))
    .map(([a, b]) => m.window(a, b)),
  fc
    .tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 6 }))
    .map(([w, d]) => m.dilated(w, d)),
  fc.integer({ min: 1, max: 9 }).map((s) => m.stride(s)),
  fc
    .tuple(
      fc.integer({ min: 0, max: 4 }),
      fc.uniqueArray(fc.integer({ min: 4, max: 150 }), { maxLength: 2 }),
    )
    .map(([f, ps]) =>
      m.global(
        f,
        [...ps].sort((a, b) => a - b),
      ),
    ),
  fc.integer({ min: 1, max: 70 }).map((n) => m.sink(n)),
  fc.integer({ min: 1, max: 80 }).map((b) => m.blocks(b)),
  fc
    .tuple(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 0, max: 99 }),
    )
    .map(([r, b, s]) => m.random(r, b, s)),
  fc.constant(m.segment()),
);
const mask: fc.Arbitrary<MaskNode> = fc.letrec<{ node: MaskNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((t) => m.or(...t)),
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((t) => m.and(...t)),
  ),
})).node;

const specCase = fc.record({
  mask,
  causal: fc.boolean(),
  softcap: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
  alibi: fc.boolean(),
  kvHeads: fc.constantFrom(1, 2),
  layout: fc.constantFrom('bhnd' as const, 'bnhd' as const),
  headDim: fc.constantFrom(4, 6, 8),
  batch: fc.constantFrom(1, 2),
  seqK: fc.oneof(fc.constantFrom(1, 63, 64, 65, 128, 129), fc.integer({ min: 1, max: 200 })),
  back: fc.integer({ min: 0, max: 200 }),
});

// ATTNC_FUZZ_RUNS / ATTNC_FUZZ_SEED widen the search locally; CI runs the fixed 30.
const CASES = fc.sample(specCase, {
  numRuns: Number(process.env['ATTNC_FUZZ_RUNS'] ?? 30),
  seed: Number(process.env['ATTNC_FUZZ_SEED'] ?? 20261124),
});

describe('random masks on llvmpipe', () => {
  let acquired: AcquiredDevice;
  beforeAll(async () => {
    acquired = await acquireDevice({ adapter: 'llvmpipe' });
  });
  afterAll(() => acquired?.destroy());

  CASES.forEach((c, index) => {
    it(`case ${index}`, async () => {
      const spec = attention({
        heads: 2 * c.kvHeads,
        kvHeads: c.kvHeads,
        headDim: c.headDim,
        layout: c.layout,
        mask: c.mask,
        causal: c.causal,
        ...(c.softcap !== undefined ? { softcap: c.softcap } : {}),
        ...(c.alibi ? { bias: 'alibi' as const } : {}),
      });
      const seqQ = Math.max(1, c.seqK - c.back);
      const problem = makeProblem(spec, c.batch, seqQ, c.seqK, index + 1);
      Object.assign(problem, packedSegments(c.batch, seqQ, c.seqK, index + 7));
      const expected = referenceAttention(spec, problem);
      for (const profile of [acquired.profile, PORTABLE_PROFILE]) {
        const { o } = await load(
          acquired.device,
          compileAttention(spec, profile, { verify: true }),
        ).run(problem);
        expect(excessError(o, expected, false), `${JSON.stringify(c)} on ${profile.name}`).toBe(0);
      }
    });
  });
});
