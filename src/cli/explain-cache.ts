// `attnc explain FILE --cache [--capacity N]`: the KV cache plan of each head group (what a
// decode loop keeps per kv head, and its memory as a formula of the capacity and at N), or
// the construct that keeps a group from being decoded incrementally, at its line and column.

import type { SourceText } from '../diagnostics/source.js';
import {
  cacheBytesPerKvHead,
  cachePositions,
  formatCacheMemory,
  reachSlots,
  type CachePlan,
  type CacheSideTable,
  type CacheStore,
  type GroupCachePlan,
} from '../api/kv-cache.js';

export function describeCachePlan(plan: CachePlan, source: SourceText, capacity: number): string {
  const lines = [
    `== ${plan.attention}: KV cache at capacity ${grouped(capacity)} (per batch entry)`,
  ];
  let total = 0;
  let decodable = true;
  for (const result of plan.groups) {
    if (!result.ok) {
      const { problem } = result;
      const at = source.position(problem.span.start);
      const text = source.text.slice(problem.span.start, problem.span.end);
      lines.push(
        `-- group ${problem.group}: cannot be decoded incrementally`,
        `   ${source.file}:${at.line}:${at.column}: \`${text || problem.construct}\`: ${problem.message}`,
      );
      decodable = false;
      continue;
    }
    const g = result.plan;
    const perHead = cacheBytesPerKvHead(g.memory, capacity);
    total += perHead * g.kvHeads;
    lines.push(
      `-- group ${g.group} (${g.heads} head${g.heads === 1 ? '' : 's'}, ${g.kvHeads} kv head${g.kvHeads === 1 ? '' : 's'}): ${describeStore(g.store)}`,
      ...g.side.map((t) => `   also: ${describeSide(t)}`),
      `   per kv head: ${formatCacheMemory(g.memory)}`,
      `   at capacity ${grouped(capacity)}: ${positionsText(g, capacity)}${bytes(perHead)} per kv head, ${bytes(perHead * g.kvHeads)} for the group`,
    );
  }
  if (plan.headRouting) {
    lines.push(
      "-- head_routing: heads are chosen per step from that step's router logits; nothing is kept",
    );
  }
  lines.push(
    decodable
      ? `total: ${bytes(total)} per batch entry`
      : `total: ${bytes(total)} per batch entry for the groups that can be decoded`,
  );
  return lines.join('\n') + '\n\n';
}

function describeStore(store: CacheStore): string {
  switch (store.kind) {
    case 'ring': {
      const recent = Math.max(0, store.lookBack + 1);
      const parts = [
        ...(recent > 0
          ? [
              `the last ${grouped(recent)} positions (look-back ${store.lookBack} and the query's own)`,
            ]
          : []),
        ...(store.prefix > 0
          ? [`the first ${grouped(store.prefix)} (sinks and global positions)`]
          : []),
      ];
      return `ring of ${grouped(reachSlots(store))} slots, whatever the capacity: ${parts.join(' and ') || 'nothing'}`;
    }
    case 'contiguous':
      return (
        `contiguous, ${store.maxSeq === null ? 'capacity' : `min(capacity, max_seq ${store.maxSeq})`} positions: ` +
        `\`${store.unbounded}\` reads keys at any distance`
      );
    case 'recurrent':
      return (
        `recurrent state, no keys: sum phi(k) v^T (${store.features} x ${store.valueDim}) and ` +
        `sum phi(k) (${store.features}), f32, updated once per token`
      );
    case 'projected':
      return `projected rows, no keys: E K and F V (${store.rank} rows each), f32, summed as keys arrive`;
    default:
      return unknownKind(store);
  }
}

function describeSide(table: CacheSideTable): string {
  switch (table.kind) {
    case 'block-means':
      return `topk(${table.k}, block: ${table.block}): the mean key of every block of ${table.block}, f32, updated as keys arrive`;
    case 'bucket-ids':
      return `${table.routing}: each cached key's bucket (of ${table.buckets}), u32`;
    default:
      return unknownKind(table);
  }
}

function positionsText(g: GroupCachePlan, capacity: number): string {
  if (g.store.kind === 'recurrent' || g.store.kind === 'projected') return '';
  return `${grouped(cachePositions(g.memory, capacity))} positions, `;
}

function unknownKind(value: never): never {
  throw new Error(`internal error: unknown cache plan node ${JSON.stringify(value)}`);
}

function grouped(n: number): string {
  return n.toLocaleString('en-US');
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const [value, unit] =
    n < 1024 ** 2
      ? [n / 1024, 'KiB']
      : n < 1024 ** 3
        ? [n / 1024 ** 2, 'MiB']
        : [n / 1024 ** 3, 'GiB'];
  return `${grouped(n)} B (${value.toFixed(value < 10 ? 2 : 1)} ${unit})`;
}
