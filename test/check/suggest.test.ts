import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../src/check/suggest.js';

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
