// Every kernel of every example and of specs at their extreme spec constants carries a bound
// of its loop iterations per invocation, on every target profile and on a GPU-shaped profile
// with subgroups (the subgroup kernel): llvmpipe ends an invocation's loops after a budget
// with no error, so a kernel without a bound could return a wrong answer unchecked
// (docs/runtime.md, "llvmpipe's loop budget"). The bounds themselves are checked against
// llvmpipe in test/kernels/loop-budget.gpu.test.ts.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileAttention } from '../../src/codegen/compile.js';
import { evalSize } from '../../src/codegen/plan.js';
import { checkSource } from '../../src/frontend.js';
import { deriveLoopIterations } from '../../src/kernel/loop-bound.js';
import { CORE_PROFILE, STATIC_PROFILES, type DeviceProfile } from '../../src/target/profile.js';

const examples = join(import.meta.dirname, '../../examples');

const GPU_SUBGROUPS: DeviceProfile = {
  ...CORE_PROFILE,
  name: 'gpu-subgroups',
  limits: { ...CORE_PROFILE.limits, maxComputeWorkgroupStorageSize: 32768 },
  features: { ...CORE_PROFILE.features, subgroups: true, subgroupMinSize: 4, subgroupMaxSize: 64 },
};
const PROFILES = [...STATIC_PROFILES.values(), GPU_SUBGROUPS];

/** Spec constants at (or near) their largest: loops fixed by them must be bounded too. */
const EXTREME_SPECS = [
  'attention a { heads: 2; head_dim: 256; value_dim: 256; mask: topk(2, block: 2147483647) }',
  'attention a { heads: 2; head_dim: 256; value_dim: 256; mask: topk(200, block: 1) }',
  'attention a { heads: 1; head_dim: 256; mask: cluster(2147483647) }',
  'attention a { heads: 1; head_dim: 256; mask: lsh(buckets: 2147483646) }',
  'attention a { heads: 1; head_dim: 256; value_dim: 256; kernel: favor(16384) }',
  'attention a { heads: 1; head_dim: 256; value_dim: 256; causal: true; kernel: elu1 }',
  'attention a { heads: 1; head_dim: 256; value_dim: 256; mask: window(64) | random(100, block: 1) }',
  'attention a { heads: 1; head_dim: 256; value_dim: 256; lowrank: nystrom(64) }',
  'attention a { heads: 1; head_dim: 256; value_dim: 256; lowrank: linformer(256); max_seq: 4096 }',
  'attention a { heads: 1; head_dim: 256; value_dim: 256; mask: segment }',
  'attention a { heads: 128; head_dim: 256; value_dim: 256; head_routing: top(64) }',
  // The subgroup kernel (on GPU_SUBGROUPS: at head_dim 256 its tiles pass the storage limit).
  'attention a { heads: 1; head_dim: 128; value_dim: 128; causal: true; mask: window(64) }',
];

/**
 * Kernels still without a bound, each with its reason. `linear_output` is the template
 * emit-linear-output.ts, which branch i9-linout moves to the kernel IR, where it is bounded
 * by its builder or by the derivation (src/kernel/loop-bound.ts).
 */
const PENDING = new Set(['linear_output']);

function kernelsOf(text: string, profile: DeviceProfile) {
  const front = checkSource(text);
  expect(front.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return front.attentions.flatMap((a) => compileAttention(a, profile).plan.kernels);
}

const specs: [string, string][] = [
  ...readdirSync(examples).map((file): [string, string] => [
    file,
    readFileSync(join(examples, file), 'utf8'),
  ]),
  ...EXTREME_SPECS.map((text): [string, string] => [text, text]),
];

describe('every kernel carries a loop bound', () => {
  for (const [name, text] of specs) {
    it(name, () => {
      for (const profile of PROFILES) {
        const kernels = kernelsOf(text, profile);
        expect(kernels.length).toBeGreaterThan(0);
        for (const kernel of kernels) {
          if (PENDING.has(kernel.name.split('.').at(-1)!)) continue;
          expect({
            profile: profile.name,
            kernel: kernel.name,
            bound: kernel.loopIterations,
          }).toMatchObject({ bound: expect.anything() });
          // A bound evaluates to a non-negative integer at any sizes.
          for (const sizes of [
            { batch: 1, seqQ: 1, seqK: 1 },
            { batch: 3, seqQ: 100, seqK: 4096 },
          ]) {
            const value = evalSize(kernel.loopIterations!, sizes);
            expect(Number.isSafeInteger(value) && value >= 0, `${kernel.name}: ${value}`).toBe(
              true,
            );
          }
        }
      }
    });
  }

  it('a hand bound is never below the one derived from the same kernel IR', () => {
    let compared = 0;
    for (const [, text] of specs)
      for (const profile of PROFILES)
        for (const attention of checkSource(text).attentions)
          for (const kernel of compileAttention(attention, profile).kernels) {
            const hand = kernel.ir?.loopIterations;
            if (hand === undefined) continue;
            const derived = deriveLoopIterations({ ...kernel.ir!, loopIterations: undefined });
            if (derived.kind !== 'bounded') continue;
            compared++;
            for (const sizes of [
              { batch: 1, seqQ: 1, seqK: 1 },
              { batch: 1, seqQ: 17, seqK: 5000 },
              { batch: 3, seqQ: 4096, seqK: 70_000 },
            ])
              expect(
                evalSize(derived.iterations, sizes),
                `${profile.name} ${kernel.name} at ${JSON.stringify(sizes)}`,
              ).toBeLessThanOrEqual(evalSize(hand, sizes));
          }
    expect(compared).toBeGreaterThan(10);
  });

  it('the extreme specs include the subgroup kernel and the spec-constant route kernels', () => {
    const names = EXTREME_SPECS.flatMap((text) =>
      PROFILES.flatMap((profile) => kernelsOf(text, profile).map((k) => k.name.split('.').at(-1))),
    );
    for (const kind of ['means', 'key_buckets', 'bucket_lists', 'softmax', 'linear_states'])
      expect(names).toContain(kind);
    const subgroup = kernelsOf(EXTREME_SPECS.at(-1)!, GPU_SUBGROUPS).find((k) =>
      k.wgsl.includes('enable subgroups;'),
    );
    expect(subgroup?.loopIterations).toBeDefined();
  });
});
