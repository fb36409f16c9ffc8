// llvmpipe's loop budget (65,535 iterations per invocation, every loop together; see
// test/runtime/llvmpipe-loop-budget.gpu.test.ts) against the kernels that carry a bound (the
// fused and routed softmax, the cluster/lsh bucket lists, head routing, the linear states and
// scan, linformer, the low-rank attend): up to the bound the plan carries they match the CPU
// reference; past it the run is refused with an error naming the limit. Without the check (the
// bound stripped from the plan) the same run returns a wrong answer and no error: that is what
// the check is for. The kernels whose loops are fixed by spec constants (topk block means,
// cluster/lsh key buckets and the routed row's decision) are tested with those constants
// large, so the run-time sizes stay small; a spec whose constants alone pass the budget is
// refused at any size.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type CompiledModule } from '../../src/api/compile.js';
import { compareOutput } from '../../src/api/compare-output.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import { evalSize, type PlanStep } from '../../src/codegen/plan.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { loadChecked } from '../../src/runtime/loaded-kernel.js';
import { LLVMPIPE_LOOP_BUDGET } from '../../src/runtime/loop-budget.js';
import type { DeviceProfile } from '../../src/target/profile.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const llvmpipe = await adapterAvailability('llvmpipe');

const DENSE = 'attention dense { heads: 1; head_dim: 64; causal: true }';
const WIDE = 'attention wide { heads: 1; head_dim: 256; causal: true }';
const RANDOM =
  'attention random { heads: 1; head_dim: 64; mask: window(64) | random(3, block: 64) }';
const CLUSTER = 'attention cluster { heads: 1; head_dim: 16; mask: cluster(2) }';
const ROUTED_HEADS = 'attention routed { heads: 64; head_dim: 16; head_routing: top(32) }';
const TOPK_SORTED = 'attention topk { heads: 1; head_dim: 16; mask: topk(2, block: 16) }';
const TOPK_THRESHOLD = 'attention topk { heads: 1; head_dim: 16; mask: topk(100, block: 16) }';
const WINDOW =
  'attention window { heads: 1; head_dim: 64; causal: true; mask: window(left: 1024) | sink(4) }';

function compiled(text: string, target: DeviceProfile | string): CompiledModule {
  const result = compile(text, { target });
  expect(result.diagnostics).toEqual([]);
  return result.modules[0]!;
}

/** The largest seqK at which every kernel's bound fits the budget at one query row. */
function largestFitting(module: CompiledModule): number {
  const bounds = module.plan.kernels.flatMap((k) => (k.loopIterations ? [k.loopIterations] : []));
  expect(bounds.length).toBeGreaterThan(0);
  const fitsAt = (seqK: number) =>
    bounds.every((b) => evalSize(b, { batch: 1, seqQ: 1, seqK }) <= LLVMPIPE_LOOP_BUDGET);
  let fits = 1;
  for (let step = 1 << 24; step >= 1; step >>= 1) if (fitsAt(fits + step)) fits += step;
  return fits;
}

/** The module as compiled before the bound existed: nothing for the runtime to check. */
function withoutBound(module: CompiledModule): CompiledModule {
  const kernels = module.plan.kernels.map(({ loopIterations: _, ...kernel }) => kernel);
  return { ...module, plan: { ...module.plan, kernels } };
}

/**
 * The module with only its fused path: seqQ <= 16 takes the split-K decode kernels (which
 * stay far under the budget), so these one-row runs test the fused kernel through this.
 */
function fusedOnly(module: CompiledModule): CompiledModule {
  const decode = (name: string) => /\.decode_(partial|merge)$/.test(name);
  const kernels = module.plan.kernels.filter((k) => !decode(k.name));
  expect(kernels.length).toBeLessThan(module.plan.kernels.length);
  const steps = module.plan.steps.flatMap((step): PlanStep[] => {
    if (step.kind !== 'dispatch' && step.kind !== 'write-uniforms') return [step];
    if (decode(step.kernel)) return [];
    const { when: _, ...always } = step;
    return [always];
  });
  return { ...module, plan: { ...module.plan, kernels, steps } };
}

describe.runIf(llvmpipe.run)('fused softmax kernels within llvmpipe loop budget', () => {
  let acquired: AcquiredDevice;
  beforeAll(async () => {
    acquired = await acquireDevice({ adapter: 'llvmpipe' });
  });
  afterAll(() => acquired?.destroy());

  /** The relative error of one decode row (seqQ = 1) against the reference. */
  async function decodeError(module: CompiledModule, seqK: number): Promise<number> {
    const inputs = randomInputs(module, { batch: 1, seqQ: 1, seqK, seed: 3 });
    const kernel = await loadChecked(acquired.device, module);
    try {
      const { o } = await kernel.run(inputs);
      return compareOutput(o, reference(module, inputs).o).relativeError;
    } finally {
      kernel.destroy();
    }
  }

  async function expectRefused(module: CompiledModule, seqK: number, fits: number) {
    const inputs = randomInputs(module, { batch: 1, seqQ: 1, seqK, seed: 3 });
    const kernel = await loadChecked(acquired.device, module);
    try {
      await expect(kernel.run(inputs)).rejects.toThrow(
        new RegExp(
          `kernel '[^']+' would run up to \\d+ loop ` +
            `iterations per invocation at batch=1, seqQ=1, seqK=${seqK}; this device \\(llvmpipe\\) ` +
            `ends every loop of an invocation after 65535 in all, with no error, so the output ` +
            `would be wrong \\(at most seqK = ${fits} fits at this seqQ`,
        ),
      );
    } finally {
      kernel.destroy();
    }
  }

  it('dense causal, head_dim 64 (rowwise): right up to the bound, refused past it, wrong unchecked', async () => {
    const module = fusedOnly(compiled(DENSE, acquired.profile));
    expect(module.plan.kernels[0]!.wgsl).toContain('variant rowwise');
    const fits = largestFitting(module);
    expect(fits).toBeGreaterThan(64_000);
    expect(await decodeError(module, fits)).toBeLessThan(1e-4);
    await expectRefused(module, 70_000, fits);
    expect(await decodeError(withoutBound(module), 70_000)).toBeGreaterThan(1e-3);
  });

  it('dense causal, head_dim 256: its per-key loops are unrolled in loops of 32, so ~64,300 keys', async () => {
    // Before the per-key loops were split, 64-trip loops were paid per key: ~330 keys fitted
    // and 2,048 keys came out wrong. Had any per-key loop still cost one iteration, the
    // largest fitting size would be twice over the budget. One invocation walks 64K keys of
    // 256 dims: about 30 s on llvmpipe, plus up to ~100 s for LLVM's first (uncached) compile
    // of the unrolled loops.
    const module = fusedOnly(compiled(WIDE, acquired.profile));
    const fits = largestFitting(module);
    expect(fits).toBeGreaterThan(64_000);
    expect(await decodeError(module, 2_048)).toBeLessThan(1e-4);
    expect(await decodeError(module, fits)).toBeLessThan(1e-4);
    await expectRefused(module, fits + 1, fits);
  }, 300_000);

  it('the tiled variant (portable target) on llvmpipe: right up to its bound, refused past it', async () => {
    const module = fusedOnly(compiled(DENSE, 'portable'));
    expect(module.plan.kernels[0]!.wgsl).toContain('variant tiled');
    const fits = largestFitting(module);
    expect(await decodeError(module, fits)).toBeLessThan(1e-4);
    await expectRefused(module, 70_000, fits);
  });

  it('window | random: each key and tile scans the drawn blocks, so ~12,700 keys', async () => {
    const module = fusedOnly(compiled(RANDOM, acquired.profile));
    const fits = largestFitting(module);
    expect(fits).toBeGreaterThan(12_000);
    expect(await decodeError(module, fits)).toBeLessThan(1e-4);
    await expectRefused(module, 70_000, fits);
  });

  it('cluster(2): the bucket lists walk one chunk of 4,096 keys per invocation, so the routed row sets the limit (~65,500 keys)', async () => {
    // Before, one invocation per bucket passed over every key twice: 32,766 keys at most, and
    // 40,000 keys came out wrong without the check. Now the lists' bound stays at one chunk
    // (plus the chunks' counts) and the routed kernels, which walk a bucket's list of at most
    // every key, are the limit.
    const module = compiled(CLUSTER, acquired.profile);
    const fits = largestFitting(module);
    expect(fits).toBeGreaterThan(65_000);
    const bound = (suffix: string) =>
      evalSize(module.plan.kernels.find((k) => k.name.endsWith(suffix))!.loopIterations!, {
        batch: 1,
        seqQ: 1,
        seqK: fits,
      });
    expect(bound('.bucket_counts')).toBe(4_097);
    expect(bound('.bucket_lists')).toBe(4_097 + 17);
    expect(await decodeError(module, 40_000)).toBeLessThan(1e-4);
    expect(await decodeError(module, fits)).toBeLessThan(1e-4);
    await expectRefused(module, 70_000, fits);
  }, 120_000);

  it('head routing over 64 heads, top(32): select takes 16 rows per invocation, not 64', async () => {
    // With 64 rows an invocation of select needed ~145,000 iterations: wrong output, no error.
    const module = compiled(ROUTED_HEADS, acquired.profile);
    const select = module.plan.kernels.find((k) => k.name === 'head_routing.select')!;
    expect(select.wgsl).toContain('const CHUNK: u32 = 16u;');
    const inputs = randomInputs(module, { batch: 1, seqQ: 64, seqK: 64, seed: 3 });
    const kernel = await loadChecked(acquired.device, module);
    try {
      const { o } = await kernel.run(inputs);
      expect(compareOutput(o, reference(module, inputs).o).relativeError).toBeLessThan(1e-4);
    } finally {
      kernel.destroy();
    }
  });

  it('window | sink walks a band, not the range: 70,000 keys run and match the reference', async () => {
    const module = compiled(WINDOW, acquired.profile);
    expect(largestFitting(module)).toBeGreaterThan(1_000_000);
    expect(await decodeError(module, 70_000)).toBeLessThan(1e-4);
  });

  it('routed topk(2): a pass over the candidate blocks per row, so ~149,000 keys', async () => {
    const module = compiled(TOPK_SORTED, acquired.profile);
    const fits = largestFitting(module);
    expect(fits).toBeGreaterThan(140_000);
    expect(await decodeError(module, fits)).toBeLessThan(1e-4);
    await expectRefused(module, fits + 1, fits);
  }, 120_000);

  it('routed topk(100) finds a threshold in 34 passes over the blocks, so ~20,000 keys', async () => {
    const module = compiled(TOPK_THRESHOLD, acquired.profile);
    const fits = largestFitting(module);
    expect(fits).toBeGreaterThan(20_000);
    expect(await decodeError(module, fits)).toBeLessThan(1e-4);
    await expectRefused(module, fits + 1, fits);
  }, 120_000);

  it('linformer, head_dim 256: per-key row loops split into loops of 32, matching at max_seq', async () => {
    // Before, a chunk of 2,048 keys paid 131 iterations a key: relative error 1 at 4,096 keys.
    // The first (uncached) compile of the unrolled loops takes up to ~140 s on llvmpipe.
    const module = compiled(
      'attention lf { heads: 1; head_dim: 256; max_seq: 4096; lowrank: linformer(8) }',
      acquired.profile,
    );
    expect(largestFitting(module)).toBeGreaterThan(4096);
    expect(await decodeError(module, 4096)).toBeLessThan(1e-4);
  }, 300_000);

  it('causal linear: the scan, bounded by its slots, matches the reference', async () => {
    const module = compiled(
      'attention lin { heads: 1; head_dim: 16; causal: true; kernel: elu1 }',
      acquired.profile,
    );
    expect(largestFitting(module)).toBeGreaterThan(1_000_000);
    expect(await decodeError(module, 5_000)).toBeLessThan(1e-4);
  });

  it('non-causal linear: a slot of the states kernel holds seqK / slots keys, ~512,000 keys', async () => {
    const module = compiled(
      'attention lin { heads: 1; head_dim: 16; kernel: elu1 }',
      acquired.profile,
    );
    const fits = largestFitting(module);
    expect(fits).toBeGreaterThan(500_000);
    expect(await decodeError(module, fits)).toBeLessThan(1e-4);
    await expectRefused(module, fits + 1, fits);
  }, 180_000);

  it('nystrom: the landmark values walk every key, so 65,534 keys', async () => {
    const module = compiled(
      'attention ny { heads: 1; head_dim: 16; lowrank: nystrom(8, iters: 2) }',
      acquired.profile,
    );
    const fits = largestFitting(module);
    expect(fits).toBe(65_534);
    // Nyström needs at least m = 8 query rows (one segment per landmark).
    const kernel = await loadChecked(acquired.device, module);
    try {
      const inputs = randomInputs(module, { batch: 1, seqQ: 8, seqK: fits, seed: 3 });
      const { o } = await kernel.run(inputs);
      expect(compareOutput(o, reference(module, inputs).o).relativeError).toBeLessThan(1e-3);
      const over = randomInputs(module, { batch: 1, seqQ: 8, seqK: fits + 1, seed: 3 });
      await expect(kernel.run(over)).rejects.toThrow(
        /kernel '\S+nystrom-landmark-values' would run up to 65536 loop iterations .*at most seqK = 65534 fits/,
      );
    } finally {
      kernel.destroy();
    }
  }, 120_000);

  /** The kernel's bound at these sizes. */
  function boundOf(module: CompiledModule, suffix: string, seqK: number): number {
    const kernel = module.plan.kernels.find((k) => k.name.endsWith(suffix))!;
    return evalSize(kernel.loopIterations!, { batch: 1, seqQ: 1, seqK });
  }

  it('topk with one block of 2^20 keys: the block means walk every key, as the row does', async () => {
    const module = compiled(
      'attention topk { heads: 1; head_dim: 16; mask: topk(1, block: 1048576) }',
      acquired.profile,
    );
    const fits = largestFitting(module);
    expect(fits).toBeGreaterThan(65_000);
    // The means kernel's bound, min(seqK, block) + 1, is what limits it without the row's.
    expect(boundOf(module, '.means', fits)).toBe(fits + 1);
    expect(await decodeError(module, fits)).toBeLessThan(1e-4);
    await expectRefused(module, fits + 1, fits);
    const meansOnly: CompiledModule = {
      ...module,
      plan: {
        ...module.plan,
        kernels: module.plan.kernels.map((k) => {
          if (k.name.endsWith('.means')) return k;
          const { loopIterations: _, ...unbounded } = k;
          return unbounded;
        }),
      },
    };
    await expectRefused(meansOnly, 65_535, 65_534);
  }, 120_000);

  it('cluster(65000): each row and each key scores every centroid; the largest fitting seqK matches', async () => {
    const module = compiled(
      'attention cluster { heads: 1; head_dim: 16; mask: cluster(65000) }',
      acquired.profile,
    );
    expect(boundOf(module, '.key_buckets', 1)).toBe(65_001);
    const fits = largestFitting(module);
    expect(fits).toBeGreaterThan(500);
    expect(await decodeError(module, fits)).toBeLessThan(1e-4);
    await expectRefused(module, fits + 1, fits);
  }, 120_000);

  it('cluster(131072) and lsh with 2^18 buckets fit at no size: refused saying so; unchecked, wrong', async () => {
    for (const text of [
      'attention cluster { heads: 1; head_dim: 16; mask: cluster(131072) }',
      'attention lsh { heads: 1; head_dim: 16; mask: lsh(buckets: 262144) }',
    ]) {
      const module = compiled(text, acquired.profile);
      const inputs = randomInputs(module, { batch: 1, seqQ: 1, seqK: 64, seed: 3 });
      const kernel = await loadChecked(acquired.device, module);
      try {
        await expect(kernel.run(inputs)).rejects.toThrow(
          /^kernel '\w+\.(cluster|lsh)0\.key_buckets' would run up to \d+ loop iterations per invocation at batch=1, seqQ=1, seqK=64; this device \(llvmpipe\) ends every loop of an invocation after 65535 in all, with no error, so the output would be wrong\. No size fits this kernel: the spec's constants alone need \d+ at batch=1, seqQ=seqK=1/,
        );
      } finally {
        kernel.destroy();
      }
    }
    // Without the check, llvmpipe stops each key's and each row's search half way: with only
    // the last two centroids non-zero (+x and -x on the first axis), the keys fall into two
    // buckets by the sign of that coordinate, but the cut search puts every key in bucket 0.
    const module = compiled(
      'attention cluster { heads: 1; head_dim: 16; mask: cluster(131072) }',
      acquired.profile,
    );
    const inputs = randomInputs(module, { batch: 1, seqQ: 1, seqK: 64, seed: 3 });
    const centroids = new Float32Array(131072 * 16);
    centroids[131071 * 16] = 1;
    centroids[131070 * 16] = -1;
    const crafted = { ...inputs, centroids };
    const kernel = await loadChecked(acquired.device, withoutBound(module));
    try {
      const { o } = await kernel.run(crafted);
      expect(compareOutput(o, reference(module, crafted).o).relativeError).toBeGreaterThan(1e-3);
    } finally {
      kernel.destroy();
    }
  }, 120_000);
});
