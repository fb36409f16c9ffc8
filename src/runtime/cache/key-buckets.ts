// The KV cache's side table of a `cluster(c)` or `lsh(buckets: n)` term: each cached key's
// bucket, one u32 per (batch, kv head, position), computed when the key is appended with the
// prefill's own bucket function (bucketOfRow: the nearest centroid, or argmax([kR, -kR])), so
// a routed decode step reads the buckets instead of recomputing them from every key. The
// centroids (cluster, given at creation) or R (lsh, drawn from the plan's seed) live in the
// same buffer, after the ids. Kernels: src/codegen/kernels/cache-side-tables.ts.

import type { HostPlan, PlanSideTableKernels } from '../../codegen/plan.js';
import { evalSize } from '../../codegen/plan.js';
import { gaussianMatrix } from '../../random/index.js';
import {
  HEADER_WORDS,
  SideTable,
  type OpenedSideTable,
  type SideTableOptions,
} from './side-table.js';

type KeyBucketsStore = PlanSideTableKernels & { readonly kind: 'bucket-ids' };

export interface KeyBucketsOptions extends SideTableOptions {
  /** cluster: the `centroids` input `[Hkv, c, D]` f32, as the attention takes it. */
  readonly centroids?: Float32Array;
}

export class KeyBuckets extends SideTable<KeyBucketsStore> {
  private constructor(
    device: GPUDevice,
    plan: HostPlan,
    opened: OpenedSideTable<KeyBucketsStore>,
    options: KeyBucketsOptions,
    routingData: Float32Array<ArrayBuffer>,
  ) {
    const ids = options.batch * opened.store.kvHeads * options.capacity;
    super(
      device,
      plan,
      opened,
      options,
      HEADER_WORDS + ids + routingData.length,
      HEADER_WORDS * 4,
      options.ring,
    );
    device.queue.writeBuffer(this.table, (HEADER_WORDS + ids) * 4, routingData);
  }

  /** The store of routing table `table` (a `cluster` or `lsh` term; see `plan.cacheKernels`). */
  static async create(
    device: GPUDevice,
    plan: HostPlan,
    table: string,
    options: KeyBucketsOptions,
  ): Promise<KeyBuckets> {
    const { centroids, ...sizes } = options;
    const opened = await SideTable.open(device, plan, 'bucket-ids', table, sizes, 'key buckets');
    const store = opened.store;
    // Copies: ArrayBuffer-backed for writeBuffer, and safe from later changes by the caller.
    let routingData: Float32Array<ArrayBuffer>;
    if (store.routing === 'cluster') {
      const spec = plan.inputs.find((i) => i.name === 'centroids');
      const shape = (spec?.shape ?? []).map((e) => evalSize(e, { batch: 1, seqQ: 1, seqK: 1 }));
      const elements = shape.reduce((a, b) => a * b, 1);
      if (!(centroids instanceof Float32Array) || centroids.length !== elements) {
        opened.kernels.destroy();
        throw new Error(
          `${opened.name}: cluster buckets need the centroids, a Float32Array [Hkv, c, D] = ` +
            `[${shape.join(', ')}] (${elements} elements); got ` +
            (centroids instanceof Float32Array
              ? `${centroids.length} elements`
              : String(centroids)),
        );
      }
      routingData = new Float32Array(centroids);
    } else {
      const r = store.projection!;
      routingData = new Float32Array(gaussianMatrix(r.seed, r.rows, r.cols));
    }
    return new KeyBuckets(device, plan, opened, options, routingData);
  }

  /**
   * The bucket of every cached key, `[B, Hkv_g, capacity]` u32: the first `length` are set, or
   * in a ring (`ring` option) key p's at its slot.
   */
  buckets(): GPUBufferBinding {
    const words = this.batch * this.store.kvHeads * this.capacity;
    return { buffer: this.table, offset: HEADER_WORDS * 4, size: words * 4 };
  }
}
