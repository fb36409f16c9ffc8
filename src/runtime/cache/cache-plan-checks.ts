// What a host plan lets a KV cache be: each head group's store kind (or the error naming why
// it has none yet), the shape of the k/v stores read off the plan's inputs, and that every
// kernel reading k and v addresses them through the cache's size symbols (kvRows,
// ringPrefix, ringSlots) and binds them in place. All before anything is allocated.

import type { HostPlan, PlanCacheGroup, PlanInput } from '../../codegen/plan.js';
import type { StoreShape } from './kv-store.js';

/** Where the plan's tensors sit: heads, dims and element of q/k/v, from the plan's inputs. */
export function storeShapeOf(plan: HostPlan, batch: number): StoreShape & { heads: number } {
  const input = (name: string): PlanInput => {
    const found = plan.inputs.find((i) => i.name === name);
    if (!found) throw new Error(`plan: no input '${name}'`);
    return found;
  };
  const k = input('k');
  const q = input('q');
  const v = input('v');
  const layout = k.dims[1] === 'Hkv' ? 'bhnd' : 'bnhd';
  const fixed = (shape: readonly unknown[], at: number) => {
    const value = shape[at];
    if (typeof value !== 'number') throw new Error('plan: a tensor axis that is not a number');
    return value;
  };
  const headsAt = layout === 'bhnd' ? 1 : 2;
  return {
    batch,
    kvHeads: fixed(k.shape, headsAt),
    heads: fixed(q.shape, headsAt),
    headDim: fixed(k.shape, 3),
    valueDim: fixed(v.shape, 3),
    layout,
    element: (k.storage ?? k.dtype) === 'f16' ? 2 : 4,
    segments: plan.inputs.some((i) => i.name === 'seg_k'),
  };
}

/**
 * The store kind of one group: the softmax k/v store (ring or contiguous), a recurrent state,
 * linformer's projected rows, or an error naming what is missing.
 */
export function groupStoreFor(
  name: string,
  group: PlanCacheGroup,
):
  | { kind: 'ring'; lookBack: number; prefix: number }
  | { kind: 'contiguous'; maxSeq: number | null }
  | { kind: 'recurrent'; group: string }
  | { kind: 'projected'; group: string } {
  if (!group.ok) {
    throw new Error(
      `attention '${name}': group '${group.group}' cannot be decoded incrementally: ` +
        `${group.construct}: ${group.message}`,
    );
  }
  switch (group.store.kind) {
    case 'ring':
      return group.store;
    case 'contiguous':
      return group.store;
    case 'recurrent':
      return { kind: 'recurrent', group: group.group };
    case 'projected':
      return { kind: 'projected', group: group.group };
  }
}

/**
 * Every kernel that reads k or v must address them through the cache symbols, and in a spec of
 * several head groups (a store per group, group-stores.ts) read its group's kv heads through
 * `kvHeads` / `kvHead0`.
 */
export function checkKernelsAddressCache(
  name: string,
  plan: HostPlan,
  ring: boolean,
  skipKernels: ReadonlySet<string> = new Set(),
  groupStores = false,
): void {
  const kvBuffers = new Set(
    plan.arrays.filter((a) => a.name === 'k' || a.name === 'v').map((a) => a.buffer),
  );
  for (const array of plan.arrays.filter((a) => a.name === 'k' || a.name === 'v')) {
    const shared = plan.arrays.some((a) => a.buffer === array.buffer && a.name !== array.name);
    if (shared) {
      throw new Error(
        `attention '${name}': a KV cache binds '${array.name}' in place, but this plan packs it ` +
          `with other arrays in one binding (compiled for a device with few storage bindings, ` +
          `'${plan.profile}'); compile it for this device (compile(text, { target: runtime.profile }))`,
      );
    }
  }
  for (const kernel of plan.kernels) {
    if (skipKernels.has(kernel.name)) continue;
    if (!kernel.bindings.some((b) => kvBuffers.has(b.buffer))) continue;
    const declared = new Set(kernel.uniforms.map((u) => u.name));
    const needed = ring ? ['kvRows', 'ringPrefix', 'ringSlots'] : ['kvRows'];
    const missing = needed.filter((u) => !declared.has(u));
    if (missing.length > 0) {
      throw new Error(
        `attention '${name}': kernel ${kernel.name} reads k and v but does not address a KV ` +
          `cache${ring ? ' ring' : ''} (no uniform ${missing.join(', ')}); a KV cache for it is not supported yet`,
      );
    }
    const heads = ['kvHeads', 'kvHead0'].filter((u) => !declared.has(u));
    if (groupStores && heads.length > 0) {
      throw new Error(
        `attention '${name}': kernel ${kernel.name} reads k and v of every kv head (no uniform ` +
          `${heads.join(', ')}), but a KV cache keeps each head group's kv heads in a store of ` +
          `their own; compile it again`,
      );
    }
  }
}
