// The runtime's refusal of runs over a device's loop budget (src/runtime/loop-budget.ts),
// without a device: which adapters have a budget, the error's text, and that a kernel with
// no bound or a device with no budget is not checked.

import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import type { HostPlan } from '../../src/codegen/plan.js';
import { checkRunSizes } from '../../src/runtime/loaded-kernel.js';
import {
  checkLoopBudget,
  deviceLoopBudget,
  LLVMPIPE_LOOP_BUDGET,
} from '../../src/runtime/loop-budget.js';

function plan(text: string): HostPlan {
  const result = compile(text, { target: 'llvmpipe' });
  expect(result.diagnostics).toEqual([]);
  return result.modules[0]!.plan;
}

const dense = plan('attention dense { heads: 1; head_dim: 64; causal: true }');
const device = (description: string) => ({ adapterInfo: { description } }) as unknown as GPUDevice;

describe('loop budget', () => {
  it('llvmpipe has one of 65,535; SwiftShader, hardware and unknown devices have none', () => {
    expect(deviceLoopBudget(device('llvmpipe (LLVM 15.0.6, 256 bits)'))).toBe(65_535);
    expect(deviceLoopBudget(device('SwiftShader driver 5.0.0'))).toBeNull();
    expect(deviceLoopBudget(device('NVIDIA GeForce RTX 4090'))).toBeNull();
    expect(deviceLoopBudget({} as GPUDevice)).toBeNull();
  });

  it('a run over the budget is refused, naming the kernel, the sizes and what fits', () => {
    // Dense causal, rowwise: seqK + ceil(seqK / 64) + 2 iterations; 64,524 keys fit. seqQ 17:
    // the fused kernel (up to 16 rows run the split-K decode kernels, whose rows are short).
    expect(() =>
      checkLoopBudget(dense, { batch: 1, seqQ: 17, seqK: 70_000 }, LLVMPIPE_LOOP_BUDGET),
    ).toThrow(
      "kernel 'dense.softmax' would run up to 71096 loop iterations per invocation at " +
        'batch=1, seqQ=17, seqK=70000; this device (llvmpipe) ends every loop of an invocation ' +
        'after 65535 in all, with no error, so the output would be wrong (at most seqK = 64524 ' +
        'fits at this seqQ; SwiftShader or a hardware GPU has no such limit)',
    );
    expect(() =>
      checkLoopBudget(dense, { batch: 1, seqQ: 17, seqK: 64_524 }, LLVMPIPE_LOOP_BUDGET),
    ).not.toThrow();
    expect(() =>
      checkLoopBudget(dense, { batch: 1, seqQ: 70_000, seqK: 70_000 }, LLVMPIPE_LOOP_BUDGET),
    ).toThrow(/no seqK fits at seqQ = 70000/);
  });

  it('a spec whose constants alone pass the budget fits at no size, and the error says so', () => {
    const clusters = plan('attention wide { heads: 1; head_dim: 256; mask: cluster(1024) }');
    expect(() =>
      checkLoopBudget(clusters, { batch: 1, seqQ: 4, seqK: 8 }, LLVMPIPE_LOOP_BUDGET),
    ).toThrow(
      "kernel 'wide.cluster0.key_buckets' would run up to 264193 loop iterations per " +
        'invocation at batch=1, seqQ=4, seqK=8; this device (llvmpipe) ends every loop of an ' +
        'invocation after 65535 in all, with no error, so the output would be wrong. No size ' +
        "fits this kernel: the spec's constants alone need 264193 at batch=1, seqQ=seqK=1 (SwiftShader or " +
        'a hardware GPU has no such limit)',
    );
  });

  it('checkRunSizes checks it only when given a budget; a kernel without a bound is not checked', () => {
    const sizes = { batch: 1, seqQ: 17, seqK: 70_000 };
    const noBudget = {
      maxBufferSize: 2 ** 40,
      maxStorageBufferBindingSize: 2 ** 40,
      loopBudget: null,
    };
    const llvmpipe = { ...noBudget, loopBudget: LLVMPIPE_LOOP_BUDGET };
    expect(() => checkRunSizes(dense, sizes)).not.toThrow();
    expect(() => checkRunSizes(dense, sizes, noBudget)).not.toThrow();
    expect(() => checkRunSizes(dense, sizes, llvmpipe)).toThrow(/loop iterations/);
    const unbounded: HostPlan = {
      ...dense,
      kernels: dense.kernels.map(({ loopIterations: _, ...kernel }) => kernel),
    };
    expect(() => checkRunSizes(unbounded, sizes, llvmpipe)).not.toThrow();
  });
});
