// Where the cursor is, on complete and half-typed text; `‸` marks the cursor.

import { describe, expect, it } from 'vitest';
import { cursorContext } from '../../src/lsp/cursor-context.js';

function at(marked: string) {
  const offset = marked.indexOf('‸');
  return cursorContext(marked.slice(0, offset) + marked.slice(offset + 1), offset);
}

describe('cursorContext', () => {
  it('is at top level outside any attention', () => {
    expect(at('‸')).toEqual({ kind: 'top' });
    expect(at('attention a {\n}\n‸')).toEqual({ kind: 'top' });
  });

  it('is at an item after `{`, `;`, a newline, or while a name is typed', () => {
    expect(at('attention a {‸')).toEqual({ kind: 'item', inGroup: false });
    expect(at('attention a {\n  heads: 4\n  ‸\n}')).toEqual({ kind: 'item', inGroup: false });
    expect(at('attention a {\n  hea‸\n}')).toEqual({ kind: 'item', inGroup: false });
    expect(at('attention a { group g { heads: 2; ‸} }')).toEqual({ kind: 'item', inGroup: true });
  });

  it('is at a value after `:` and the operators, for the property being set', () => {
    expect(at('attention a {\n  mask: ‸')).toEqual({ kind: 'value', property: 'mask' });
    expect(at('attention a {\n  mask: window(4) | glo‸')).toEqual({
      kind: 'value',
      property: 'mask',
    });
    expect(at('attention a {\n  kernel: ‸\n}')).toEqual({ kind: 'value', property: 'kernel' });
    expect(at('attention a {\n  mask: (causal & ‸')).toEqual({ kind: 'value', property: 'mask' });
  });

  it('is at an argument inside a call, knowing the names already given', () => {
    expect(at('attention a {\n  mask: random(2, ‸)\n}')).toEqual({
      kind: 'argument',
      callee: 'random',
      property: 'mask',
      given: [],
    });
    expect(at('attention a {\n  mask: random(2, seed: 1, ‸)')).toMatchObject({
      kind: 'argument',
      given: ['seed'],
    });
  });

  it('is nowhere in particular right after a complete value on the same line', () => {
    expect(at('attention a {\n  heads: 4 ‸\n}')).toEqual({ kind: 'none' });
    expect(at('attention a {\n  mask: random(2, seed: ‸')).toEqual({ kind: 'none' });
  });
});
