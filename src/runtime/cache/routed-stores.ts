// The side tables a KV cache keeps for the routed terms of its head groups: a `topk` term's
// block means (block-means.ts) and a `cluster` / `lsh` term's bucket id per cached key
// (key-buckets.ts), each updated by `append` from the new keys only. At `attend` they stand in
// for the plan's route kernels that would recompute them from every cached key: the means
// kernel (`<table>.means`) and the key-bucket kernel (`<table>.key_buckets`) are not
// dispatched; their output arrays in `aux` get a copy of the stored means or ids instead
// (one copy per (batch, kv head): the means are laid out by capacity, the plan's table by the
// current length; the ids by the k/v store's rows, as the plan's table in a cached run). The
// bucket lists are still sorted by the plan's kernel, from the stored ids. In a ring the means
// still cover every block (a far block can win), and the ids are those of the held keys, by
// slot. Cost per step: O(blocks) words for topk, O(min(length, rows)) ids for cluster / lsh,
// instead of O(length x D) reads of k.

import type { HostPlan, PlanSideTableKernels } from '../../codegen/plan.js';
import type { DeviceTensor } from '../device-tensor-args.js';
import type { ProvidedKernel } from '../device-tensors.js';
import { BlockMeans } from './block-means.js';
import { floatInput } from './host-halves.js';
import { KeyBuckets } from './key-buckets.js';
import type { SlotLayout } from './slots.js';

export interface RoutedStoreOptions {
  readonly batch: number;
  /**
   * Positions the topk block means cover: the cache's positions, also for a ring (a query
   * compares itself with the mean of every earlier block; a far block can win).
   */
  readonly capacity: number;
  /**
   * The rows and addressing of the k/v store a group's keys are in: its bucket ids are kept
   * like its k and v, by slot.
   */
  readonly slotsOf: (group: string) => SlotLayout;
  /** cluster: the `centroids` input `[Hkv, c, D]` f32 the buckets are computed with. */
  readonly centroids?: Float32Array;
}

type Store =
  | { readonly entry: PlanSideTableKernels; readonly kind: 'means'; readonly table: BlockMeans }
  | { readonly entry: PlanSideTableKernels; readonly kind: 'buckets'; readonly table: KeyBuckets };

/** The routing tables of a plan that a KV cache keeps (empty: none to keep). */
export function routedTablesOf(plan: HostPlan): readonly PlanSideTableKernels[] {
  return (plan.cacheKernels ?? []).filter(
    (s): s is PlanSideTableKernels => s.kind === 'block-means' || s.kind === 'bucket-ids',
  );
}

export class RoutedStores {
  private constructor(
    private readonly stores: readonly Store[],
    private readonly batch: number,
  ) {}

  /** One store per routed table of the plan (`routedTablesOf`). */
  static async create(
    device: GPUDevice,
    plan: HostPlan,
    options: RoutedStoreOptions,
  ): Promise<RoutedStores> {
    const stores: Store[] = [];
    const { batch } = options;
    try {
      for (const entry of routedTablesOf(plan)) {
        if (entry.kind === 'block-means') {
          const sizes = { batch, capacity: options.capacity };
          const table = await BlockMeans.create(device, plan, entry.table, sizes);
          stores.push({ entry, kind: 'means', table });
        } else {
          // Only the keys the ring holds can be read (the ring keeps every key a query may
          // read), so their ids are all the bucket lists need.
          const slots = options.slotsOf(entry.group);
          const ring =
            slots.kind === 'ring' ? { prefix: slots.prefix, slots: slots.ringSlots } : null;
          const table = await KeyBuckets.create(device, plan, entry.table, {
            batch,
            capacity: slots.rows,
            ...(ring ? { ring } : {}),
            ...(options.centroids ? { centroids: options.centroids } : {}),
          });
          stores.push({ entry, kind: 'buckets', table });
        }
      }
    } catch (error) {
      for (const s of stores) s.table.destroy();
      throw error;
    }
    return new RoutedStores(stores, options.batch);
  }

  /** Device bytes of every store. */
  get bytes(): number {
    return this.stores.reduce((n, s) => n + s.table.bytes, 0);
  }

  /** Adds `count` new keys (k `[B, Hkv, T, D]`, the spec's layout) to every store. */
  async append(
    encoder: GPUCommandEncoder | undefined,
    k: Float32Array | Uint16Array | Uint32Array | DeviceTensor,
    count: number,
  ): Promise<void> {
    // f16 halves are widened exactly; each table packs its keys to the same halves again.
    const keys = floatInput(k, `append: tensor 'k' (routed tables ${this.describe()})`);
    for (const s of this.stores) await s.table.append(encoder, keys, count);
  }

  /** The kept tables, for messages: "topk block means 'x', cluster buckets 'y'". */
  describe(): string {
    return this.stores
      .map((s) =>
        s.entry.kind === 'block-means'
          ? `topk block means '${s.entry.table}'`
          : `${s.entry.routing} buckets '${s.entry.table}'`,
      )
      .join(', ');
  }

  /**
   * The plan's route kernels these stores stand in for at `length` cached keys: each copies
   * the stored means or ids of every (batch, kv head) into the kernel's output array (ids:
   * `kvRows` per head, the k/v store's rows, as the plan lays them out in a cached run).
   */
  provided(length: number): Map<string, ProvidedKernel> {
    const provided = new Map<string, ProvidedKernel>();
    for (const s of this.stores) {
      const { entry } = s;
      const heads = this.batch * entry.kvHeads;
      if (s.kind === 'means') {
        const block = s.entry.kind === 'block-means' ? s.entry.block : 0;
        const rowBytes = entry.headDim * 4;
        const blocks = Math.ceil(length / block);
        const source = s.table.means();
        provided.set(`${entry.table}.means`, (encoder, arrayAt) => {
          const target = arrayAt(entry.table);
          for (let bh = 0; bh < heads; bh++) {
            encoder.copyBufferToBuffer(
              source.buffer,
              (source.offset ?? 0) + bh * s.table.blocks * rowBytes,
              target.buffer,
              target.offset + bh * blocks * rowBytes,
              blocks * rowBytes,
            );
          }
        });
      } else {
        const source = s.table.buckets();
        const rows = s.table.capacity;
        // Rows written so far: every slot of a ring that has wrapped.
        const written = Math.min(length, rows);
        provided.set(`${entry.table}.key_buckets`, (encoder, arrayAt) => {
          // The key buckets open the table's array ([B, Hkv_g, kvRows] u32, route-kernels.ts);
          // kvRows is the rows of the group's store, the table's capacity.
          const target = arrayAt(entry.table);
          for (let bh = 0; bh < heads; bh++) {
            encoder.copyBufferToBuffer(
              source.buffer,
              (source.offset ?? 0) + bh * rows * 4,
              target.buffer,
              target.offset + bh * rows * 4,
              written * 4,
            );
          }
        });
      }
    }
    return provided;
  }

  /** Starts over (the counts and sums zeroed on the GPU). */
  reset(): void {
    for (const s of this.stores) s.table.reset();
  }

  destroy(): void {
    for (const s of this.stores) s.table.destroy();
  }
}
