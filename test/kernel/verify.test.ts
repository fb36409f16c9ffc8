// The kernel verifier: a well-formed kernel passes, and each rule has a kernel that breaks it
// (and only it). compile.ts turns any problem into an internal error naming the kernel.

import { describe, expect, it } from 'vitest';
import {
  add,
  eq,
  f32,
  ge,
  index,
  KernelBuilder,
  lt,
  mul,
  T,
  u32,
  workgroupUniformLoad,
  type Body,
} from '../../src/kernel/build.js';
import type { Grid, Kernel } from '../../src/kernel/ir.js';
import { prepareKernel } from '../../src/kernel/prepare.js';
import { verifyKernel, type KernelRule } from '../../src/kernel/verify.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';

const limits = PORTABLE_PROFILE.limits;

interface Shape {
  readonly grid?: Grid['kind'];
  readonly workgroupSize?: number;
  readonly storage?: number;
  readonly tile?: number;
  readonly access?: 'read' | 'read_write';
}

/** A kernel with `data` (storage) and `tile` (workgroup memory) around `body`. */
function kernel(body: Body, shape: Shape = {}): Kernel {
  const k = new KernelBuilder(shape.workgroupSize ?? 64);
  const TILE = k.const('TILE', T.u32, u32(shape.tile ?? 64));
  k.uniform('total', 'batch');
  k.uniform('n', 'seqK');
  k.storage(1, 'data', shape.access ?? 'read_write', T.f32);
  for (let i = 2; i <= (shape.storage ?? 1); i++) k.storage(i, `extra${i}`, 'read', T.f32);
  k.workgroupVar('tile', T.array(T.f32, TILE));
  k.gridIndex(shape.grid ?? 'workgroup', 'w', 'total');
  return k.main(body).build();
}

function rules(k: Kernel): KernelRule[] {
  return verifyKernel(k, limits).map((p) => p.rule);
}

/** Stage one value per invocation, then read the tile after a barrier. */
const staged: Body = (b) => {
  b.assign(index('tile', 'lid'), index('data', add('w', 'lid')));
  b.barrier();
  b.store('data', 'w', index('tile', u32(0)));
};

describe('kernel verifier', () => {
  it('accepts a well-formed kernel with a barrier in uniform control flow', () => {
    expect(verifyKernel(kernel(staged), limits)).toEqual([]);
    const loop = kernel((b) => {
      b.for(
        'j',
        u32(0),
        (j) => lt(j, { kind: 'uniform', name: 'n' }),
        (body) => staged(body),
      );
    });
    expect(verifyKernel(loop, limits)).toEqual([]);
  });

  it('undefined-reference: a name used before it is defined, out of its scope, or no uniform', () => {
    const early = kernel((b) => {
      b.store('data', 'w', 'later');
      b.let('later', f32(1));
    });
    expect(verifyKernel(early, limits)).toEqual([
      { rule: 'undefined-reference', message: 'main: `later` is used before it is defined' },
    ]);
    const scoped = kernel((b) => {
      b.if(lt('w', u32(1)), (t) => t.let('inner', f32(1)));
      b.store('data', 'w', 'inner');
    });
    expect(rules(scoped)).toEqual(['undefined-reference']);
    const loopVar = kernel((b) => {
      b.for(
        'j',
        u32(0),
        (j) => lt(j, u32(4)),
        () => {},
      );
      b.store('data', 'j', f32(0));
    });
    expect(rules(loopVar)).toEqual(['undefined-reference']);
    const field = kernel((b) => b.store('data', 'w', f32(1)));
    expect(rules(field)).toEqual([]);
    const noField = kernel((b) => b.store('data', { kind: 'uniform', name: 'nope' }, f32(0)));
    expect(verifyKernel(noField, limits)[0]!.message).toBe(
      'main: `P.nope` is not a field of Params',
    );
  });

  it('duplicate-binding: a binding number or name used twice', () => {
    const k = new KernelBuilder(64);
    k.storage(1, 'a', 'read', T.f32);
    k.storage(1, 'b', 'read', T.f32);
    k.storage(2, 'a', 'read', T.f32);
    k.gridIndex('invocation', 'x', null);
    const problems = verifyKernel(k.main(() => {}).build(), limits);
    expect(problems).toEqual([
      {
        rule: 'duplicate-binding',
        message: 'binding 1 (`b`) is used twice (0 is the Params uniform)',
      },
      { rule: 'duplicate-binding', message: 'two bindings are named `a`' },
    ]);
  });

  it('too-many-storage-buffers: past maxStorageBuffersPerShaderStage', () => {
    expect(rules(kernel(staged, { storage: limits.maxStorageBuffersPerShaderStage }))).toEqual([]);
    const over = kernel(staged, { storage: limits.maxStorageBuffersPerShaderStage + 1 });
    expect(verifyKernel(over, limits)).toEqual([
      {
        rule: 'too-many-storage-buffers',
        message: `5 storage bindings, but the profile allows 4 per stage`,
      },
    ]);
  });

  it('store-to-read-only: a store through a read binding', () => {
    expect(rules(kernel(staged, { access: 'read' }))).toEqual(['store-to-read-only']);
  });

  it('workgroup-memory: past maxComputeWorkgroupStorageSize, or a length that is not constant', () => {
    const most = limits.maxComputeWorkgroupStorageSize;
    expect(rules(kernel(staged, { tile: most / 4 }))).toEqual([]);
    expect(verifyKernel(kernel(staged, { tile: most / 4 + 1 }), limits)).toEqual([
      {
        rule: 'workgroup-memory',
        message: `${most + 4} bytes of workgroup memory, but the profile allows ${most}`,
      },
    ]);
    const k = new KernelBuilder(64);
    k.workgroupVar('t', T.array(T.vec(3, 'f32'), mul(u32(2), 'UNKNOWN')));
    k.gridIndex('invocation', 'x', null);
    expect(rules(k.main(() => {}).build())).toEqual(['workgroup-memory']);
  });

  it('workgroup-size: past the profile limits', () => {
    expect(
      rules(kernel(staged, { workgroupSize: limits.maxComputeInvocationsPerWorkgroup })),
    ).toEqual([]);
    expect(
      rules(kernel(staged, { workgroupSize: limits.maxComputeInvocationsPerWorkgroup * 2 })),
    ).toEqual(['workgroup-size']);
    expect(rules(kernel(staged, { workgroupSize: 0 }))).toEqual(['workgroup-size']);
  });

  it('nonuniform-barrier: under a branch on the invocation', () => {
    const k = kernel((b) => b.if(lt('lid', u32(4)), (t) => t.barrier()));
    expect(verifyKernel(k, limits)).toEqual([
      {
        rule: 'nonuniform-barrier',
        message:
          'main: a workgroup barrier under a condition that depends on the invocation or on loaded data: not every invocation of the workgroup reaches it',
      },
    ]);
  });

  it('nonuniform-barrier: under a loop bound read from storage, through a let', () => {
    const k = kernel((b) => {
      const count = b.let('count', index('data', 'w'));
      b.for(
        'j',
        u32(0),
        (j) => lt(j, count),
        (body) => body.barrier(),
      );
    });
    expect(rules(k)).toEqual(['nonuniform-barrier']);
  });

  it('nonuniform-barrier: after the guard return of an invocation grid', () => {
    expect(rules(kernel(staged, { grid: 'invocation' }))).toEqual(['nonuniform-barrier']);
    expect(verifyKernel(kernel(staged, { grid: 'invocation' }), limits)[0]!.message).toContain(
      'after a return that depends on the invocation',
    );
  });

  it('nonuniform-barrier: in a loop a dependent break leaves, or with a var set per invocation', () => {
    const breaks = kernel((b) =>
      b.loop((body) => {
        body.barrier();
        body.if(ge('lid', u32(3)), (t) => t.break(), undefined, { oneLine: true });
      }),
    );
    expect(rules(breaks)).toEqual(['nonuniform-barrier']);
    const assigned = kernel((b) => {
      const flag = b.var('flag', u32(0));
      b.if(lt('lid', u32(2)), (t) => t.assign(flag, u32(1)));
      b.if(lt(flag, u32(1)), (t) => t.barrier());
    });
    expect(rules(assigned)).toEqual(['nonuniform-barrier']);
  });

  it('prepareKernel refuses a kernel that fails, naming it and every problem', () => {
    const k = kernel(
      (b) => {
        b.store('data', 'w', f32(0));
        b.if(lt('lid', u32(4)), (t) => t.barrier());
      },
      { access: 'read' },
    );
    expect(() => prepareKernel('demo.kernel', k, limits)).toThrow(
      /kernel demo\.kernel fails verification:\n {2}store-to-read-only: .*\n {2}nonuniform-barrier: /,
    );
  });

  it('uniformity follows lexical scopes and knows workgroupUniformLoad is uniform', () => {
    // A tile-level `c` read through workgroupUniformLoad, and an inner `c` that varies: the
    // inner one does not taint the outer (the fused softmax kernel has exactly this).
    const shadowed = kernel((b) => {
      b.if(eq('lid', u32(0)), (t) => t.assign(index('tile', u32(0)), u32(1)), undefined, {
        oneLine: true,
      });
      b.loop((body) => {
        const c = body.let('c', workgroupUniformLoad('tile'));
        body.if(eq(c, u32(0)), (t) => t.break(), undefined, { oneLine: true });
        body.if(lt('lid', u32(2)), (t) => t.let('c', index('data', 'lid')));
        body.barrier();
      });
    });
    expect(verifyKernel(shadowed, limits)).toEqual([]);
    // The same name in the same scope, loaded from storage: dependent.
    const loaded = kernel((b) =>
      b.loop((body) => {
        const c = body.let('c', index('data', 'w'));
        body.if(eq(c, u32(0)), (t) => t.break(), undefined, { oneLine: true });
        body.barrier();
      }),
    );
    expect(rules(loaded)).toEqual(['nonuniform-barrier']);
  });
});
