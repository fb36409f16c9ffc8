// The KV cache's side table of a `topk(k, block: b)` term: per (batch, kv head) the sum of
// every block of b keys and its mean, f32, updated as keys arrive (the partial last block
// too), so a routed decode step reads the means instead of recomputing them from every key.
// Counts are not stored: block t holds min(b, length - t b) keys, the same for every head.
// Kernels: src/codegen/kernels/cache-side-tables.ts (compiled with the plan).

import type { HostPlan, PlanSideTableKernels } from '../../codegen/plan.js';
import {
  HEADER_WORDS,
  SideTable,
  type OpenedSideTable,
  type SideTableOptions,
} from './side-table.js';

type BlockMeansStore = PlanSideTableKernels & { readonly kind: 'block-means' };

export class BlockMeans extends SideTable<BlockMeansStore> {
  /** Blocks per (batch, kv head): ceil(capacity / block). */
  readonly blocks: number;

  private constructor(
    device: GPUDevice,
    plan: HostPlan,
    opened: OpenedSideTable<BlockMeansStore>,
    options: SideTableOptions,
  ) {
    const blocks = Math.ceil(options.capacity / opened.store.block);
    const tableWords = options.batch * opened.store.kvHeads * blocks * opened.store.headDim;
    const words = HEADER_WORDS + alignedWords(tableWords) + tableWords;
    super(device, plan, opened, options, words, (HEADER_WORDS + tableWords) * 4);
    this.blocks = blocks;
  }

  /** The store of routing table `table` (a `topk` term; see `plan.cacheKernels`). */
  static async create(
    device: GPUDevice,
    plan: HostPlan,
    table: string,
    options: SideTableOptions,
  ): Promise<BlockMeans> {
    const opened = await SideTable.open(device, plan, 'block-means', table, options, 'block means');
    return new BlockMeans(device, plan, opened, options);
  }

  /**
   * The means, `[B, Hkv_g, blocks, D]` f32 (blocks = ceil(capacity / block); those past
   * ceil(length / block) are stale or zero): what a routed kernel binds.
   */
  means(): GPUBufferBinding {
    const words = this.batch * this.store.kvHeads * this.blocks * this.store.headDim;
    return {
      buffer: this.table,
      offset: (HEADER_WORDS + alignedWords(words)) * 4,
      size: words * 4,
    };
  }

  /** The block sums, `[B, Hkv_g, blocks, D]` f32, from the table's fifth word. */
  sums(): GPUBufferBinding {
    const words = this.batch * this.store.kvHeads * this.blocks * this.store.headDim;
    return { buffer: this.table, offset: HEADER_WORDS * 4, size: words * 4 };
  }
}

/** The sums' words rounded up to whole 256-byte units, where the means start. */
function alignedWords(words: number): number {
  return Math.ceil(words / HEADER_WORDS) * HEADER_WORDS;
}
