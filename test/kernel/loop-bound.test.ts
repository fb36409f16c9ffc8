// The loop bound derived from the kernel IR (src/kernel/loop-bound.ts): what each loop form
// costs (constant loops of up to 32 trips unrolled and free, others trips + 1), run-time trip
// counts from uniforms, clipped and strided loops, helpers paid per call, the larger branch
// of an `if`; loops whose trips the IR does not show are reported, and prepareKernel refuses
// a kernel with neither a derived nor a hand bound.

import { describe, expect, it } from 'vitest';
import { evalSize } from '../../src/codegen/plan.js';
import {
  add,
  block,
  call,
  div,
  KernelBuilder,
  lt,
  min,
  mul,
  T,
  u32,
  uniform,
  type BlockBuilder,
} from '../../src/kernel/build.js';
import type { Kernel } from '../../src/kernel/ir.js';
import { deriveLoopIterations } from '../../src/kernel/loop-bound.js';
import { kernelLoopIterations } from '../../src/kernel/prepare.js';

function kernel(body: (b: BlockBuilder) => void, setup?: (k: KernelBuilder) => void): Kernel {
  const k = new KernelBuilder(64);
  k.uniform('n', 'seqK');
  k.uniform('total', 'seqQ');
  k.const('C', T.u32, u32(40));
  setup?.(k);
  k.gridIndex('invocation', 'x', 'total');
  k.main(body);
  return k.build();
}

/** The derived bound at seqK = n (batch 1, seqQ 1). */
function boundAt(kernelValue: Kernel, n: number): number {
  const derived = deriveLoopIterations(kernelValue);
  if (derived.kind !== 'bounded') throw new Error(derived.where);
  return evalSize(derived.iterations, { batch: 1, seqQ: 1, seqK: n });
}

const nothing = () => {};

describe('the loop bound derived from the kernel IR', () => {
  it('a constant loop of at most 32 trips is unrolled and free; a longer one pays trips + 1', () => {
    expect(
      boundAt(
        kernel((b) => b.range('d', u32(32), nothing)),
        0,
      ),
    ).toBe(0);
    expect(
      boundAt(
        kernel((b) => b.range('d', u32(33), nothing)),
        0,
      ),
    ).toBe(34);
    // A named constant is as constant as a literal.
    expect(
      boundAt(
        kernel((b) => b.range('d', 'C', nothing)),
        0,
      ),
    ).toBe(41);
  });

  it('a loop to a uniform runs its host value; nested loops multiply', () => {
    const k = kernel((b) => b.range('j', uniform('n'), (body) => body.range('d', 'C', nothing)));
    // Per trip a step and the inner loop's 41; then the final test.
    expect(boundAt(k, 100)).toBe(100 * (1 + 41) + 1);
    // An unrolled inner loop costs only its own body, nothing here.
    const free = kernel((b) =>
      b.range('j', uniform('n'), (body) => body.range('d', u32(4), nothing)),
    );
    expect(boundAt(free, 100)).toBe(101);
  });

  it('a clipped block `j < min(j0 + B, n)` runs at most B trips, whatever j0 is', () => {
    const k = kernel((b) => {
      const j0 = b.let('j0', mul('x', u32(512)));
      const j1 = b.let('j1', min(add(j0, u32(512)), uniform('n')));
      b.for('j', j0, (j) => lt(j, j1), nothing);
    });
    expect(boundAt(k, 100)).toBe(101);
    expect(boundAt(k, 100_000)).toBe(513);
  });

  it('a loop strided by the workgroup from lid runs ceil(end / stride) trips', () => {
    const k = kernel((b) => b.for('x', 'lid', (x) => lt(x, u32(1000)), nothing, {}));
    // `for (var x = lid; x < 1000u; x++)`: lid is only known to be >= 0.
    expect(boundAt(k, 0)).toBe(1001);
  });

  it('a helper pays its loops once per call; an if pays its larger branch', () => {
    const k = kernel(
      (b) => {
        b.range('j', uniform('n'), (body) => body.call('scan'));
        b.if(
          lt('x', u32(3)),
          (then) => then.range('d', u32(100), nothing),
          (otherwise) => otherwise.range('d', u32(50), nothing),
        );
      },
      (kb) =>
        kb.function({
          name: 'scan',
          params: [],
          returns: null,
          body: [
            {
              kind: 'for',
              init: { kind: 'var', name: 'i', value: u32(0) },
              cond: lt('i', u32(60)),
              update: { kind: 'increment', target: { kind: 'ref', name: 'i' }, op: '++' },
              body: [],
            },
          ],
        }),
    );
    expect(boundAt(k, 10)).toBe(10 * (1 + 61) + 1 + 101);
    // Each call pays, as does one in a loop's condition, at every test.
    const scan = {
      name: 'scan',
      params: [],
      returns: T.u32,
      body: block((b) => {
        b.range('i', u32(60), nothing);
        b.return(u32(4));
      }),
    };
    const twice = kernel(
      (b) => b.let('y', add(call('scan'), call('scan'))),
      (kb) => kb.function(scan),
    );
    expect(boundAt(twice, 0)).toBe(2 * 61);
    // `for (j = 0; j < min(4, scan()); j++)`: 4 trips, each test calling scan (5 tests).
    const inCondition = kernel(
      (b) => b.for('j', u32(0), (j) => lt(j, min(u32(4), call('scan'))), nothing),
      (kb) => kb.function(scan),
    );
    expect(boundAt(inCondition, 0)).toBe(4 * (1 + 61) + 1 + 61);
  });

  it('the segment of a split, floor(t N / M) to floor((t + 1) N / M), runs ceil(N / M) trips', () => {
    const k = kernel((b) => {
      const t = b.let('t', 'lid');
      const first = b.let('first', div(mul(t, uniform('n')), u32(64)));
      const last = b.let('last', div(mul(add(t, u32(1)), uniform('n')), u32(64)));
      b.for('i', first, (i) => lt(i, last), nothing);
    });
    expect(boundAt(k, 6400)).toBe(101);
  });

  it('a let means what it meant where it was declared: shadowing and vars do not change it', () => {
    const shadowed = kernel((b) => {
      const n = b.let('m', uniform('n'));
      const end = b.let('end', n);
      b.if(lt('x', u32(1)), (then) => {
        then.let('m', u32(1));
        then.for('j', u32(0), (j) => lt(j, end), nothing);
      });
    });
    expect(boundAt(shadowed, 1000)).toBe(1001);
    // `let a = v; v += 10; for (j = a; j < v + 5)`: a var is never the same value twice.
    const changed = kernel((b) => {
      const v = b.var('v', 'x');
      const a = b.let('a', v);
      b.compound(v, '+=', u32(10));
      b.for('j', a, (j) => lt(j, add(v, u32(5))), nothing);
    });
    expect(deriveLoopIterations(changed).kind).toBe('unknown');
  });

  it('reports a loop whose trips the IR does not show', () => {
    const whileLoop = kernel((b) => b.while(lt('x', u32(3)), nothing));
    expect(deriveLoopIterations(whileLoop)).toEqual({
      kind: 'unknown',
      where: "main: a 'while' loop has no trip count the IR shows",
    });
    const fromMemory = kernel((b) => {
      {
        const end = b.let('end', {
          kind: 'index',
          base: { kind: 'ref', name: 'data' },
          index: u32(0),
        });
        b.for('j', u32(0), (j) => lt(j, end), nothing);
      }
    });
    expect(deriveLoopIterations(fromMemory)).toEqual({
      kind: 'unknown',
      where: "main: the trips of the loop over 'j' are not known",
    });
    const changed = kernel((b) =>
      b.range('j', uniform('n'), (body, j) => body.compound(j, '+=', u32(2))),
    );
    expect(deriveLoopIterations(changed).kind).toBe('unknown');
  });

  it('prepareKernel takes the builder bound, else the derived one, and refuses a kernel with neither', () => {
    const unknown = kernel((b) => b.while(lt('x', u32(3)), nothing));
    expect(() => kernelLoopIterations('t.scan', unknown)).toThrow(
      "internal error: kernel t.scan has no bound of its loop iterations: main: a 'while' loop has no trip count the IR shows; its builder must give one (KernelBuilder.loopIterations)",
    );
    expect(kernelLoopIterations('t.scan', { ...unknown, loopIterations: 'seqK' })).toBe('seqK');
    expect(
      kernelLoopIterations(
        't.free',
        kernel((b) => b.range('d', u32(8), nothing)),
      ),
    ).toBe(0);
  });
});
