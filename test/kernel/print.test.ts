// The kernel IR printer: declarations one a line, `main` as an outline, raw WGSL marked, host
// sizes as formulas. (`attnc explain --kernels` goldens: test/cli/explain-kernels.test.ts.)

import { describe, expect, it } from 'vitest';
import { size } from '../../src/codegen/plan.js';
import {
  block,
  call,
  f32,
  index,
  KernelBuilder,
  lt,
  member,
  T,
  u32,
} from '../../src/kernel/build.js';
import { printKernel, printSize } from '../../src/kernel/print.js';

describe('kernel IR printer', () => {
  it('prints declarations, then main as an outline', () => {
    const k = new KernelBuilder(128);
    k.header('attnc demo');
    k.const('C', T.u32, u32(8));
    k.uniform('total', size.mul('batch', size.ceilDiv('seqK', 8)));
    k.storage(2, 'lin', 'read', T.vec(4, 'f32'));
    k.workgroupVar('kf', T.array(T.vec(4, 'f32'), 'C'));
    k.function({
      name: 'ld',
      params: [{ name: 'i', type: T.u32 }],
      returns: T.vec(4, 'f32'),
      body: block((b) => b.return(index('lin', 'i'))),
    });
    k.gridIndex('workgroup', 'linear', 'total');
    k.main((b) => {
      b.comment('stage, then sum');
      const acc = b.var('acc', f32(0));
      b.for(
        'r',
        u32(0),
        (r) => lt(r, 'C'),
        (body) => {
          body.if(
            lt(call('extra', 'r'), u32(1)),
            (t) => t.continue(),
            (e) => e.barrier(),
          );
          body.compound(acc, '+=', member(index('kf', 'r'), 'x'));
        },
      );
      b.blank();
      b.call('noop', acc);
    });
    expect(printKernel('demo.kernel', k.build())).toBe(
      [
        'kernel demo.kernel',
        '  // attnc demo',
        '  const C: u32 = 8u',
        '  uniform total = batch * ceilDiv(seqK, 8)',
        '  storage 2 lin: read array<vec4<f32>>',
        '  workgroup kf: array<vec4<f32>, C>',
        '  fn ld(i: u32) -> vec4<f32>',
        '    return lin[i]',
        // C = 8 trips: unrolled, so the loop costs nothing.
        '  main workgroup_size 128, workgroup linear < P.total, loop iterations <= 0 (derived)',
        '    // stage, then sum',
        '    var acc = 0.0',
        '    for var r = 0u; r < C; r++',
        '      if extra(r) < 1u',
        '        continue',
        '      else',
        '        barrier workgroup',
        '      acc += kf[r].x',
        '    noop(acc)',
        '',
      ].join('\n'),
    );
  });

  it('prints host sizes with the parentheses they need', () => {
    expect(printSize(size.mul('batch', size.add('seqQ', 2)))).toBe('batch * (seqQ + 2)');
    expect(printSize(size.sub('seqK', size.sub('seqQ', 1)))).toBe('seqK - (seqQ - 1)');
    expect(printSize(size.add(size.sub('seqK', 1), 3))).toBe('seqK - 1 + 3');
    expect(printSize(size.alignUp(size.max('seqK', 7), 4))).toBe('ceilDiv(max(seqK, 7), 4) * 4');
  });
});
