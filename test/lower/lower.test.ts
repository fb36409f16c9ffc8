import { describe, expect, it } from 'vitest';
import type { CheckedAttention } from '../../src/check/checked.js';
import { lowerAttention, UnsupportedFeatureError } from '../../src/lower/lower.js';
import { compileAttention } from '../../src/codegen/compile.js';
import { verifyAttention } from '../../src/ir/verify.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';
import { attention, m } from '../kernels/build.js';

describe('lowerAttention', () => {
  it('translates the mask literally and intersects causal', () => {
    const result = lowerAttention(
      attention({ mask: m.or(m.window(4), m.global(1)), causal: true, softcap: 3 }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const group = result.attention.groups[0]!;
    expect(verifyAttention(result.attention, 'lower')).toEqual([]);
    const mechanism = group.mechanism;
    expect(mechanism.kind === 'softmax' ? mechanism.score : null).toEqual({
      scale: 0.25,
      softcap: 3,
      bias: null,
    });
    const mask = group.mechanism.mask;
    expect(mask.kind).toBe('intersect');
    if (mask.kind !== 'intersect') return;
    expect(mask.terms[1]).toMatchObject({ kind: 'band', lo: null, hi: 0 });
    expect(mask.terms[0]).toMatchObject({
      kind: 'union',
      terms: [
        { kind: 'band', lo: -4, hi: 4 },
        { kind: 'global', first: 1 },
      ],
    });
  });

  it('keeps groups, offsets and spans', () => {
    const checked = attention({
      groups: [
        { name: 'a', heads: 2, kvHeads: 1 },
        { name: 'b', heads: 4, kvHeads: 2 },
      ],
    });
    const result = lowerAttention(checked);
    expect(
      result.ok && result.attention.groups.map((g) => [g.name, g.headOffset, g.kvHeadOffset]),
    ).toEqual([
      ['a', 0, 0],
      ['b', 2, 1],
    ]);
  });

  const unsupported: [string, CheckedAttention][] = [
    // Kernelized groups compile (test/lower/kernelized.test.ts).
    // Low-rank groups compile (test/lower/lowrank.test.ts), f16 included.
    // Routed masks compile (test/lower/routing.test.ts), f16 and random/segment included.
    ['dtype', { ...attention({ headDim: 6 }), dtype: 'f16' }],
  ];
  for (const [feature, checked] of unsupported) {
    it(`reports '${feature}' as not yet supported`, () => {
      const result = lowerAttention(checked);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.unsupported.map((u) => u.feature)).toEqual([feature]);
      expect(() => compileAttention(checked, PORTABLE_PROFILE)).toThrow(UnsupportedFeatureError);
      expect(() => compileAttention(checked, PORTABLE_PROFILE)).toThrow(/^not yet supported: /);
    });
  }
});
