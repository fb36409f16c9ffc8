import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import type { Mask } from '../../src/ir/ir.js';
import { classifyPair, classifyRect } from '../../src/picture/rect-class.js';

const MASKS = [
  'causal: true',
  'mask: window(3)',
  'mask: window(left: 5, right: 1) | sink(2)',
  'mask: stride(4)',
  'mask: dilated(2, dilation: 3)',
  'mask: dilated(3, dilation: 1)',
  'mask: blocks(6) & causal',
  'mask: global(first: 2) | window(1)',
  'mask: random(2, block: 5, seed: 1)',
  'mask: (stride(3) | window(2)) & causal',
  'mask: topk(2, block: 4) | window(2)',
  'causal: true\n  mask: lsh(buckets: 4, seed: 1)',
].map((body) => {
  const module = compile(`attention a {\n  heads: 1\n  head_dim: 8\n  ${body}\n}\n`).modules[0]!;
  const mechanism = module.ir.groups[0]!.mechanism;
  if (mechanism.kind !== 'softmax') throw new Error('softmax expected');
  return { body, mask: mechanism.mask as Mask };
});

describe('classifyRect', () => {
  it('never claims more than the pairs show', () => {
    const n = 48;
    const context = { seqK: n };
    const bounds = fc
      .tuple(fc.nat(n - 1), fc.nat(n - 1))
      .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
    fc.assert(
      fc.property(fc.constantFrom(...MASKS), bounds, bounds, ({ mask }, [pa, pb], [ja, jb]) => {
        const cls = classifyRect(mask, { pa, pb, ja, jb }, context);
        const pairs = new Set<string>();
        for (let i = pa; i <= pb; i++)
          for (let j = ja; j <= jb; j++) pairs.add(classifyPair(mask, i, j, context));
        if (cls === 'yes' || cls === 'no' || cls === 'maybe') expect([...pairs]).toEqual([cls]);
        if (cls === 'some') expect(pairs.has('yes') && pairs.has('no')).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
