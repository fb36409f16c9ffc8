// The f16 routing-tie cases of routing-cases.ts really hinge on ties (no GPU): routed on the
// unrounded f32 inputs, the same problems give clearly different outputs, so a kernel that
// broke the ties differently from the reference (or routed on other values than the
// f16-rounded ones) would fail the GPU tests that run these cases.

import { describe, expect, it } from 'vitest';
import { referenceAttention } from '../../src/reference/index.js';
import { ROUTING_TIE_CASES } from './routing-cases.js';
import { maxAbsDiff } from './run-cases.js';

describe('f16 routing tie cases', () => {
  for (const c of ROUTING_TIE_CASES) {
    it(`${c.name}: the tie decides the output`, () => {
      expect(c.attention.dtype).toBe('f16');
      const problem = c.problem();
      const f16 = referenceAttention(c.attention, problem);
      const f32 = referenceAttention({ ...c.attention, dtype: 'f32' }, problem);
      // f16 rounding alone moves outputs by ~1e-3; another routing choice by far more.
      expect(maxAbsDiff(f16, f32)).toBeGreaterThan(0.05);
    });
  }
});
