// The side tables a KV cache keeps for the routed terms of its head groups: a `topk` term's
// block means (block-means.ts) and a `cluster` / `lsh` term's bucket id per cached key
// (key-buckets.ts), each updated by `append` from the new keys only. At `attend` they stand in
// for the plan's route kernels that would recompute them from every cached key: the means
// kernel (`<table>.means`) and the key-bucket kernel (`<table>.key_buckets`) are not
// dispatched; their output arrays in `aux` get a copy of the stored means or ids instead
// (one copy per (batch, kv head): the stores are laid out by capacity, the plan's arrays by
// the current length). The bucket lists are still sorted by the plan's kernel, from the
// stored ids. Cost per step: O(blocks) words for topk, O(length) ids for cluster / lsh,
// instead of O(length x D) reads of k.

import type { HostPlan, PlanSideTableKernels } from '../../codegen/plan.js';
import type { DeviceTensor } from '../device-tensor-args.js';
import type { ProvidedKernel } from '../device-tensors.js';
import { BlockMeans } from './block-means.js';
import { floatInput } from './host-halves.js';
import { KeyBuckets } from './key-buckets.js';

export interface RoutedStoreOptions {
  readonly batch: number;
  /** Keys the cache holds at most (its contiguous rows). */
  readonly capacity: number;
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
    const sizes = { batch: options.batch, capacity: options.capacity };
    try {
      for (const entry of routedTablesOf(plan)) {
        if (entry.kind === 'block-means') {
          const table = await BlockMeans.create(device, plan, entry.table, sizes);
          stores.push({ entry, kind: 'means', table });
        } else {
          const table = await KeyBuckets.create(device, plan, entry.table, {
            ...sizes,
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
   * the stored means or ids of every (batch, kv head) into the kernel's output array.
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
        const capacity = s.table.capacity;
        provided.set(`${entry.table}.key_buckets`, (encoder, arrayAt) => {
          // The key buckets open the table's array ([B, Hkv_g, seqK] u32, route-kernels.ts).
          const target = arrayAt(entry.table);
          for (let bh = 0; bh < heads; bh++) {
            encoder.copyBufferToBuffer(
              source.buffer,
              (source.offset ?? 0) + bh * capacity * 4,
              target.buffer,
              target.offset + bh * length * 4,
              length * 4,
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
