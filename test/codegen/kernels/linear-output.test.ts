// The linear output kernel on the kernel IR, without a GPU: built as IR for every variant
// (feature maps, causal, head routing, f16, scalar widths), verified against the profile,
// rendered as the plan records it, and carrying a loop bound that counts its spec-constant
// feature loops, so the runtime can refuse what llvmpipe's budget would cut short. Results
// are checked against the reference on llvmpipe (test/kernels/linear.gpu.test.ts,
// linear-output-budget.gpu.test.ts); the WGSL is pinned by generated/ and the goldens.

import { describe, expect, it } from 'vitest';
import { compile } from '../../../src/api/compile.js';
import { compileAttention } from '../../../src/codegen/compile.js';
import { evalSize } from '../../../src/codegen/plan.js';
import { renderKernel } from '../../../src/kernel/render-wgsl.js';
import { verifyKernel } from '../../../src/kernel/verify.js';
import { LLVMPIPE_LOOP_BUDGET } from '../../../src/runtime/loop-budget.js';
import { LLVMPIPE_PROFILE, PORTABLE_PROFILE } from '../../../src/target/profile.js';
import { asF16 } from '../../kernels/build.js';
import { linearAttention, phi } from '../../kernels/linear-cases.js';

const SIZES = { batch: 1, seqQ: 65, seqK: 65 };

function outputKernel(text: string) {
  const result = compile(text, { target: 'llvmpipe' });
  expect(result.diagnostics).toEqual([]);
  const plan = result.modules[0]!.plan;
  const output = plan.kernels.find((k) => k.name.endsWith('.linear_output'))!;
  expect(output).toBeDefined();
  return output;
}

const boundOf = (text: string) => evalSize(outputKernel(text).loopIterations!, SIZES);

describe('the linear output kernel on the kernel IR', () => {
  const cases = [
    ['elu1', linearAttention({ kernel: phi.elu1() })],
    ['relu causal bnhd', linearAttention({ kernel: phi.relu(), causal: true, layout: 'bnhd' })],
    [
      'favor(40) causal GQA',
      linearAttention({ kernel: phi.favor(40), causal: true, heads: 4, kvHeads: 2 }),
    ],
    ['favor(6) odd dims', linearAttention({ kernel: phi.favor(6), headDim: 7, valueDim: 5 })],
    ['elu1 causal f16', asF16(linearAttention({ kernel: phi.elu1(), causal: true }))],
  ] as const;
  for (const [name, a] of cases)
    for (const profile of [LLVMPIPE_PROFILE, PORTABLE_PROFILE])
      it(`${name} on ${profile.name}: built as IR, verified, rendered as planned, bounded`, () => {
        const compiled = compileAttention(a, profile, {});
        const kernel = compiled.kernels.find((k) => k.name.endsWith('.linear_output'))!;
        expect(kernel.ir).not.toBeNull();
        expect(verifyKernel(kernel.ir!, profile.limits)).toEqual([]);
        const planned = compiled.plan.kernels.find((k) => k.name === kernel.name)!;
        expect(planned.wgsl).toBe(renderKernel(kernel.ir!));
        expect(planned.loopIterations).toEqual(kernel.ir!.loopIterations);
        expect(typeof planned.loopIterations).toBe('number');
      });

  it('under head routing (causal): the workgroup shares its kept-row list and chunk walk', () => {
    const output = outputKernel(
      'attention r { heads: 4; head_dim: 16; causal: true; kernel: elu1; head_routing: top(2) }',
    );
    expect(output.wgsl).toContain('if (lid == 0u) { wgKeptList = findKeptList(linear); }');
    expect(output.wgsl).toContain('let routeList = workgroupUniformLoad(&wgKeptList);');
    expect(output.wgsl).toContain('cc = workgroupUniformLoad(&wgChunk);');
    expect(output.wgsl).toContain('let inv = routeWeight / (den + EPS);');
  });

  it('counts the feature loops: the bound grows with features x value_dim', () => {
    const favor = (m: number, dv: number) =>
      boundOf(`attention a { heads: 1; head_dim: 64; value_dim: ${dv}; kernel: favor(${m}) }`);
    expect(favor(2048, 256)).toBeGreaterThan(2048 * 16);
    expect(favor(4096, 256)).toBeGreaterThan(2 * favor(2048, 256) - 1000);
    // The state rows alone: 1,024 phi vectors, each a loop of 64 value vectors (not unrolled).
    expect(favor(4096, 256)).toBeGreaterThan(1024 * 65);
    expect(favor(4096, 256)).toBeGreaterThan(LLVMPIPE_LOOP_BUDGET);
    // Within 32 constant trips Mesa unrolls the value loop: it costs nothing.
    expect(favor(4096, 128)).toBeLessThan(LLVMPIPE_LOOP_BUDGET);
  });

  it('does not grow with seqK, and the elementwise maps fit at the widest head', () => {
    const output = outputKernel(
      'attention a { heads: 1; head_dim: 256; value_dim: 256; causal: true; kernel: elu1 }',
    );
    const at = (seqK: number) => evalSize(output.loopIterations!, { batch: 1, seqQ: 1, seqK });
    expect(at(1_000_000)).toBe(at(1));
    expect(at(1)).toBeLessThan(LLVMPIPE_LOOP_BUDGET);
  });

  it('under head routing adds the kept-list search and the chunk walk', () => {
    const spec = (routing: string) =>
      `attention a { heads: 4; head_dim: 16; causal: true; kernel: favor(32)${routing} }`;
    expect(boundOf(spec('; head_routing: top(2)'))).toBeGreaterThan(boundOf(spec('')) + 64);
  });
});
