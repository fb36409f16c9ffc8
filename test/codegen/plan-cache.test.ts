// The host plan carries the KV cache plan (src/codegen/plan-cache.ts), so the runtime and
// generated modules can size a cache without the IR: the same stores and memory as
// planKvCache, a problem per group that cannot be decoded, and a plan that passes loadPlan's
// schema (through JSON, as a plan reaches a file).

import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { planKvCache } from '../../src/api/kv-cache.js';
import { validatePlan } from '../../src/api/load-plan.js';

const moduleOf = (text: string) => {
  const module = compile(text, { target: 'llvmpipe' }).modules[0];
  if (!module) throw new Error('no module');
  return module;
};

describe('the plan cache section', () => {
  it('holds each group store and memory as planKvCache does, and validates', () => {
    const module = moduleOf(
      'attention hybrid { head_dim: 16; causal: true;' +
        ' group local { heads: 2; kv_heads: 1; mask: window(left: 64) | sink(4) }' +
        ' group wide { heads: 2; kv_heads: 1 } }',
    );
    const plan = validatePlan('hybrid', JSON.parse(JSON.stringify(module.plan)));
    const fromIr = planKvCache(module);
    expect(plan.cache?.headRouting).toBe(false);
    expect(plan.cache?.groups).toHaveLength(2);
    plan.cache!.groups.forEach((group, n) => {
      const expected = fromIr.groups[n]!;
      if (!expected.ok || !group.ok) throw new Error('expected plans');
      expect(group.group).toBe(expected.plan.group);
      expect(group.store).toEqual(expected.plan.store);
      expect(group.memory).toEqual(expected.plan.memory);
      expect(group.kvHeadOffset).toBe(module.ir.groups[n]!.kvHeadOffset);
    });
    expect(plan.cache!.groups[0]).toMatchObject({
      store: { kind: 'ring', lookBack: 64, prefix: 4 },
    });
    expect(plan.cache!.groups[1]).toMatchObject({ store: { kind: 'contiguous' } });
  });

  it('names the construct of a group that cannot be decoded', () => {
    const module = moduleOf('attention bi { heads: 2; head_dim: 16; mask: window(8) }');
    expect(module.plan.cache?.groups[0]).toMatchObject({ ok: false, construct: 'window(8)' });
  });
});
