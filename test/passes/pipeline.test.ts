import { describe, expect, it } from 'vitest';
import { lowerAttention } from '../../src/lower/lower.js';
import { verifyAttention } from '../../src/ir/verify.js';
import type { Attention } from '../../src/ir/ir.js';
import { maskAllows } from '../../src/ir/mask.js';
import { PASS_NAMES, PIPELINE, runPipeline } from '../../src/passes/pipeline.js';
import { LLVMPIPE_PROFILE, PORTABLE_PROFILE } from '../../src/target/profile.js';
import { attention, m } from '../kernels/build.js';

function lowered(
  a = attention({ mask: m.or(m.window(8), m.random(2, 16, 1), m.segment()), causal: true }),
): Attention {
  const result = lowerAttention(a);
  if (!result.ok) throw new Error('lowering failed');
  return result.attention;
}

describe('pass pipeline', () => {
  it('lists its passes in order', () => {
    expect(PASS_NAMES).toEqual([
      'canonicalize-mask',
      'plan-blocks',
      'fuse-lowrank',
      'fuse-softmax',
      'fuse-linear',
    ]);
  });

  it('runs the verifier after every pass and stops after a named one', () => {
    const ir = lowered();
    const afterCanon = runPipeline(
      ir,
      { profile: PORTABLE_PROFILE },
      { after: 'canonicalize-mask', verify: true },
    );
    expect(afterCanon.groups[0]!.mechanism.plan).toBeNull();
    const afterPlan = runPipeline(
      ir,
      { profile: PORTABLE_PROFILE },
      { after: 'plan-blocks', verify: true },
    );
    expect(afterPlan.groups[0]!.mechanism.plan?.variant).toBe('tiled');
    expect(afterPlan.groups[0]!.program).toEqual([]);
    const full = runPipeline(ir, { profile: LLVMPIPE_PROFILE }, { verify: true });
    expect(full.groups[0]!.program.map((s) => s.kind)).toEqual([
      'draw-random-blocks',
      'segment-tile-ranges',
      'fused-softmax',
    ]);
    expect(full.groups[0]!.mechanism.plan?.variant).toBe('rowwise');
    expect(runPipeline(ir, { profile: PORTABLE_PROFILE }, { after: 'lower' })).toBe(ir);
    expect(() => runPipeline(ir, { profile: PORTABLE_PROFILE }, { after: 'nope' })).toThrow(
      "unknown pass 'nope'; passes are: lower, canonicalize-mask, plan-blocks, fuse-lowrank, fuse-softmax, fuse-linear",
    );
  });

  it('passes are pure: the input IR is not changed', () => {
    const ir = lowered();
    const before = JSON.stringify(ir);
    runPipeline(ir, { profile: PORTABLE_PROFILE }, { verify: true });
    expect(JSON.stringify(ir)).toBe(before);
  });

  it('every pass preserves the meaning of the mask', () => {
    const ir = lowered(
      attention({
        mask: m.or(m.and(m.window(5), m.stride(2)), m.sink(3), m.window(2, 7)),
        causal: true,
      }),
    );
    let current = ir;
    const seqK = 40;
    const segQ = new Uint32Array(seqK);
    const segK = new Uint32Array(seqK);
    for (const pass of PIPELINE) {
      const next = pass.run(current, { profile: PORTABLE_PROFILE });
      for (let p = 0; p < seqK; p++) {
        for (let j = 0; j < seqK; j++) {
          const at = { i: p, p, j, seqK, segQ, segK };
          expect(maskAllows(next.groups[0]!.mechanism.mask, at)).toBe(
            maskAllows(current.groups[0]!.mechanism.mask, at),
          );
        }
      }
      current = next;
    }
  });

  it('the verifier catches broken IR', () => {
    const ir = runPipeline(lowered(), { profile: PORTABLE_PROFILE });
    const group = ir.groups[0]!;
    const broken: Attention = {
      ...ir,
      heads: 3,
      groups: [{ ...group, kvHeadOffset: 1, program: [...group.program].reverse() }],
    };
    const problems = verifyAttention(broken, 'fuse-softmax');
    expect(problems).toContain('group attn: kv head offset 1, expected 0');
    expect(problems).toContain('group attn: fused-softmax must be the last step');
    expect(problems).toContain('groups cover 1 heads, attention has 3');
    const unplanned: Attention = {
      ...ir,
      groups: [{ ...group, mechanism: { ...group.mechanism, plan: null } }],
    };
    expect(verifyAttention(unplanned, 'plan-blocks')).toContain(
      'group attn: no block plan after plan-blocks',
    );
  });
});
