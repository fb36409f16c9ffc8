// What the KV cache's side tables of routed mask terms share (block-means.ts, key-buckets.ts):
// one buffer of u32 words per store, its first word the count of keys appended so far, kept
// by the GPU itself (see src/codegen/kernels/cache-side-tables.ts), so a decode step writes no
// uniform; `append` records the table's append kernel, then its advance kernel, in one pass.
// The host keeps the same count to refuse appending past the capacity before anything runs.

import type { HostPlan, PlanSideTableKernels, SizeEnv } from '../../codegen/plan.js';
import { assertDeviceUsable, DeviceError, withErrorScopes } from '../device-errors.js';
import { CacheInputs, type CacheInput } from './cache-inputs.js';
import { StoreKernels } from './store-kernels.js';

/** Words before the first table: the appended count, padded to 256 bytes (cache-side-tables.ts). */
export const HEADER_WORDS = 64;

export interface SideTableOptions {
  /** Batch entries (the caller's tensors' axis B). */
  readonly batch: number;
  /** Most keys the table holds; appending past it is an error (a ring: its rows). */
  readonly capacity: number;
  /**
   * A table kept by slot, as a KV cache ring keeps k and v (slots.ts): position p < prefix at
   * row p, later ones at `prefix + (p - prefix) % slots`; `capacity` is then its rows, and
   * appends go on past them (up to the i32 positions the mask takes).
   */
  readonly ring?: RingSlots;
}

/** A ring's addressing: its prefix, and the slots after it. */
export interface RingSlots {
  readonly prefix: number;
  readonly slots: number;
}

/** Positions a ring may reach: the mask takes them as i32 (slots.ts's MAX_POSITIONS). */
const RING_POSITIONS = 2 ** 31 - 1;

/** A store's plan entry and built kernels, checked (`SideTable.open`). */
export interface OpenedSideTable<S extends PlanSideTableKernels> {
  readonly store: S;
  readonly kernels: StoreKernels;
  readonly name: string;
}

export abstract class SideTable<S extends PlanSideTableKernels> {
  protected readonly table: GPUBuffer;
  protected readonly store: S;
  private readonly kernels: StoreKernels;
  protected readonly name: string;
  readonly batch: number;
  readonly capacity: number;
  private readonly inputs: CacheInputs;
  private appended = 0;
  private destroyed = false;

  protected constructor(
    protected readonly device: GPUDevice,
    plan: HostPlan,
    opened: OpenedSideTable<S>,
    options: SideTableOptions,
    /** Words of the whole table: the header, the tables, and what they are computed with. */
    words: number,
    /** Bytes from the start that `reset` zeroes (the count, and sums that accumulate). */
    private readonly resetBytes: number,
    /** Kept by slot (a ring), else by position. */
    private readonly ring?: RingSlots,
  ) {
    ({ store: this.store, kernels: this.kernels, name: this.name } = opened);
    ({ batch: this.batch, capacity: this.capacity } = options);
    this.inputs = new CacheInputs(device, plan, this.name);
    this.table = device.createBuffer({
      label: `${this.name}.table`,
      size: Math.ceil((words * 4) / 16) * 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
  }

  /** The store of `kind` for routing table `table` of a compiled plan (checked), and its kernels. */
  protected static async open<K extends PlanSideTableKernels['kind']>(
    device: GPUDevice,
    plan: HostPlan,
    kind: K,
    table: string,
    options: SideTableOptions,
    what: string,
  ): Promise<OpenedSideTable<PlanSideTableKernels & { kind: K }>> {
    const name = `${what} '${table}'`;
    const store = plan.cacheKernels?.find(
      (s): s is PlanSideTableKernels & { kind: K } => s.kind === kind && s.table === table,
    );
    if (!store) {
      const have =
        (plan.cacheKernels ?? [])
          .filter((s) => s.kind === kind)
          .map((s) => `'${(s as PlanSideTableKernels).table}'`)
          .join(', ') || 'none';
      throw new Error(
        `${name}: the plan has no ${kind} kernels for routing table '${table}' (tables with ` +
          `them: ${have}); they are compiled for the routed terms of groups that decode ` +
          'incrementally (causal: true)',
      );
    }
    const { ring, ...counts } = options;
    for (const [key, value] of Object.entries({
      ...counts,
      ...(ring && { ringSlots: ring.slots }),
    })) {
      if (!Number.isInteger(value) || value < 1)
        throw new Error(`${name}: ${key} ${value} is not a positive integer`);
    }
    if (ring && !(Number.isInteger(ring.prefix) && ring.prefix >= 0))
      throw new Error(`${name}: ring prefix ${ring.prefix} is not a non-negative integer`);
    if (ring && ring.prefix + ring.slots !== options.capacity) {
      throw new Error(
        `${name}: a ring of ${ring.prefix} + ${ring.slots} slots, but a capacity of ${options.capacity} rows`,
      );
    }
    assertDeviceUsable(device, name);
    const kernels = await StoreKernels.create(device, name, Object.values(store.kernels));
    return { store, kernels, name };
  }

  /** Keys appended since the start or the last reset. */
  get length(): number {
    return this.appended;
  }

  /** Device bytes the store holds: its table, and staging for host-array keys. */
  get bytes(): number {
    return this.table.size + this.inputs.bytes;
  }

  /**
   * Adds `count` keys: k `[B, Hkv, T, D]` (the spec's layout and dtype, T = count), a host
   * array or a device tensor. Recorded into `encoder`, or submitted at once without one.
   */
  async append(
    encoder: GPUCommandEncoder | null | undefined,
    k: CacheInput,
    count: number,
  ): Promise<void> {
    this.assertUsable();
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`${this.name}: append count ${count} is not a positive integer`);
    }
    const limit = this.ring ? RING_POSITIONS : this.capacity;
    if (this.appended + count > limit) {
      throw new Error(
        `${this.name}: appending ${count} keys to ${this.appended} would pass its capacity of ` +
          `${limit} keys`,
      );
    }
    if (this.ring && count > this.ring.slots) {
      throw new Error(
        `${this.name}: appending ${count} keys at once, but its ring keeps ${this.ring.slots} recent slots`,
      );
    }
    const sizes: SizeEnv = {
      batch: this.batch,
      seqQ: this.capacity,
      seqK: count,
      ...(this.ring ? { ringPrefix: this.ring.prefix, ringSlots: this.ring.slots } : {}),
    };
    const placed = this.inputs.place('k', k, sizes);
    const { append, advance } = this.store.kernels;
    this.kernels.checkLoopBudget(append.name, sizes, `a chunk of ${count} keys`);
    await this.inputs.checkDevice([placed]);
    if (encoder && placed.upload !== null) {
      if (this.uploadsIn.has(encoder)) {
        throw new Error(
          `${this.name}: this encoder already holds a call of this store with 'k' from a host ` +
            'array; submit it before recording another, or pass a device tensor',
        );
      }
      this.uploadsIn.add(encoder);
    }
    const table = { buffer: this.table };
    const scoped = withErrorScopes(this.device, () => {
      this.inputs.upload([placed]);
      const own = encoder ?? this.device.createCommandEncoder({ label: this.name });
      const pass = own.beginComputePass({ label: this.name });
      this.kernels.dispatch(pass, append.name, sizes, { k: placed.binding, table });
      this.kernels.dispatch(pass, advance.name, sizes, { table });
      pass.end();
      if (!encoder) this.device.queue.submit([own.finish()]);
    });
    this.appended += count;
    const error = await scoped.error;
    if (error !== null) throw new DeviceError(`${this.name}: appending ${count} keys: ${error}`);
    assertDeviceUsable(this.device, this.name);
  }

  /** Starts over: the count (and sums) zeroed on the GPU, in `encoder` or submitted at once. */
  reset(encoder?: GPUCommandEncoder | null): void {
    this.assertUsable();
    const own = encoder ?? this.device.createCommandEncoder({ label: `${this.name}.reset` });
    own.clearBuffer(this.table, 0, this.resetBytes);
    if (!encoder) this.device.queue.submit([own.finish()]);
    this.appended = 0;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.table.destroy();
    this.inputs.destroy();
    this.kernels.destroy();
  }

  /** Encoders holding a host-array `k` of this store that is not yet submitted. */
  private readonly uploadsIn = new WeakSet<GPUCommandEncoder>();

  private assertUsable(): void {
    if (this.destroyed) throw new Error(`${this.name} was destroyed (its destroy() was called)`);
    assertDeviceUsable(this.device, this.name);
  }
}
