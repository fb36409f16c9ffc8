// The KV cache plan: from the attention IR, what a decode loop must keep per kv head of each
// head group, and how many bytes that is as a function of the cache's capacity. Pure analysis;
// nothing here allocates or runs (the cache and its kernels build on it).
//
// A decode step appends the newest token's k and v at position p and runs its query (at p)
// against what is kept. A key j must be kept at step p while some later query p' >= p may read
// it. Every softmax mask that only reads its own past is described by how far back it reads:
// a *look-back* `r` (keys j >= p - r) and a *prefix* `n` (keys j < n, kept for good: sinks,
// global positions). Both finite: a ring of r + 1 + n slots, whatever the capacity. A term that
// can read a key at any distance (full history, stride, random, segment, routed) makes the
// look-back unbounded: a contiguous cache of `capacity` (or `max_seq`) positions. Unions take
// the wider of both, intersections the narrowest description that still covers every term.
// Kernelized groups keep their recurrent state instead of keys; linformer keeps its projected
// rows. Masks that read future keys, and nystrom (landmarks are means over every query and key),
// cannot be decoded incrementally: a problem naming the construct, per group.

import type { CacheMemory, CacheSideTable, CacheStore } from '../base/kv-cache-shape.js';
import { featureDim, unreachable, type Attention, type Group, type Mask } from './ir.js';
import { printMask } from './print.js';

export type { CacheMemory, CacheSideTable, CacheStore } from '../base/kv-cache-shape.js';

/** Source offsets, as every IR node carries them. */
type Span = Mask['span'];

/** How far back a mask reads from query position p (see the module comment). */
export interface Reach {
  /** Keys j >= p - lookBack; Infinity: any distance; -1: no recent keys at all. */
  readonly lookBack: number;
  /** Keys j < prefix, at any distance. */
  readonly prefix: number;
}

export interface GroupCachePlan {
  readonly group: string;
  readonly span: Span;
  readonly heads: number;
  readonly kvHeads: number;
  readonly store: CacheStore;
  readonly side: readonly CacheSideTable[];
  readonly memory: CacheMemory;
}

/** Why a group cannot be decoded incrementally: the construct, in spec words, and where it is. */
export interface CacheProblem {
  readonly group: string;
  readonly construct: string;
  readonly message: string;
  readonly span: Span;
}

export type GroupCacheResult =
  | { readonly ok: true; readonly plan: GroupCachePlan }
  | { readonly ok: false; readonly problem: CacheProblem };

export interface CachePlan {
  readonly attention: string;
  readonly groups: readonly GroupCacheResult[];
  /** `head_routing`: heads are picked per step from that step's router logits; nothing is kept. */
  readonly headRouting: boolean;
}

export function planKvCache(attention: Attention): CachePlan {
  return {
    attention: attention.name,
    groups: attention.groups.map((group) => planGroup(attention, group)),
    headRouting: attention.headRouting !== undefined,
  };
}

function planGroup(attention: Attention, group: Group): GroupCacheResult {
  const m = group.mechanism;
  const problem = (construct: string, message: string, span: Span): GroupCacheResult => ({
    ok: false,
    problem: { group: group.name, construct, message, span },
  });
  const plan = (store: CacheStore, side: readonly CacheSideTable[] = []): GroupCacheResult => ({
    ok: true,
    plan: {
      group: group.name,
      span: group.span,
      heads: group.heads,
      kvHeads: group.kvHeads,
      store,
      side,
      memory: cacheMemory(attention, store, side),
    },
  });
  switch (m.kind) {
    case 'linear':
      if (!m.causal) {
        return problem(
          'causal: false',
          'a kernelized group without `causal: true` sums phi(k) v^T over every key, later ones ' +
            'included, so earlier outputs would change as tokens arrive',
          m.span,
        );
      }
      return plan({
        kind: 'recurrent',
        features: featureDim(m.featureMap, attention.headDim),
        valueDim: attention.valueDim,
      });
    case 'lowrank':
      if (m.method.kind === 'nystrom') {
        return problem(
          `nystrom(${m.method.landmarks})`,
          'nystrom landmarks are segment means over every query and key, so each new token ' +
            'moves them and every step would start over',
          m.span,
        );
      }
      if (attention.maxSeq === null) {
        return problem(
          `linformer(${m.method.rank})`,
          'linformer without `max_seq` has no projection column for positions beyond the ' +
            'prefill, so appended keys cannot be projected',
          m.span,
        );
      }
      return plan({ kind: 'projected', rank: m.method.rank });
    case 'softmax': {
      const future = futureReader(m.mask);
      if (future !== null) {
        return problem(
          printMask(future.term),
          `${future.reason}, so a step cannot be computed before later tokens arrive; decoding ` +
            'needs a mask that reads only past keys (add `causal: true`)',
          future.term.span,
        );
      }
      const side = sideTables(m.mask);
      const reach = maskReach(m.mask);
      if (reach.lookBack === Infinity) {
        return plan(
          {
            kind: 'contiguous',
            unbounded: printMask(unboundedTerm(m.mask) ?? m.mask),
            maxSeq: attention.maxSeq,
          },
          side,
        );
      }
      return plan({ kind: 'ring', lookBack: reach.lookBack, prefix: reach.prefix }, side);
    }
    default:
      return unreachable(m);
  }
}

/** Slots of a ring with this reach: the recent positions and the prefix; Infinity if unbounded. */
export function reachSlots(reach: Reach): number {
  return Math.max(0, reach.lookBack + 1) + reach.prefix;
}

/**
 * A reach that covers every allowed (p, j) of the mask: j >= p - lookBack or j < prefix. The
 * causal filter (j <= p) is what `futureReader` checks; this is only about the past.
 */
export function maskReach(mask: Mask): Reach {
  switch (mask.kind) {
    case 'all':
    case 'stride':
    case 'random':
    case 'segment':
    case 'routed':
      return { lookBack: Infinity, prefix: 0 };
    case 'none':
      return { lookBack: -1, prefix: 0 };
    case 'band':
      return { lookBack: mask.lo === null ? Infinity : Math.max(-1, -mask.lo), prefix: 0 };
    case 'dilated':
      return { lookBack: mask.width * mask.dilation, prefix: 0 };
    case 'global': {
      // Keys in G, and every key of a query in G: all of them below G's last position.
      const last = Math.max(mask.first - 1, ...mask.positions);
      return { lookBack: -1, prefix: last + 1 };
    }
    case 'sink':
      return { lookBack: -1, prefix: mask.count };
    case 'blocks':
      return { lookBack: mask.size - 1, prefix: 0 };
    case 'union': {
      const reaches = mask.terms.map(maskReach);
      return {
        lookBack: Math.max(-1, ...reaches.map((r) => r.lookBack)),
        prefix: Math.max(0, ...reaches.map((r) => r.prefix)),
      };
    }
    case 'intersect': {
      // Each term's reach covers the intersection, and so does (min look-back, max prefix): a
      // pair every term allows is recent enough for the narrowest term or below some prefix.
      const reaches = mask.terms.map(maskReach);
      const combined: Reach = {
        lookBack: Math.min(...reaches.map((r) => r.lookBack)),
        prefix: Math.max(0, ...reaches.map((r) => r.prefix)),
      };
      return [...reaches, combined].reduce((best, r) =>
        reachSlots(r) < reachSlots(best) ? r : best,
      );
    }
    default:
      return unreachable(mask);
  }
}

/** A term that lets some query read a key after its own position, and how; null if none. */
export function futureReader(mask: Mask): { term: Mask; reason: string } | null {
  switch (mask.kind) {
    case 'union':
      for (const term of mask.terms) {
        const found = futureReader(term);
        if (found) return found;
      }
      return null;
    case 'intersect': {
      const found = mask.terms.map(futureReader);
      return found.some((f) => f === null) ? null : found[0]!;
    }
    default: {
      const reason = futureReason(mask);
      return reason === null ? null : { term: mask, reason };
    }
  }
}

function futureReason(leaf: Mask): string | null {
  switch (leaf.kind) {
    case 'none':
      return null;
    case 'all':
      return 'every query reads every key, later ones included';
    case 'band':
      if (leaf.hi !== null && leaf.hi <= 0) return null;
      return leaf.hi === null
        ? 'it reads every later key'
        : `it reads up to ${leaf.hi} key${leaf.hi === 1 ? '' : 's'} after the query's position`;
    case 'dilated':
      return leaf.width * leaf.dilation === 0
        ? null
        : `it reads up to ${leaf.width * leaf.dilation} keys after the query's position`;
    case 'stride':
      return 'it reads keys every stride after the query too';
    case 'global':
      return leaf.first === 0 && leaf.positions.length === 0
        ? null
        : 'a global query position reads every key, later ones included';
    case 'sink':
      return leaf.count <= 1
        ? null
        : `queries before position ${leaf.count - 1} read sink keys after their own position`;
    case 'blocks':
      return leaf.size <= 1 ? null : 'a query reads the later keys of its own block';
    case 'random':
      return 'its random key blocks may lie after the query';
    case 'segment':
      return 'a query reads the later keys of its own document';
    case 'routed':
      switch (leaf.routing.kind) {
        case 'topk':
          return "a query reads its own block's later keys and, without causal, later blocks";
        case 'cluster':
          return 'a query reads every key of its cluster, later ones included';
        case 'lsh':
          return 'a query reads every key of its bucket, later ones included';
        default:
          return unreachable(leaf.routing);
      }
    case 'union':
    case 'intersect':
      return futureReader(leaf)?.reason ?? null;
    default:
      return unreachable(leaf);
  }
}

/** The term that makes the mask read at any distance (for the explanation), if any. */
function unboundedTerm(mask: Mask): Mask | null {
  switch (mask.kind) {
    case 'union':
      for (const term of mask.terms)
        if (maskReach(term).lookBack === Infinity) return unboundedTerm(term);
      return null;
    case 'intersect': {
      if (mask.terms.some((t) => maskReach(t).lookBack !== Infinity)) return null;
      // Name the spec's own term rather than the `causal` that `causal: true` added.
      const named = mask.terms.find((t) => !(t.kind === 'band' && t.lo === null)) ?? mask.terms[0]!;
      return unboundedTerm(named);
    }
    default:
      return maskReach(mask).lookBack === Infinity ? mask : null;
  }
}

function sideTables(mask: Mask): CacheSideTable[] {
  const tables: CacheSideTable[] = [];
  const visit = (m: Mask) => {
    if (m.kind === 'union' || m.kind === 'intersect') return m.terms.forEach(visit);
    if (m.kind !== 'routed') return;
    const r = m.routing;
    switch (r.kind) {
      case 'topk':
        tables.push({ kind: 'block-means', k: r.k, block: r.block });
        return;
      case 'cluster':
        tables.push({ kind: 'bucket-ids', routing: 'cluster', buckets: r.count });
        return;
      case 'lsh':
        tables.push({ kind: 'bucket-ids', routing: 'lsh', buckets: r.buckets });
        return;
      default:
        unreachable(r);
    }
  };
  visit(mask);
  return tables;
}

function cacheMemory(
  attention: Attention,
  store: CacheStore,
  side: readonly CacheSideTable[],
): CacheMemory {
  const element = attention.dtype === 'f16' ? 2 : 4;
  const row = (attention.headDim + attention.valueDim) * element;
  const bucketIds = side.filter((t) => t.kind === 'bucket-ids').length * 4;
  // topk compares q with every earlier block's mean, so the means of all blocks are kept even
  // when another term bounds the keys (a far block can still win and change the choice).
  const means = side.filter((t) => t.kind === 'block-means');
  const block = means.length > 0 ? Math.min(...means.map((t) => t.block)) : 0;
  const blocks =
    means.length === 0
      ? null
      : {
          block,
          bytesPerBlock: means.length * attention.headDim * 4,
          maxSeq: attention.maxSeq,
        };
  switch (store.kind) {
    case 'ring':
      return {
        positions: { kind: 'fixed', count: reachSlots(store) },
        bytesPerPosition: row + bucketIds,
        fixedBytes: 0,
        blocks,
      };
    case 'contiguous':
      return {
        positions: { kind: 'capacity', maxSeq: store.maxSeq },
        bytesPerPosition: row + bucketIds,
        fixedBytes: 0,
        blocks,
      };
    case 'recurrent':
      return {
        positions: { kind: 'fixed', count: 0 },
        bytesPerPosition: 0,
        fixedBytes: (store.features * store.valueDim + store.features) * 4,
        blocks: null,
      };
    case 'projected':
      return {
        positions: { kind: 'fixed', count: 0 },
        bytesPerPosition: 0,
        fixedBytes: store.rank * (attention.headDim + attention.valueDim) * 4,
        blocks: null,
      };
    default:
      return unreachable(store);
  }
}

/** Key/value positions held per kv head at this capacity. */
export function cachePositions(memory: CacheMemory, capacity: number): number {
  const p = memory.positions;
  return p.kind === 'fixed'
    ? Math.min(p.count, capacity)
    : Math.min(capacity, p.maxSeq ?? Infinity);
}

/** Bytes per kv head at this capacity (positions a cache can ever hold). */
export function cacheBytesPerKvHead(memory: CacheMemory, capacity: number): number {
  const blocks = memory.blocks
    ? Math.ceil(Math.min(capacity, memory.blocks.maxSeq ?? Infinity) / memory.blocks.block) *
      memory.blocks.bytesPerBlock
    : 0;
  return memory.fixedBytes + memory.bytesPerPosition * cachePositions(memory, capacity) + blocks;
}

/** The formula of `cacheBytesPerKvHead`, in words and numbers. */
export function formatCacheMemory(memory: CacheMemory): string {
  const terms: string[] = [];
  if (memory.fixedBytes > 0) terms.push(`${memory.fixedBytes} B`);
  if (memory.bytesPerPosition > 0) {
    const p = memory.positions;
    const positions =
      p.kind === 'fixed'
        ? `min(${p.count}, capacity)`
        : p.maxSeq === null
          ? 'capacity'
          : `min(capacity, ${p.maxSeq})`;
    terms.push(`${memory.bytesPerPosition} B x ${positions}`);
  }
  if (memory.blocks) {
    const b = memory.blocks;
    const length = b.maxSeq === null ? 'capacity' : `min(capacity, ${b.maxSeq})`;
    terms.push(`${b.bytesPerBlock} B x ceil(${length} / ${b.block})`);
  }
  return terms.length === 0 ? '0 B' : terms.join(' + ');
}
