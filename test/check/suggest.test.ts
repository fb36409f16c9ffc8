import { describe, expect, it } from 'vitest';
import { closestName, editDistance, MAX_SUGGESTED_NAME } from '../../src/check/suggest.js';
import { checkSource } from '../../src/frontend.js';

describe('did you mean', () => {
  it('measures edits, counting a swap of neighbours as one', () => {
    expect(editDistance('heads', 'heads')).toBe(0);
    expect(editDistance('haeds', 'heads')).toBe(1);
    expect(editDistance('head_dm', 'head_dim')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only close names', () => {
    const names = ['heads', 'head_dim', 'kv_heads', 'mask'];
    expect(closestName('heads_dim', names)).toBe('head_dim');
    expect(closestName('HEADS', names)).toBe('heads');
    expect(closestName('msk', names)).toBe('mask');
    expect(closestName('xyz', names)).toBeUndefined();
    expect(closestName('layout', names)).toBeUndefined();
  });
});

describe('did you mean, on untrusted names', () => {
  it('stops at the bound and agrees with the unbounded distance below it', () => {
    const words = ['heads', 'haeds', 'head_dim', 'kv_heads', 'mask', 'window', 'wnidow', 'x', ''];
    for (const a of words) {
      for (const b of words) {
        const exact = editDistance(a, b);
        for (const bound of [0, 1, 2, 3]) {
          expect(editDistance(a, b, bound)).toBe(Math.min(exact, bound + 1));
        }
      }
    }
  });

  it(`gives no suggestion for names longer than ${MAX_SUGGESTED_NAME} characters`, () => {
    expect(closestName('h'.repeat(MAX_SUGGESTED_NAME + 1), ['heads'])).toBeUndefined();
  });

  it('reports a megabyte-long unknown property (unbounded, this search never finished)', () => {
    const name = 'x'.repeat(1_000_000);
    const result = checkSource(`attention a {\n  heads: 1\n  head_dim: 8\n  ${name}: 1\n}\n`);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['E200']);
  });
});
