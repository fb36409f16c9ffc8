// The k/v stores of a KV cache's softmax head groups. A spec of one head group keeps one store
// of every kv head. A spec of several (Gemma-, GPT-OSS-, Qwen3-Next-style hybrids) keeps one
// store per softmax group, of that group's kv heads only, sized by the group's own plan: a
// windowed group's ring holds its look-back whatever the capacity, next to a global group's
// contiguous store; a recurrent group's kv heads are kept nowhere (its state has them).
//
// The kernels of a group read its store: their uniforms, `when` and dispatch sizes are
// evaluated with the group's kvRows / ringPrefix / ringSlots and kvGroupStores = 1 (so their
// kvHeads is the group's kv heads and kvHead0 is 0, codegen/wgsl/softmax-kernel-setup.ts), and
// k and v are bound to the group's buffers (`KernelOverride`, device-tensors.ts). The plan's
// scratch buffers are sized with the largest store's kvRows, so each group's regions (sized
// by its own, smaller or equal, kvRows) lie inside them; a later group's split-K scratch may
// start inside an earlier group's, which is safe because the plan's steps run group by group
// in one compute pass and each group's merge has read its partials before the next group's
// partial kernel writes.

import type { HostPlan, PlanCacheGroup, SizeEnv } from '../../codegen/plan.js';
import type { KernelOverride } from '../device-tensors.js';
import { createKvStore, type KvStore, type RowSource, type StoreHeads } from './kv-store.js';
import type { StoreShape } from './kv-store.js';
import { slotLayout, type SlotLayout } from './slots.js';

/** A softmax group's store kind, as `groupStoreFor` names it. */
export type KeyStoreKind =
  | { readonly kind: 'ring'; readonly lookBack: number; readonly prefix: number }
  | { readonly kind: 'contiguous'; readonly maxSeq: number | null };

/** Where one k/v store's rows go, before it is allocated. */
export interface StoreLayout {
  /** The head groups that read it (all softmax groups of a one-group spec: that one). */
  readonly groups: readonly string[];
  /** The spec's kv heads it keeps. */
  readonly heads: StoreHeads;
  readonly slots: SlotLayout;
}

/** One k/v store and the head groups whose kernels read it. */
export interface GroupStore extends StoreLayout {
  readonly store: KvStore;
}

/** A softmax group with the store kind its plan names. */
export interface KeyGroup {
  readonly plan: Extract<PlanCacheGroup, { readonly ok: true }>;
  readonly store: KeyStoreKind;
}

/**
 * With a `segment` mask, seg_k is kept once (by the first store) and every group's kernels read
 * it by slot, so every store takes the same rows: contiguous if some group is, else the ring
 * that covers every group's (the widest look-back and prefix).
 */
function sharedSegmentStore(groups: readonly KeyGroup[]): KeyStoreKind {
  const contiguous = groups.find((g) => g.store.kind === 'contiguous')?.store;
  if (contiguous) return contiguous;
  const rings = groups.map((g) => g.store as Extract<KeyStoreKind, { kind: 'ring' }>);
  return {
    kind: 'ring',
    lookBack: Math.max(...rings.map((r) => r.lookBack)),
    prefix: Math.max(...rings.map((r) => r.prefix)),
  };
}

/**
 * The layout of each store before any is allocated: one for every kv head when the spec has
 * one group, else one per softmax group, all of the same rows with a `segment` mask
 * (`sharedSegmentStore`).
 */
export function groupStoreLayouts(
  groups: readonly KeyGroup[],
  totalGroups: number,
  shape: StoreShape,
  capacity: number,
  maxChunk: number,
): StoreLayout[] {
  const keyGroups = shape.segments
    ? groups.map((g) => ({ ...g, store: sharedSegmentStore(groups) }))
    : groups;
  return keyGroups.map((g) => ({
    groups: [g.plan.group],
    heads:
      totalGroups === 1
        ? { first: 0, count: shape.kvHeads }
        : { first: g.plan.kvHeadOffset, count: g.plan.kvHeads },
    slots: slotLayout(g.store, capacity, maxChunk),
  }));
}

export function createGroupStores(
  device: GPUDevice,
  label: string,
  shape: StoreShape,
  layouts: readonly StoreLayout[],
): GroupStore[] {
  // seg_k is kept once, by the first store (the kernels read it by position, not by head).
  return layouts.map((l, n) => ({
    ...l,
    store: createKvStore(
      device,
      layouts.length === 1 ? label : `${label}.${l.groups.join('+')}`,
      n === 0 ? shape : { ...shape, segments: false },
      l.slots,
      l.heads,
    ),
  }));
}

/** The sizes a group store's kernels run with: the cached run's, with the store's addressing. */
function storeSizes(sizes: SizeEnv, slots: SlotLayout): SizeEnv {
  return {
    ...sizes,
    kvRows: slots.rows,
    ringPrefix: slots.prefix,
    ringSlots: slots.kind === 'ring' ? slots.ringSlots : 0xffffffff,
    kvGroupStores: 1,
  };
}

/**
 * With a store per group, every kernel that runs and reads k or v must be one of a group with
 * a store (named `<group>.<kernel>`), or it would read a store of other kv heads.
 */
export function checkKernelsHaveStores(
  name: string,
  plan: HostPlan,
  layouts: readonly { groups: readonly string[] }[],
  skipKernels: ReadonlySet<string>,
): void {
  if (plan.cache === undefined || plan.cache.groups.length < 2) return;
  const kv = new Set(
    plan.arrays.filter((a) => a.name === 'k' || a.name === 'v').map((a) => a.buffer),
  );
  const withStore = new Set(layouts.flatMap((l) => l.groups.flatMap((g) => kernelsOf(plan, g))));
  for (const kernel of plan.kernels) {
    if (skipKernels.has(kernel.name) || withStore.has(kernel.name)) continue;
    if (kernel.bindings.some((b) => kv.has(b.buffer))) {
      throw new Error(
        `attention '${name}': kernel ${kernel.name} reads k and v but belongs to no head group ` +
          `with a k/v store; a KV cache for it is not supported yet`,
      );
    }
  }
}

/**
 * For a spec of several groups, per kernel the sizes and k/v bindings of its group's store
 * (`KernelOverride`), given a run's sizes; null for a one-group spec, whose run's own sizes
 * and bindings are the store's.
 */
export function kernelOverrides(
  plan: HostPlan,
  stores: readonly GroupStore[],
): ((sizes: SizeEnv) => Map<string, KernelOverride>) | null {
  if (plan.cache === undefined || plan.cache.groups.length < 2) return null;
  const kBuffer = plan.arrays.find((a) => a.name === 'k')!.buffer;
  const vBuffer = plan.arrays.find((a) => a.name === 'v')!.buffer;
  const perStore = stores.map((s) => ({
    slots: s.slots,
    kernels: s.groups.flatMap((group) => kernelsOf(plan, group)),
    bindings: new Map<string, GPUBufferBinding>([
      [kBuffer, { buffer: s.store.k, offset: 0, size: s.store.k.size }],
      [vBuffer, { buffer: s.store.v, offset: 0, size: s.store.v.size }],
    ]),
  }));
  return (sizes) => {
    const overrides = new Map<string, KernelOverride>();
    for (const s of perStore) {
      const override = { sizes: storeSizes(sizes, s.slots), bindings: s.bindings };
      for (const kernel of s.kernels) overrides.set(kernel, override);
    }
    return overrides;
  };
}

/** The plan's kernels of a head group (named `<group>.<kernel>`). */
export function kernelsOf(plan: HostPlan, group: string): string[] {
  return plan.kernels.filter((k) => k.name.startsWith(`${group}.`)).map((k) => k.name);
}

/** Writes positions [start, start + count) into every store (each takes its own kv heads). */
export function writeStores(
  stores: readonly GroupStore[],
  start: number,
  count: number,
  sources: { k: RowSource; v: RowSource; segK: RowSource | null },
  encoder: GPUCommandEncoder | null,
): void {
  stores.forEach((s, n) =>
    s.store.write(start, count, n === 0 ? sources : { ...sources, segK: null }, encoder),
  );
}
