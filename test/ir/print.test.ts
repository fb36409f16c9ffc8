import { describe, expect, it } from 'vitest';
import type { Mask } from '../../src/ir/ir.js';
import { maskLeaves } from '../../src/ir/ir.js';
import { printMask } from '../../src/ir/print.js';

const S = { start: 0, end: 0 };

describe('IR printer', () => {
  it('prints bands with the spec words where one fits', () => {
    const cases: [Mask, string][] = [
      [{ kind: 'band', lo: null, hi: 0, span: S }, 'causal'],
      [{ kind: 'band', lo: -3, hi: 3, span: S }, 'window(3)'],
      [{ kind: 'band', lo: -3, hi: 0, span: S }, 'band(-3..0)'],
      [{ kind: 'band', lo: 2, hi: null, span: S }, 'band(2..+inf)'],
      [{ kind: 'global', first: 1, positions: [7, 9], span: S }, 'global(first: 1, 7, 9)'],
    ];
    for (const [mask, text] of cases) expect(printMask(mask)).toBe(text);
  });

  it('parenthesizes unions inside intersections', () => {
    const mask: Mask = {
      kind: 'intersect',
      span: S,
      terms: [
        {
          kind: 'union',
          span: S,
          terms: [
            { kind: 'sink', count: 2, span: S },
            { kind: 'blocks', size: 4, span: S },
          ],
        },
        { kind: 'stride', step: 3, span: S },
      ],
    };
    expect(printMask(mask)).toBe('(sink(2) | blocks(4)) & stride(3)');
    expect(maskLeaves(mask).map((l) => l.kind)).toEqual(['sink', 'blocks', 'stride']);
  });
});
