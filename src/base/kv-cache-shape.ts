// What the KV cache plan says a head group keeps (src/ir/cache-plan.ts computes it, the host
// plan carries it to the runtime): data types only. A leaf in base/ so the IR and the host
// plan, which may import nothing but base/, share one definition.

/** What holds the keys and values (or their summary) of one kv head. */
export type CacheStore =
  /** Slots for the last `lookBack + 1` positions and the first `prefix` ones, addressed by position. */
  | { readonly kind: 'ring'; readonly lookBack: number; readonly prefix: number }
  /** Every position up to the capacity; `unbounded` is the term that reads at any distance. */
  | { readonly kind: 'contiguous'; readonly unbounded: string; readonly maxSeq: number | null }
  /** Kernelized: `S = sum phi(k) v^T` (features x value_dim) and `z = sum phi(k)` (features), f32. */
  | { readonly kind: 'recurrent'; readonly features: number; readonly valueDim: number }
  /** Linformer: `E K` (rank x head_dim) and `F V` (rank x value_dim), f32, summed as keys arrive. */
  | { readonly kind: 'projected'; readonly rank: number };

/** Data kept next to the keys for a routed mask term. */
export type CacheSideTable =
  /** topk: the mean key of every block of `block` positions, f32, updated as keys arrive. */
  | { readonly kind: 'block-means'; readonly k: number; readonly block: number }
  /** cluster / lsh: each cached key's bucket, one u32. */
  | { readonly kind: 'bucket-ids'; readonly routing: 'cluster' | 'lsh'; readonly buckets: number };

/**
 * Bytes per kv head: `fixedBytes + bytesPerPosition * positions + bytesPerBlock * blocks`, where
 * positions is the ring's slot count (at most the capacity) or min(capacity, max_seq), and
 * blocks is ceil(min(capacity, max_seq) / block).
 */
export interface CacheMemory {
  readonly positions:
    | { readonly kind: 'fixed'; readonly count: number }
    | { readonly kind: 'capacity'; readonly maxSeq: number | null };
  readonly bytesPerPosition: number;
  readonly fixedBytes: number;
  readonly blocks: {
    readonly block: number;
    readonly bytesPerBlock: number;
    readonly maxSeq: number | null;
  } | null;
}
