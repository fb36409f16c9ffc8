// The KV cache plan in the public API: `planKvCache(module)` is the plan of a compiled
// module's IR (src/ir/cache-plan.ts), with the memory helpers and the types that describe it,
// so callers (and `attnc explain --cache`) need nothing from the IR itself.

import { planKvCache as planFromIr, type CachePlan } from '../ir/cache-plan.js';
import type { CompiledModule } from './compile.js';

export {
  cacheBytesPerKvHead,
  cachePositions,
  formatCacheMemory,
  reachSlots,
  type CacheMemory,
  type CachePlan,
  type CacheProblem,
  type CacheSideTable,
  type CacheStore,
  type GroupCachePlan,
  type GroupCacheResult,
} from '../ir/cache-plan.js';

/** What a decode loop must keep per kv head of each head group of `module`. */
export function planKvCache(module: Pick<CompiledModule, 'ir'>): CachePlan {
  return planFromIr(module.ir);
}
