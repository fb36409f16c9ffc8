// Arguments at their extremes, run on llvmpipe against the CPU reference at small N: a mask
// wider than N must give the reference (every key allowed), topk with k past the sorted path
// (TOPK_SORTED_MAX) must pick the reference's blocks, ties included, and the nystrom
// iterations, now repeated dispatches, must match at the largest `iters`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { randomInputs, type RandomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import { MAX_ROUTED_HEADS } from '../../src/lower/compile-limits.js';
import { TOPK_SORTED_MAX } from '../../src/codegen/routing/key-source.js';
import { NYSTROM_ITERS } from '../../src/check/mechanisms.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';
import { excessError, maxAbsDiff } from './run-cases.js';

const M = 2147483647;
const K = TOPK_SORTED_MAX + 6;

interface RunCase {
  readonly name: string;
  readonly spec: string;
  readonly sizes: { batch: number; seqQ: number; seqK: number };
  /** Rewrites the random inputs (ties). */
  readonly tweak?: (inputs: RandomInputs, headDim: number) => void;
  /** A spec whose output must equal this one's (a window wider than N is `full`). */
  readonly same?: string;
}

/** Every third query row zero: all of its block scores are exactly 0 and tie. */
function zeroRows(inputs: RandomInputs, headDim: number): void {
  const q = inputs.q as Float32Array;
  for (let row = 0; row * headDim < q.length; row += 3)
    q.fill(0, row * headDim, (row + 1) * headDim);
}

const small = { batch: 1, seqQ: 40, seqK: 40 };
const CASES: readonly RunCase[] = [
  { name: 'window(max)', spec: `mask: window(${M})`, sizes: small, same: 'mask: full' },
  {
    name: 'window(right: max)',
    spec: `mask: window(right: ${M})`,
    sizes: small,
  },
  {
    name: 'window(max) causal',
    spec: `causal: true; mask: window(${M})`,
    sizes: small,
    same: 'causal: true',
  },
  { name: 'dilated(max, 1)', spec: `mask: dilated(${M}, 1)`, sizes: small, same: 'mask: full' },
  { name: 'dilated(1, max)', spec: `mask: dilated(1, ${M})`, sizes: small },
  { name: 'window(1) | global(max, 3)', spec: `mask: window(1) | global(${M}, 3)`, sizes: small },
  { name: 'blocks(max)', spec: `mask: blocks(${M})`, sizes: small, same: 'mask: full' },
  {
    name: 'segment & window(max) | sink(max)',
    spec: `mask: segment & window(${M}) | sink(${M})`,
    sizes: small,
  },
  {
    name: `topk(${K}, block: 2) (threshold path)`,
    spec: `mask: topk(${K}, block: 2)`,
    sizes: { batch: 2, seqQ: 300, seqK: 300 },
  },
  {
    name: `topk(${K}, block: 2) causal, ties`,
    spec: `causal: true; mask: topk(${K}, block: 2)`,
    sizes: { batch: 1, seqQ: 300, seqK: 300 },
    tweak: zeroRows,
  },
  {
    name: `window(3) | topk(${K}, block: 3), ties`,
    spec: `mask: window(3) | topk(${K}, block: 3)`,
    sizes: { batch: 1, seqQ: 200, seqK: 300 },
    tweak: zeroRows,
  },
  {
    name: 'topk(max) keeps every block',
    spec: `mask: topk(${M}, block: 4)`,
    sizes: small,
    same: 'mask: full',
  },
  {
    name: `nystrom(8, iters: ${NYSTROM_ITERS.max})`,
    spec: `lowrank: nystrom(8, iters: ${NYSTROM_ITERS.max})`,
    sizes: { batch: 1, seqQ: 64, seqK: 64 },
  },
];

describe('arguments at their extremes on llvmpipe, against the reference', () => {
  let acquired: AcquiredDevice;
  beforeAll(async () => {
    acquired = await acquireDevice({ adapter: 'llvmpipe' });
  });
  afterAll(() => acquired?.destroy());

  const run = async (
    text: string,
    inputs: RandomInputs | null,
    sizes: RunCase['sizes'],
    profile = acquired.profile,
  ) => {
    const result = compile(text, { target: profile });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const module = result.modules[0]!;
    const given = inputs ?? randomInputs(module, { ...sizes, seed: 5 });
    const loaded = load(acquired.device, module);
    try {
      acquired.device.pushErrorScope('validation');
      const { o } = await loaded.run(given);
      const error = await acquired.device.popErrorScope();
      expect(error?.message ?? null).toBeNull();
      return { o, inputs: given, module };
    } finally {
      loaded.destroy();
    }
  };

  for (const c of CASES) {
    it(c.name, { timeout: 120_000 }, async () => {
      const text = `attention a { heads: 2; head_dim: 8; ${c.spec} }`;
      for (const profile of [acquired.profile, PORTABLE_PROFILE]) {
        const first = compile(text, { target: profile }).modules[0]!;
        const inputs = randomInputs(first, { ...c.sizes, seed: 5 });
        c.tweak?.(inputs, 8);
        const { o, module } = await run(text, inputs, c.sizes, profile);
        const expected = reference(module, inputs).o;
        expect(o.every(Number.isFinite)).toBe(true);
        expect(excessError(o, expected, false), profile.name).toBe(0);
        if (c.same) {
          const other = await run(
            `attention a { heads: 2; head_dim: 8; ${c.same} }`,
            inputs,
            c.sizes,
            profile,
          );
          expect(maxAbsDiff(o, other.o)).toBeLessThan(1e-4);
        }
      }
    });
  }

  it(`head_routing: top(2) of ${MAX_ROUTED_HEADS} heads`, { timeout: 120_000 }, async () => {
    const text = `attention a { heads: ${MAX_ROUTED_HEADS}; kv_heads: 1; head_dim: 4; head_routing: top(2) }`;
    const sizes = { batch: 1, seqQ: 5, seqK: 5 };
    const { o, inputs, module } = await run(text, null, sizes);
    expect(excessError(o, reference(module, inputs).o, false)).toBe(0);
    // Two heads kept per row: most outputs are the zeros of dropped heads, not all.
    expect(o.some((x) => x !== 0)).toBe(true);
  });
});
