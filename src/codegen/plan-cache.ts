// The KV cache plan as the host plan carries it: planKvCache's per-group result (what each
// head group keeps, or why it cannot be decoded) without source spans, so the runtime, which
// never sees the IR, can size a cache from the plan alone (generated modules too).

import { planKvCache } from '../ir/cache-plan.js';
import type { Attention } from '../ir/ir.js';
import type { PlanCache } from './plan.js';

export function planCacheOf(ir: Attention): PlanCache {
  const cache = planKvCache(ir);
  return {
    groups: cache.groups.map((result, n) => {
      if (!result.ok) {
        const { group, construct, message } = result.problem;
        return { ok: false, group, construct, message };
      }
      const { group, heads, kvHeads, store, side, memory } = result.plan;
      return {
        ok: true,
        group,
        heads,
        kvHeads,
        kvHeadOffset: ir.groups[n]!.kvHeadOffset,
        store,
        side,
        memory,
      };
    }),
    headRouting: cache.headRouting,
  };
}
