// The builder: expressions chain left to right, statements land in order, kernels keep the
// order of their declarations, and a kernel without a grid or body is refused.

import { describe, expect, it } from 'vitest';
import {
  add,
  block,
  f32,
  f32Scientific,
  hexU32,
  KernelBuilder,
  lt,
  mul,
  ref,
  T,
  u32,
} from '../../src/kernel/build.js';

describe('kernel builder', () => {
  it('chains binary operators to the left and takes names as references', () => {
    expect(add('a', 'b', u32(1))).toEqual({
      kind: 'binary',
      op: '+',
      left: {
        kind: 'binary',
        op: '+',
        left: { kind: 'ref', name: 'a' },
        right: { kind: 'ref', name: 'b' },
      },
      right: { kind: 'literal', scalar: 'u32', value: 1 },
    });
    expect(hexU32(0xffffffff)).toEqual({
      kind: 'literal',
      scalar: 'u32',
      value: 0xffffffff,
      hex: true,
    });
    expect(f32Scientific(-3e38)).toEqual({
      kind: 'literal',
      scalar: 'f32',
      value: -3e38,
      scientific: true,
    });
  });

  it('collects statements in order, with for loops over a named counter', () => {
    const stmts = block((b) => {
      const acc = b.var('acc', f32(0));
      b.for(
        'i',
        u32(0),
        (i) => lt(i, u32(4)),
        (body, i) => body.compound(acc, '+=', i),
      );
      b.if(lt(acc, f32(1)), (t) => t.return(), undefined, { oneLine: true });
      b.barrier();
    });
    expect(stmts.map((s) => s.kind)).toEqual(['var', 'for', 'if', 'barrier']);
    const loop = stmts[1]!;
    if (loop.kind !== 'for') throw new Error('not a for');
    expect(loop.init).toEqual({ kind: 'var', name: 'i', value: u32(0) });
    expect(loop.update).toEqual({ kind: 'increment', target: ref('i'), op: '++' });
    expect(loop.body).toEqual([
      { kind: 'compound', target: ref('acc'), op: '+=', value: ref('i') },
    ]);
    expect(stmts[2]).toMatchObject({ kind: 'if', oneLine: true, else: null });
  });

  it('builds a kernel with its declarations in order', () => {
    const k = new KernelBuilder(32);
    k.header('a test kernel');
    const N = k.const('N', T.u32, u32(8));
    const n = k.uniform('n', 'seqQ');
    k.uniform('total', 'batch');
    k.storage(1, 'buf', 'read_write', T.f32);
    k.workgroupVar('tile', T.array(T.f32, N));
    const x = k.gridIndex('invocation', 'x', 'total');
    k.main((b) => b.store('buf', x, mul(n, N)));
    const kernel = k.build();
    expect(kernel.uniforms).toEqual([
      { name: 'n', value: 'seqQ' },
      { name: 'total', value: 'batch' },
    ]);
    expect(kernel.grid).toEqual({ kind: 'invocation', index: 'x', bound: 'total' });
    expect(kernel.workgroupVars[0]!.type).toEqual({
      kind: 'array',
      element: T.f32,
      length: ref('N'),
    });
    expect(kernel.body).toHaveLength(1);
  });

  it('refuses a kernel without a grid or a body', () => {
    expect(() => new KernelBuilder(64).build()).toThrow(/needs a grid and a body/);
  });
});
