// Where a KV cache keeps key position p: the one addressing function of the cache, shared by
// the host (append writes rows there) and, through the size symbols kvRows / ringPrefix /
// ringSlots (codegen/plan.ts), by the kernels that read them. A contiguous store keeps p at
// row p; a ring keeps the first `prefix` positions (sinks, global positions) at their own rows
// and every later one at `prefix + (p - prefix) % ringSlots`, so the newest `ringSlots`
// positions are always there and the mask still sees absolute positions.

/** Rows per (batch, kv head) and how positions map onto them. */
export interface SlotLayout {
  /** 'none': no keys are kept (every group keeps a recurrent state); rows 0. */
  readonly kind: 'ring' | 'contiguous' | 'none';
  /** Rows allocated per (batch, kv head): the row stride of the store. */
  readonly rows: number;
  /** Positions below it keep their own row (ring only; 0 for contiguous). */
  readonly prefix: number;
  /** Ring rows after the prefix (ring only; for contiguous, `rows`). */
  readonly ringSlots: number;
  /** Most positions one append may add (a ring keeps the look-back of its first one too). */
  readonly maxChunk: number;
  /** Positions a store can hold: the capacity (contiguous), or for a ring what i32 positions reach. */
  readonly limit: number;
}

/** The mask's arithmetic takes positions as i32 (docs/compiler.md), so a ring stops there. */
export const MAX_POSITIONS = 2 ** 31 - 1;

/**
 * A ring of `lookBack + maxChunk` recent slots (so every query of a chunk still finds its
 * look-back) and `prefix` kept ones, when that is smaller than the capacity; else a contiguous
 * store of `min(capacity, maxSeq)` rows, which never wraps.
 */
export function slotLayout(
  store:
    | { readonly kind: 'ring'; readonly lookBack: number; readonly prefix: number }
    | { readonly kind: 'contiguous'; readonly maxSeq: number | null },
  capacity: number,
  maxChunk: number,
): SlotLayout {
  if (store.kind === 'ring') {
    const recent = Math.max(0, store.lookBack) + maxChunk;
    if (recent + store.prefix < capacity) {
      return {
        kind: 'ring',
        rows: recent + store.prefix,
        prefix: store.prefix,
        ringSlots: recent,
        maxChunk,
        limit: MAX_POSITIONS,
      };
    }
  }
  const rows = Math.min(
    capacity,
    store.kind === 'contiguous' ? (store.maxSeq ?? Infinity) : Infinity,
  );
  return { kind: 'contiguous', rows, prefix: 0, ringSlots: rows, maxChunk: rows, limit: rows };
}

export function slotOf(layout: SlotLayout, position: number): number {
  if (layout.kind === 'contiguous' || position < layout.prefix) return position;
  return layout.prefix + ((position - layout.prefix) % layout.ringSlots);
}

/** A run of consecutive positions that lands on consecutive rows. */
export interface SlotRun {
  /** First position of the run, counted from the append's first position. */
  readonly from: number;
  readonly row: number;
  readonly count: number;
}

/** Positions [start, start + count) cut where their rows stop being consecutive (wrap, prefix). */
export function slotRuns(layout: SlotLayout, start: number, count: number): SlotRun[] {
  const runs: SlotRun[] = [];
  let n = 0;
  while (n < count) {
    const row = slotOf(layout, start + n);
    // Rows run on until the end of the prefix or the end of the ring.
    const end = layout.kind === 'ring' && start + n < layout.prefix ? layout.prefix : layout.rows;
    const take = Math.min(count - n, end - row);
    runs.push({ from: n, row, count: take });
    n += take;
  }
  return runs;
}
