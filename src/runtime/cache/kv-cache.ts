// The KV cache of a loaded attention (`attention.createCache({ batch, capacity })`): it keeps
// what the plan's cache section says each head group may still read (src/ir/cache-plan.ts,
// carried by the host plan), appends new positions' k and v in place on the GPU, and runs the
// attention's own kernels for the queries of the newest positions against it. The kernels
// address keys by absolute position through the size symbols kvRows / ringPrefix / ringSlots
// (slots.ts), so the mask is evaluated exactly as without a cache.
//
// Each head group gets the store its plan names (`groupStoreFor`):
// - softmax groups (static, segment and routed masks) keep k/v stores (group-stores.ts): a
//   spec of one group one store of every kv head, a spec of several one per softmax group of
//   its kv heads; each a ring when the group's reach is bounded, else a contiguous store of
//   min(capacity, max_seq) rows;
// - routed groups also keep their side tables (routed-stores.ts: topk block means, cluster/lsh
//   bucket ids), which stand in for the plan's route kernels at attend
//   (`CachedKeys.provided`);
// - causal kernelized groups each keep a recurrent state (recurrent-state.ts): append feeds it
//   the new tokens' k and v, attend has it write its heads of o, and the plan's own kernels of
//   that group are skipped (`CachedKeys.skipKernels`);
// - linformer groups keep their projected rows K' = E K, V' = F V (projected-rows.ts, E and F
//   given to createCache): append projects the new tokens, attend has it write its heads of o,
//   and the plan's own kernels of those groups are skipped too.

import type { SizeEnv } from '../../codegen/plan.js';
import { evalSize } from '../../codegen/plan.js';
import type { DeviceRunArgs, DeviceTensor } from '../device-tensor-args.js';
import { usageText, type BoundTensor } from '../device-tensor-checks.js';
import { assertDeviceUsable, DeviceError, withErrorScopes } from '../device-errors.js';
import type { CachedKeys, TensorRunner } from '../device-tensors.js';
import { packHalves, unpackHalves } from '../f16.js';
import type { LoadContext } from '../load-context.js';
import { submitAndReadBack } from '../read-back.js';
import type { RowSource } from './kv-store.js';
import { MAX_POSITIONS, type SlotLayout } from './slots.js';
import {
  checkKernelsHaveStores,
  createGroupStores,
  groupStoreLayouts,
  kernelOverrides,
  kernelsOf,
  writeStores,
  type GroupStore,
  type KeyGroup,
} from './group-stores.js';
import { checkKernelsAddressCache, groupStoreFor, storeShapeOf } from './cache-plan-checks.js';
import type { CacheInput } from './cache-inputs.js';
import { RecurrentState, stateBufferBytes, type RecurrentStore } from './recurrent-state.js';
import { RoutedStores, routedTablesOf } from './routed-stores.js';
import { floatInput } from './host-halves.js';
import { checkProjectedRoom, ProjectedRows, projectedStoresOf } from './projected-rows.js';
import { checkProjections, type ProjectionInput } from './projections.js';

export interface CacheOptions {
  /** Sequences decoded side by side (axis B of every tensor). */
  readonly batch: number;
  /** Most positions the cache will hold; a ring needs less and ignores it beyond its size. */
  readonly capacity: number;
  /**
   * Most positions one append (and one attend) may cover for a ring: its slots hold the
   * look-back plus this many, so every query of a chunk still finds its keys. Default 16.
   */
  readonly maxChunk?: number;
  /**
   * A spec with a `cluster` mask: its `centroids` `[Hkv, c, D]` f32, fixed for the cache's
   * life (each cached key's cluster is computed once, when it is appended).
   */
  readonly centroids?: Float32Array;
  /**
   * A spec with a `linformer` group: its projections `E` and `F` `[Hkv, r, max_seq]` f32, host
   * arrays or device tensors (COPY_SRC), copied into the cache at createCache and fixed for its
   * life (each key is projected once, when it is appended).
   */
  readonly E?: ProjectionInput;
  readonly F?: ProjectionInput;
}

/** A host array (Float32Array; Uint16Array halves or Float32Array for f16; Uint32Array for ids) or a device tensor. */
export type CacheTensor = Float32Array | Uint16Array | Uint32Array | DeviceTensor;

export interface CacheAppendInputs {
  readonly k: CacheTensor;
  readonly v: CacheTensor;
  /** Segment ids of the new positions, `[B, T]` u32, for a spec with a `segment` mask. */
  readonly seg_k?: CacheTensor;
}

export interface CacheAppendOptions {
  /** Record into this encoder (the caller submits); without one the cache submits itself. */
  readonly encoder?: GPUCommandEncoder;
  /** New positions, when k and v are device tensors without a shape. */
  readonly tokens?: number;
}

export interface CacheAttendArgs {
  /** `[B, H, T, D]` (bhnd) queries of the last T appended positions. */
  readonly q: CacheTensor;
  /** Written in place; without it (and with a host q) the result is read back. */
  readonly o?: DeviceTensor;
  readonly lse?: DeviceTensor;
  readonly seg_q?: CacheTensor;
  readonly router?: CacheTensor;
  readonly centroids?: CacheTensor;
  readonly encoder?: GPUCommandEncoder;
}

export interface KvCache {
  /** Absolute positions appended so far (the next one's position). */
  readonly length: number;
  readonly capacity: number;
  readonly batch: number;
  /** GPU bytes the cache holds (its stores and recurrent states, as allocated). */
  readonly bytes: number;
  /**
   * Rows of the k/v store per (batch, kv head), and whether they form a ring; kind 'none' when
   * every group keeps a recurrent state instead of keys. With a store per group (`stores`),
   * the one with the most rows.
   */
  readonly slots: SlotLayout;
  /**
   * The k/v store of `slots`, in the spec's layout with `slots.rows` positions per (batch,
   * kv head of the store): position p at row `slotOf(slots, p)`, and seg_k (kept by the first
   * store); null when no group keeps keys. For reading (debugging, tests); the cache writes them.
   */
  readonly buffers: {
    readonly k: GPUBuffer;
    readonly v: GPUBuffer;
    readonly seg_k: GPUBuffer | null;
  } | null;
  /**
   * Every k/v store: one of every kv head for a spec of one head group (`slots`, `buffers`),
   * one per softmax group of its kv heads for a spec of several (group-stores.ts).
   */
  readonly stores: readonly GroupStore[];
  append(inputs: CacheAppendInputs, options?: CacheAppendOptions): Promise<void>;
  attend(args: CacheAttendArgs): Promise<{ o?: Float32Array }>;
  /** Starts over at position 0 (the stores keep their memory). */
  reset(): void;
  destroy(): void;
}

const DEFAULT_MAX_CHUNK = 16;

function isDeviceTensor(x: unknown): x is DeviceTensor {
  return typeof x === 'object' && x !== null && 'buffer' in x && !ArrayBuffer.isView(x);
}

function positiveInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`createCache: ${what} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export function createKvCache(
  context: LoadContext,
  runner: TensorRunner,
  options: CacheOptions,
): KvCache {
  const { device, plan, name } = context;
  context.assertUsable();
  const batch = positiveInteger(options?.batch, 'batch');
  const capacity = positiveInteger(options?.capacity, 'capacity');
  const maxChunk = positiveInteger(options?.maxChunk ?? DEFAULT_MAX_CHUNK, 'maxChunk');
  if (!plan.cache) {
    throw new Error(
      `attention '${name}': its plan has no KV cache section (compiled before the cache existed); compile it again`,
    );
  }
  if (plan.cache.groups.length === 0) throw new Error(`attention '${name}': no head groups`);
  const stores = plan.cache.groups.map((g) => groupStoreFor(name, g));
  const recurrentGroups = stores.flatMap((s) => (s.kind === 'recurrent' ? [s.group] : []));
  for (const group of recurrentGroups) {
    if (!plan.cacheKernels?.some((c) => c.group === group && c.kind === 'recurrent')) {
      throw new Error(
        `attention '${name}': group '${group}' keeps a recurrent state, but its plan has no ` +
          `recurrent-state kernels for it (they are compiled for causal kernelized groups ` +
          `without head_routing, and under dtype: f16 an even value_dim); compile it again`,
      );
    }
  }
  const projectedGroups = stores.flatMap((s) => (s.kind === 'projected' ? [s.group] : []));
  const projectedEntries = projectedStoresOf(plan);
  for (const group of projectedGroups) {
    if (!projectedEntries.some((c) => c.group === group)) {
      throw new Error(
        `attention '${name}': group '${group}' keeps linformer's projected rows, but its plan ` +
          `has no projected-rows kernels for it (they are compiled for linformer groups with ` +
          `max_seq up to 16,777,216, without head_routing); compile it again`,
      );
    }
  }
  const projections =
    projectedGroups.length > 0 && projectedEntries[0]
      ? checkProjections(name, plan, projectedEntries[0], options, device.limits)
      : null;
  // The plan's own kernels of a recurrent or linformer group (prefill over all keys) never run here.
  const skipKernels = new Set(
    [...recurrentGroups, ...projectedGroups].flatMap((g) => kernelsOf(plan, g)),
  );
  // The softmax groups' k/v stores (group-stores.ts); none when every group keeps a recurrent
  // state. `slots` is the widest store's: it sizes the plan's scratch.
  const shape = storeShapeOf(plan, batch);
  const keyGroups = plan.cache.groups.flatMap((g, n): KeyGroup[] => {
    const store = stores[n]!;
    return store.kind === 'recurrent' || store.kind === 'projected' || !g.ok
      ? []
      : [{ plan: g, store }];
  });
  const layouts = groupStoreLayouts(keyGroups, plan.cache.groups.length, shape, capacity, maxChunk);
  const keysKept = layouts.length > 0;
  const slots: SlotLayout = keysKept
    ? layouts.map((l) => l.slots).reduce((a, b) => (b.rows > a.rows ? b : a))
    : {
        kind: 'none',
        rows: 0,
        prefix: 0,
        ringSlots: 0,
        maxChunk: MAX_POSITIONS,
        limit: MAX_POSITIONS,
      };
  const ringKept = layouts.some((l) => l.slots.kind === 'ring');
  /** Positions the stores can hold, and the most one append may add (a ring's maxChunk). */
  const storesLimit = Math.min(slots.limit, ...layouts.map((l) => l.slots.limit));
  checkKernelsAddressCache(name, plan, ringKept, skipKernels, plan.cache.groups.length > 1);
  checkKernelsHaveStores(name, plan, layouts, skipKernels);
  const unit = shape.element === 2 ? 'f16' : 'f32';
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  for (const l of layouts) {
    const kBytes = batch * l.heads.count * shape.headDim * shape.element * l.slots.rows;
    if (kBytes > limit) {
      throw new Error(
        `attention '${name}': a cache of ${l.slots.rows} positions at batch ${batch} needs ` +
          `${kBytes} bytes for k, over the device's maxStorageBufferBindingSize / maxBufferSize (${limit}); use a smaller capacity`,
      );
    }
  }
  const routedTables = routedTablesOf(plan);
  // topk block means cover every position ever appended, a ring's too: its capacity bounds them.
  const meansCapacity = Math.min(storesLimit, capacity);
  const positionLimit = routedTables.some((t) => t.kind === 'block-means')
    ? meansCapacity
    : storesLimit;
  if (routedTables.some((t) => t.kind === 'bucket-ids' && t.routing === 'cluster')) {
    if (!(options.centroids instanceof Float32Array)) {
      throw new Error(
        `createCache: attention '${name}' has a cluster mask: pass its centroids ([Hkv, c, D] f32) ` +
          `to createCache({ centroids }); the cache computes each key's cluster once, as it is appended`,
      );
    }
  }
  const keyStores = createGroupStores(device, `${name}.cache`, shape, layouts);
  // seg_k is kept by the first store (createGroupStores).
  const store = keyStores[0]?.store ?? null;
  const widest = keyStores.find((s) => s.slots === slots);
  const overridesAt = kernelOverrides(plan, keyStores);
  // The recurrent states build their pipelines asynchronously; append and attend wait for them.
  const statesReady = Promise.all(
    recurrentGroups.map((group) => RecurrentState.create(device, plan, group, { batch })),
  );
  let states: RecurrentState[] | null = null;
  let destroyed = false;
  statesReady.then(
    (created) => {
      states = created;
      if (destroyed) created.forEach((s) => s.destroy());
    },
    () => {}, // reported by the append or attend that waits for them
  );
  /** Before the states exist: the bytes of their state buffers (S and z, and W). */
  const plannedStateBytes = (plan.cacheKernels ?? [])
    .filter((c): c is RecurrentStore => c.kind === 'recurrent')
    .filter((c) => recurrentGroups.includes(c.group))
    .reduce((n, c) => n + stateBufferBytes(c, batch), 0);
  // The linformer groups' rows: their kernels compile asynchronously; append and attend wait.
  let projectedRows: ProjectedRows | null = null;
  const projectedReady = projections
    ? ProjectedRows.create(device, plan, { batch, projections }).then((p) => {
        projectedRows = p;
        if (destroyed) p.destroy();
        return p;
      })
    : null;
  projectedReady?.catch(() => undefined); // seen by the first append or attend that awaits it
  /** Positions of the last append: the recurrent states attend only its queries. */
  let lastAppend = 0;
  // The routed groups' side tables (block means, bucket ids): their kernels compile
  // asynchronously; append and attend wait for them.
  let routedStores: RoutedStores | null = null;
  const routedReady =
    routedTables.length > 0
      ? RoutedStores.create(device, plan, {
          batch,
          capacity: meansCapacity,
          slotsOf: (group) => layouts.find((l) => l.groups.includes(group))?.slots ?? slots,
          ...(options.centroids ? { centroids: options.centroids } : {}),
        }).then((s) => (routedStores = s))
      : null;
  // Seen by the first append or attend that awaits it.
  routedReady?.catch(() => undefined);
  // Host queries and read-back outputs: grown by doubling, reused after.
  const staging = new Map<string, GPUBuffer>();
  const stage = (key: string, bytes: number, usage: number): GPUBuffer => {
    const existing = staging.get(key);
    if (existing && existing.size >= bytes) return existing;
    const size = Math.max(16, Math.ceil(bytes / 16) * 16, existing ? existing.size * 2 : 0);
    existing?.destroy();
    const buffer = device.createBuffer({ label: `${name}.cache.${key}`, size, usage });
    staging.set(key, buffer);
    return buffer;
  };
  let length = 0;

  const assertUsable = () => {
    context.assertUsable();
    if (destroyed) throw new Error(`attention '${name}': this KV cache was destroyed`);
  };

  const kArray = plan.arrays.find((a) => a.name === 'k')!;
  const vArray = plan.arrays.find((a) => a.name === 'v')!;
  const segKArray = plan.arrays.find((a) => a.name === 'seg_k');

  /** Expected element count per position and dims text of an appended tensor. */
  const perPosition = (tensor: 'k' | 'v' | 'seg_k') => {
    if (tensor === 'seg_k')
      return { elements: batch, dims: `[B, T] = [${batch}, T]`, storage: 'u32' as const };
    const width = tensor === 'k' ? shape.headDim : shape.valueDim;
    const dims =
      shape.layout === 'bhnd'
        ? `[B, Hkv, T, ${tensor === 'k' ? 'D' : 'Dv'}] = [${batch}, ${shape.kvHeads}, T, ${width}]`
        : `[B, T, Hkv, ${tensor === 'k' ? 'D' : 'Dv'}] = [${batch}, T, ${shape.kvHeads}, ${width}]`;
    return { elements: batch * shape.kvHeads * width, dims, storage: unit };
  };

  /** Positions in an appended tensor: from a host array's length or a device tensor's shape. */
  const positionsOf = (
    tensor: 'k' | 'v' | 'seg_k',
    x: CacheTensor | undefined,
    tokens?: number,
  ) => {
    const { elements, dims, storage } = perPosition(tensor);
    if (x === undefined)
      throw new Error(`append: tensor '${tensor}' is missing; expected ${storage} ${dims}`);
    if (isDeviceTensor(x)) {
      if (x.dtype !== storage) {
        throw new Error(
          `append: tensor '${tensor}': dtype is ${String(x.dtype)}, expected ${storage}`,
        );
      }
      const s = x.shape;
      if (s === undefined) {
        if (tokens === undefined) {
          throw new Error(
            `append: tensor '${tensor}' has no shape to read the new positions from; pass its shape ${dims}, or { tokens }`,
          );
        }
        return tokens;
      }
      const nAxis = tensor === 'seg_k' ? 1 : shape.layout === 'bhnd' ? 2 : 1;
      const t = s[nAxis]!;
      const expected =
        tensor === 'seg_k'
          ? [batch, t]
          : shape.layout === 'bhnd'
            ? [batch, shape.kvHeads, t, tensor === 'k' ? shape.headDim : shape.valueDim]
            : [batch, t, shape.kvHeads, tensor === 'k' ? shape.headDim : shape.valueDim];
      if (s.length !== expected.length || s.some((d, i) => d !== expected[i])) {
        const axis = s[0] !== batch ? ` (axis B is ${s[0]}, expected batch=${batch})` : '';
        throw new Error(
          `append: tensor '${tensor}': shape [${s.join(', ')}], expected ${dims}${axis}`,
        );
      }
      return t;
    }
    const wanted =
      storage === 'u32'
        ? ['Uint32Array']
        : storage === 'f16'
          ? ['Uint16Array', 'Float32Array']
          : ['Float32Array'];
    const kind = (x as object).constructor?.name ?? typeof x;
    if (!wanted.includes(kind)) {
      throw new Error(
        `append: tensor '${tensor}': expected ${wanted.join(' or ')} (${storage} ${dims}), got ${kind}`,
      );
    }
    const count = (x as ArrayBufferView & { length: number }).length;
    if (count === 0 || count % elements !== 0) {
      throw new Error(
        `append: tensor '${tensor}' has ${count} elements, not a whole number of positions of ${dims} (${elements} elements each)`,
      );
    }
    return count / elements;
  };

  /** A checked source: host bytes in store format, or a device buffer region. */
  const sourceOf = (tensor: 'k' | 'v' | 'seg_k', x: CacheTensor, positions: number): RowSource => {
    const { elements, dims, storage } = perPosition(tensor);
    const bytes = positions * elements * (storage === 'f16' ? 2 : 4);
    if (!isDeviceTensor(x)) {
      const data = x instanceof Float32Array && storage === 'f16' ? packHalves(x, tensor) : x;
      return { kind: 'host', data };
    }
    const offset = x.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0 || offset % 4 !== 0) {
      throw new Error(`append: tensor '${tensor}': offset ${offset} is not a multiple of 4 bytes`);
    }
    const size = x.buffer.size;
    if (offset + bytes > size) {
      throw new Error(
        `append: tensor '${tensor}': its buffer holds ${size} bytes, but ${storage} ${dims.replace(/T(?=[,\]][^=]*$)/, String(positions))} ` +
          `needs ${bytes} bytes from offset ${offset}, ${offset + bytes} in all`,
      );
    }
    if ((x.buffer.usage & GPUBufferUsage.COPY_SRC) === 0) {
      throw new Error(
        `append: tensor '${tensor}': its buffer's usage lacks COPY_SRC (it has ${usageText(x.buffer.usage)}); the cache copies its rows into the store on the GPU`,
      );
    }
    return { kind: 'device', buffer: x.buffer, offset };
  };

  const ringRoom = `this ring keeps the look-back and ${maxChunk} more positions (createCache({ maxChunk }))`;
  const room = () =>
    positionLimit === MAX_POSITIONS
      ? keysKept
        ? ringRoom
        : `recurrent states count positions up to ${positionLimit}`
      : `the cache holds ${positionLimit} positions (capacity ${capacity}${positionLimit < capacity ? ', max_seq' : ''})`;

  /** An appended tensor as a recurrent state takes it: f32 host data, or the device tensor. */
  // f16 halves (checked by positionsOf): widened exactly, the state packs them again.
  const stateInput = (x: CacheTensor): CacheInput => floatInput(x, 'append');

  /** The recurrent states, once their pipelines exist (a failure to build them is thrown). */
  const readyStates = async () => {
    const created = await statesReady;
    assertUsable();
    return created;
  };

  /** Runs device work: into the caller's encoder, or one of ours, submitted and checked. */
  const withEncoder = async (
    what: string,
    encoder: GPUCommandEncoder | undefined,
    work: (encoder: GPUCommandEncoder) => Promise<void> | void,
  ) => {
    if (encoder) {
      await work(encoder);
      return;
    }
    const own = device.createCommandEncoder({ label: `${name}.cache` });
    await work(own);
    const scoped = withErrorScopes(device, () => device.queue.submit([own.finish()]));
    const error = await scoped.error;
    if (error !== null) throw new DeviceError(`attention '${name}': KV cache ${what}: ${error}`);
    assertDeviceUsable(device, `attention '${name}'`);
  };

  const cache: KvCache = {
    get length() {
      return length;
    },
    capacity,
    batch,
    get bytes() {
      const held = states ? states.reduce((n, s) => n + s.bytes, 0) : plannedStateBytes;
      const keys = keyStores.reduce((n, s) => n + s.store.bytes, 0);
      return keys + held + (routedStores?.bytes ?? 0) + (projectedRows?.bytes ?? 0);
    },
    slots,
    buffers: store && {
      k: widest!.store.k,
      v: widest!.store.v,
      seg_k: store.segK,
    },
    stores: keyStores,

    async append(inputs, appendOptions = {}) {
      assertUsable();
      const known = new Set(['k', 'v', ...(shape.segments ? ['seg_k'] : [])]);
      for (const key of Object.keys(inputs ?? {})) {
        if (!known.has(key)) {
          throw new Error(
            `append: tensor '${key}' is not a per-key input of this attention (it takes ${[...known].join(', ')})`,
          );
        }
      }
      const t = positionsOf('k', inputs.k, appendOptions.tokens);
      const tv = positionsOf('v', inputs.v, appendOptions.tokens ?? t);
      if (tv !== t) throw new Error(`append: tensor 'v' has ${tv} positions, expected ${t} (as k)`);
      let segSource: RowSource | null = null;
      if (shape.segments) {
        const ts = positionsOf('seg_k', inputs.seg_k, appendOptions.tokens ?? t);
        if (ts !== t)
          throw new Error(`append: tensor 'seg_k' has ${ts} positions, expected ${t} (as k)`);
        segSource = sourceOf('seg_k', inputs.seg_k!, t);
      }
      if (ringKept && t > maxChunk) {
        throw new Error(
          `append: ${t} new positions, but at most ${maxChunk} fit one append: ${ringRoom}; append a longer prefill in chunks, attending after each`,
        );
      }
      if (length + t > positionLimit) {
        const why =
          positionLimit < storesLimit
            ? `the topk block means cover ${positionLimit} positions (capacity ${capacity})`
            : room();
        throw new Error(
          `append: ${t} new position${t === 1 ? '' : 's'} at length ${length} would pass the capacity: ${why}; nothing was written`,
        );
      }
      checkProjectedRoom(projectedEntries, length, t);
      const routed = await routedReady;
      assertUsable();
      const sources = {
        k: sourceOf('k', inputs.k, t),
        v: sourceOf('v', inputs.v, t),
        segK: segSource,
      };
      const recurrent = await readyStates();
      const projected = await projectedReady;
      assertUsable();
      const appendStates = async (encoder: GPUCommandEncoder | null) => {
        for (const state of recurrent) {
          await state.append(encoder, stateInput(inputs.k), stateInput(inputs.v), t);
        }
        await projected?.append(encoder, stateInput(inputs.k), stateInput(inputs.v), t);
      };
      const onDevice = [
        ['k', inputs.k],
        ['v', inputs.v],
        ['seg_k', inputs.seg_k],
      ].filter((e): e is ['k', DeviceTensor] => isDeviceTensor(e[1]));
      if (onDevice.length > 0) {
        await runner.checkBuffers(onDevice.map(([n, x]) => ({ name: n, buffer: x.buffer })));
        assertUsable();
        await withEncoder('append', appendOptions.encoder, async (encoder) => {
          writeStores(keyStores, length, t, sources, encoder);
          await appendStates(encoder);
        });
      } else {
        const scoped = withErrorScopes(device, () =>
          writeStores(keyStores, length, t, sources, null),
        );
        const error = await scoped.error;
        if (error !== null) throw new DeviceError(`attention '${name}': KV cache append: ${error}`);
        await appendStates(appendOptions.encoder ?? null);
      }
      await routed?.append(appendOptions.encoder, inputs.k, t);
      length += t;
      lastAppend = t;
    },

    async attend(args) {
      assertUsable();
      if (args === null || typeof args !== 'object')
        throw new Error('attend: expected { q, o?, encoder? }');
      for (const key of ['k', 'v', 'seg_k']) {
        if (key in args) {
          throw new Error(
            `attend: tensor '${key}' is kept by the cache; pass it to append, and to attend only the new positions' queries`,
          );
        }
      }
      const qSpec = plan.inputs.find((i) => i.name === 'q')!;
      const qPerRow = batch * shape.heads * shape.headDim;
      const qDims =
        shape.layout === 'bhnd'
          ? `[B, H, T, D] = [${batch}, ${shape.heads}, T, ${shape.headDim}]`
          : `[B, T, H, D] = [${batch}, T, ${shape.heads}, ${shape.headDim}]`;
      let t: number;
      const q = args.q;
      if (q === undefined)
        throw new Error(`attend: tensor 'q' is missing; expected ${unit} ${qDims}`);
      if (isDeviceTensor(q)) {
        const axis = qSpec.dims.indexOf('Nq');
        const given = q.shape?.[axis];
        if (given === undefined) {
          throw new Error(
            `attend: tensor 'q' has no shape to read T (its query rows) from; pass its shape ${qDims}`,
          );
        }
        t = given;
      } else {
        const count = (q as { length: number }).length;
        if (count === 0 || count % qPerRow !== 0) {
          throw new Error(
            `attend: tensor 'q' has ${count} elements, not a whole number of rows of ${qDims} (${qPerRow} elements each)`,
          );
        }
        t = count / qPerRow;
      }
      if (t > length) {
        throw new Error(
          `attend: ${t} query rows, but the cache holds ${length} position${length === 1 ? '' : 's'}; ` +
            `the queries are those of the last T appended positions, so append first`,
        );
      }
      if (ringKept && t > maxChunk) {
        throw new Error(
          `attend: ${t} query rows, but ${ringRoom}, so only the last ${maxChunk} positions' queries still find their keys`,
        );
      }
      if (recurrentGroups.length > 0 && t > lastAppend) {
        throw new Error(
          `attend: ${t} query rows, but the last append had ${lastAppend} position${lastAppend === 1 ? '' : 's'}; ` +
            `group${recurrentGroups.length === 1 ? '' : 's'} ${recurrentGroups.map((g) => `'${g}'`).join(', ')} ` +
            `keep${recurrentGroups.length === 1 ? 's' : ''} a recurrent state, which answers only the queries of the last append`,
        );
      }
      if (projectedGroups.length > 0 && args.lse !== undefined) {
        throw new Error(
          `attend: tensor 'lse' is not available: group ${projectedGroups.map((g) => `'${g}'`).join(', ')} keeps linformer's projected rows (low-rank attention writes no log-sum-exp)`,
        );
      }
      for (const key of ['E', 'F']) {
        if (projections && key in args) {
          throw new Error(
            `attend: tensor '${key}' was given to createCache, and the cached keys were projected with it; attend takes no other`,
          );
        }
      }
      if (recurrentGroups.length > 0 && args.lse !== undefined) {
        throw new Error(
          `attend: tensor 'lse' is not available: group ${recurrentGroups.map((g) => `'${g}'`).join(', ')} keeps a recurrent state (kernelized attention has no log-sum-exp)`,
        );
      }
      const recurrent = await readyStates();
      const projected = await projectedReady;
      assertUsable();
      const sizes: SizeEnv = {
        batch,
        seqQ: t,
        seqK: length,
        kvRows: slots.rows,
        ringPrefix: slots.prefix,
        ringSlots: slots.kind === 'ring' ? slots.ringSlots : 0xffffffff,
      };
      const bound = (
        tensorName: 'k' | 'v',
        buffer: GPUBuffer,
        array: typeof kArray,
      ): BoundTensor => ({
        name: tensorName,
        tensor: { buffer, dtype: unit },
        offset: 0,
        array,
        bytes: buffer.size,
        direct: true,
      });
      const prebound: BoundTensor[] = store
        ? [bound('k', store.k, kArray), bound('v', store.v, vArray)]
        : [];
      const host = !isDeviceTensor(q);
      if (host && args.encoder) {
        throw new Error(
          `attend: a host q is written through the queue at once, so it cannot wait in an encoder; pass q as a device tensor when recording into an encoder`,
        );
      }
      if (!host && args.o === undefined) {
        throw new Error(
          `attend: tensor 'o' is missing; with a device q, pass o as a device tensor to write into`,
        );
      }
      const qTensor: DeviceTensor = host
        ? (() => {
            const data =
              unit === 'f16' && q instanceof Float32Array
                ? packHalves(q, 'q')
                : (q as ArrayBufferView);
            if (unit === 'f32' && !(q instanceof Float32Array)) {
              throw new Error(
                `attend: tensor 'q': expected Float32Array (f32 ${qDims}), got ${(q as object).constructor?.name}`,
              );
            }
            const buffer = stage(
              'q',
              data.byteLength,
              GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
            );
            device.queue.writeBuffer(
              buffer,
              0,
              data.buffer,
              data.byteOffset,
              Math.ceil(data.byteLength / 4) * 4,
            );
            return { buffer, dtype: unit, offset: 0 };
          })()
        : q;
      const oSpec = plan.outputs.find((o) => o.name === 'o')!;
      const oWords = evalSize(plan.arrays.find((a) => a.name === oSpec.array)!.length, sizes);
      const oTensor: DeviceTensor = args.o ?? {
        buffer: stage(
          'o',
          oWords * 4,
          GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        ),
        dtype: unit,
      };
      const routed = await routedReady;
      assertUsable();
      if (options.centroids && args.centroids !== undefined) {
        throw new Error(
          `attend: tensor 'centroids' was given to createCache, and the cached keys' clusters were computed with it; attend takes no other`,
        );
      }
      const extras: Record<string, DeviceTensor> = {};
      for (const key of ['seg_q', 'router', 'centroids'] as const) {
        const x = key === 'centroids' ? (args.centroids ?? options.centroids) : args[key];
        if (x === undefined) continue;
        if (isDeviceTensor(x)) {
          extras[key] = x;
          continue;
        }
        const data = x as ArrayBufferView;
        const buffer = stage(
          key,
          data.byteLength,
          GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
        );
        device.queue.writeBuffer(
          buffer,
          0,
          data.buffer,
          data.byteOffset,
          Math.ceil(data.byteLength / 4) * 4,
        );
        const spec = plan.inputs.find((i) => i.name === key);
        extras[key] = { buffer, dtype: spec ? (spec.storage ?? spec.dtype) : 'f32' };
      }
      await withEncoder('attend', args.encoder, async (encoder) => {
        // Every group keeps a recurrent state: the plan's kernels have nothing to compute.
        if (store) await attendKeys(encoder);
        for (const state of recurrent) await state.attend(encoder, qTensor, oTensor, t);
        await projected?.attend(encoder, qTensor, oTensor, t);
      });
      async function attendKeys(encoder: GPUCommandEncoder) {
        if (!store) return;
        if (shape.segments && segKArray) {
          // The kernels read seg_k by slot with `kvRows` ids per batch entry (segKey), as the
          // store keeps it: one copy of the rows written so far.
          const written = (batch - 1) * slots.rows + Math.min(length, slots.rows);
          prebound.push({
            name: 'seg_k',
            tensor: { buffer: store.segK!, dtype: 'u32' },
            offset: 0,
            array: segKArray,
            bytes: written * 4,
            direct: false,
          });
        }
        const cached: CachedKeys = {
          sizes,
          tensors: prebound,
          skipKernels,
          ...(routed ? { provided: routed.provided(length) } : {}),
          ...(overridesAt ? { kernels: overridesAt(sizes) } : {}),
        };
        // k and v (and seg_k) are the cache's own, bound by `cached`, not the caller's.
        const run = {
          q: qTensor,
          o: oTensor,
          ...(args.lse ? { lse: args.lse } : {}),
          ...extras,
          // No E and F: only the skipped linformer kernels read them (device-tensors.ts leaves
          // out inputs that only skipped kernels read), so nothing copies them per step.
          encoder,
          batch,
          seqQ: t,
          seqK: length,
        } as unknown as DeviceRunArgs;
        await runner.run(run, cached);
      }
      if (!host || args.o !== undefined) return {};
      const words = oWords;
      const read = stage(
        'read',
        Math.ceil(words / 4) * 16,
        GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      );
      const bytes = await submitAndReadBack(device, {
        name,
        at: `batch=${batch}, seqQ=${t}, seqK=${length} (KV cache)`,
        record: () => {},
        source: oTensor.buffer,
        sourceOffset: 0,
        staging: read,
        words,
        assertUsable,
      });
      const elements = oSpec.shape.map((e) => evalSize(e, sizes)).reduce((a, b) => a * b, 1);
      return {
        o:
          unit === 'f16'
            ? unpackHalves(new Uint32Array(bytes), elements)
            : new Float32Array(bytes, 0, elements),
      };
    },

    reset() {
      assertUsable();
      // States still being built hold nothing yet (append waits for them).
      states?.forEach((s) => s.reset());
      routedStores?.reset();
      projectedRows?.reset();
      length = 0;
      lastAppend = 0;
    },

    destroy() {
      destroyed = true;
      states?.forEach((s) => s.destroy());
      keyStores.forEach((s) => s.store.destroy());
      projectedRows?.destroy();
      void routedReady?.then(
        (s) => s.destroy(),
        () => undefined,
      );
      for (const b of staging.values()) b.destroy();
      staging.clear();
    },
  };
  return cache;
}
