// Subgroups in the kernel IR: the builtin inputs (`lane`, `sgSize`), subgroup operations and
// an atomic workgroup counter render as WGSL with `enable subgroups;` derived from what the
// kernel uses, print in the IR outline, and verify: a subgroup operation, like a barrier,
// only in uniform control flow, and values read from `lane` or a subgroup operation count as
// invocation-dependent.

import { describe, expect, it } from 'vitest';
import {
  addressOf,
  call,
  eq,
  f32,
  index,
  KernelBuilder,
  lt,
  T,
  u32,
  type Body,
} from '../../src/kernel/build.js';
import { kernelFeatures } from '../../src/kernel/features.js';
import { SUBGROUP_INPUTS, type Kernel } from '../../src/kernel/ir.js';
import { printKernel } from '../../src/kernel/print.js';
import { renderKernel } from '../../src/kernel/render-wgsl.js';
import { verifyKernel } from '../../src/kernel/verify.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';

/** One workgroup of 64 with the subgroup inputs, a tickets counter and `data` around `body`. */
function kernel(body: Body, options: { inputs?: boolean } = {}): Kernel {
  const k = new KernelBuilder(64);
  k.uniform('total', 'batch');
  k.storage(1, 'data', 'read_write', T.f32);
  k.workgroupVar('tickets', T.atomicU32);
  k.workgroupVar('slot', T.u32);
  k.gridIndex('workgroup', 'w', 'total');
  if (options.inputs ?? true) k.inputs(SUBGROUP_INPUTS);
  return k.main(body).build();
}

const sum: Body = (b) => {
  b.var('ticket', u32(0));
  b.if(
    call('subgroupElect'),
    (t) => t.assign('ticket', call('atomicAdd', addressOf('tickets'), u32(1))),
    undefined,
    {
      oneLine: true,
    },
  );
  b.let('s', call('subgroupAdd', index('data', 'lane')));
  b.if(eq('lane', u32(0)), (t) => t.store('data', 'w', 's'));
};

const problems = (k: Kernel) => verifyKernel(k, PORTABLE_PROFILE.limits);

describe('subgroups in the kernel IR', () => {
  it('renders the inputs, the atomic and `enable subgroups;` from the features used', () => {
    const k = kernel(sum);
    expect(kernelFeatures(k)).toEqual(['subgroups']);
    const wgsl = renderKernel(k);
    expect(wgsl.startsWith('enable subgroups;\n\n')).toBe(true);
    expect(wgsl).toContain('var<workgroup> tickets: atomic<u32>;');
    expect(wgsl).toContain(
      [
        '  @builtin(local_invocation_index) lid: u32,',
        '  @builtin(subgroup_invocation_id) lane: u32,',
        '  @builtin(subgroup_size) sgSize: u32,',
        ') {',
      ].join('\n'),
    );
    expect(wgsl).toContain('if (subgroupElect()) { ticket = atomicAdd(&tickets, 1u); }');
    expect(wgsl).toContain('let s = subgroupAdd(data[lane]);');
  });

  it('the subgroup inputs alone need the feature; a kernel without subgroups has none', () => {
    expect(kernelFeatures(kernel((b) => b.store('data', 'w', f32(1))))).toEqual(['subgroups']);
    const plain = kernel((b) => b.store('data', 'w', f32(1)), { inputs: false });
    expect(kernelFeatures(plain)).toEqual([]);
    expect(renderKernel(plain).startsWith('enable')).toBe(false);
  });

  it('prints the inputs in the IR outline', () => {
    const printed = printKernel('k', kernel(sum));
    expect(printed).toContain('  input lane: u32 = builtin subgroup_invocation_id\n');
    expect(printed).toContain('  input sgSize: u32 = builtin subgroup_size\n');
    expect(printed).toContain('  workgroup tickets: atomic<u32>\n');
  });

  it('accepts subgroup operations in uniform control flow, counting the atomic in memory', () => {
    expect(problems(kernel(sum))).toEqual([]);
  });

  it('needs the inputs declared to read them', () => {
    expect(problems(kernel(sum, { inputs: false })).map((p) => p.rule)).toContain(
      'undefined-reference',
    );
  });

  it('nonuniform-subgroup-op: under a branch on the lane', () => {
    const k = kernel((b) =>
      b.if(lt('lane', u32(2)), (t) => t.store('data', 'w', call('subgroupMax', f32(1)))),
    );
    expect(problems(k)).toEqual([
      {
        rule: 'nonuniform-subgroup-op',
        message:
          'main: subgroupMax under a condition that depends on the invocation or on loaded data: its lanes may not all reach it',
      },
    ]);
  });

  it('a subgroup result is invocation-dependent: a barrier under it is reported', () => {
    const k = kernel((b) => {
      b.let('first', call('subgroupBroadcastFirst', 'lane'));
      b.if(eq('first', u32(0)), (t) => t.barrier());
    });
    expect(problems(k).map((p) => p.rule)).toEqual(['nonuniform-barrier']);
  });

  it('an atomic result is invocation-dependent; sgSize is uniform', () => {
    const atomic = kernel((b) => {
      b.let('n', call('atomicLoad', addressOf('tickets')));
      b.if(lt('n', u32(2)), (t) => t.barrier());
    });
    expect(problems(atomic).map((p) => p.rule)).toEqual(['nonuniform-barrier']);
    const size = kernel((b) => b.if(lt('sgSize', u32(8)), (t) => t.barrier()));
    expect(problems(size)).toEqual([]);
  });
});
