// The KV cache plan: what a decode loop must keep per kv head, from the attention IR.
// Ring plans are checked against the mask's meaning by brute force: every key that a query
// at or after step p may still read is kept at step p (sound), and for the shapes where the
// ring is exact, some step needs every slot (tight). Contiguous plans must be real: some
// query reads a key far behind it and past any prefix. Then each kind, each error, and the
// memory formulas.

import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import {
  cacheBytesPerKvHead,
  cachePositions,
  formatCacheMemory,
  planKvCache,
  reachSlots,
  type CachePlan,
  type GroupCachePlan,
} from '../../src/ir/cache-plan.js';
import type { Mask } from '../../src/ir/ir.js';
import { maskAllows } from '../../src/ir/mask.js';
import { randomUniform as random } from '../../src/random/index.js';

function compiled(text: string) {
  const result = compile(text);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { module: result.modules[0]!, text };
}

function planOf(text: string): CachePlan {
  return planKvCache(compiled(text).module.ir);
}

function onlyPlan(text: string): GroupCachePlan {
  const [group] = planOf(text).groups;
  if (!group?.ok) throw new Error(`expected a plan: ${JSON.stringify(group)}`);
  return group.plan;
}

function softmaxMask(text: string): Mask {
  const m = compiled(text).module.ir.groups[0]!.mechanism;
  if (m.kind !== 'softmax') throw new Error('not softmax');
  return m.mask;
}

const spec = (mask: string) => `attention t { heads: 2; head_dim: 8; causal: true; mask: ${mask} }`;

/** Steps checked, and how far past a step later queries are looked for. */
const STEPS = 120;
const HORIZON = 64;
const SEQ = STEPS + HORIZON;

/** The keys some query p' >= p (up to the horizon) reads: what step p must still hold. */
function neededAt(mask: Mask, p: number): number[] {
  const needed: number[] = [];
  for (let j = 0; j <= p; j++) {
    for (let q = p; q < Math.min(SEQ, p + HORIZON); q++) {
      if (maskAllows(mask, { i: q, p: q, j, seqK: SEQ })) {
        needed.push(j);
        break;
      }
    }
  }
  return needed;
}

const LEAVES = [
  'window(left: 5)',
  'window(3)',
  'window(left: 12, right: 2)',
  'sink(3)',
  'dilated(3, 4)',
  'blocks(8)',
  'global(2)',
  'global(40, first: 1)',
  'stride(7)',
  'full',
  'causal',
  'random(4, block: 16, seed: 5)',
];

/** Masks of one to three leaves joined by | and &, drawn from a seeded generator. */
function randomMasks(count: number): string[] {
  const out: string[] = [];
  for (let n = 0; n < count; n++) {
    const pick = (i: number) => LEAVES[Math.floor(random(11, n, i) * LEAVES.length)]!;
    const terms = 1 + Math.floor(random(11, n, 9) * 3);
    let text = pick(0);
    for (let t = 1; t < terms; t++) {
      const op = random(11, n, 20 + t) < 0.5 ? ' | ' : ' & ';
      text =
        t === 2 && random(11, n, 30) < 0.5 ? `(${text})${op}${pick(t)}` : `${text}${op}${pick(t)}`;
    }
    out.push(text);
  }
  return out;
}

describe('cache plan: rings are sound and contiguous caches are needed', () => {
  const masks = [
    'window(left: 16) | sink(4)',
    'window(left: 16)',
    'window(16)',
    'sink(4)',
    'dilated(4, 3)',
    'blocks(8)',
    'global(3)',
    'global(30, 50, first: 2)',
    'window(left: 8) & blocks(16)',
    'window(left: 20) & (sink(2) | dilated(2, 5))',
    'stride(4)',
    'full',
    'segment',
    ...randomMasks(60),
  ];
  it.each(masks)('causal: true; mask: %s', (maskText) => {
    const mask = softmaxMask(spec(maskText));
    const plan = onlyPlan(spec(maskText));
    const store = plan.store;
    if (store.kind === 'ring') {
      for (let p = 0; p < STEPS; p++) {
        for (const j of neededAt(mask, p)) {
          if (j < store.prefix || j >= p - store.lookBack) continue;
          throw new Error(`step ${p} needs key ${j}, outside the ring ${JSON.stringify(store)}`);
        }
      }
      return;
    }
    expect(store.kind).toBe('contiguous');
    if (maskText === 'segment') return; // its reach depends on the documents
    // Some query reads a key more than 80 positions back and past position 48 (farther than
    // any look-back or prefix of the leaves above).
    let far = false;
    for (let p = SEQ - 1; p >= 130 && !far; p--) {
      for (let j = 48; j < p - 80 && !far; j++) far = maskAllows(mask, { i: p, p, j, seqK: SEQ });
    }
    expect(far, `contiguous but bounded: ${maskText}`).toBe(true);
  });

  it.each([
    ['window(left: 16) | sink(4)', 21],
    ['window(left: 16)', 17],
    ['window(16)', 17],
    ['sink(4)', 4],
    ['dilated(4, 3)', 13],
    ['blocks(8)', 8],
    ['window(left: 8) & blocks(16)', 9],
  ])('%s: the ring has %i slots, and some step needs all of them', (maskText, slots) => {
    const plan = onlyPlan(spec(maskText));
    expect(plan.store.kind).toBe('ring');
    if (plan.store.kind !== 'ring') return;
    expect(reachSlots(plan.store)).toBe(slots);
    const mask = softmaxMask(spec(maskText));
    let most = 0;
    for (let p = 0; p < STEPS; p++) most = Math.max(most, neededAt(mask, p).length);
    expect(most).toBe(slots);
  });
});

describe('cache plan: kinds and memory', () => {
  it('window(left: 1024) | sink(4) keeps 1,029 positions (the window, the query, the sinks) at any capacity', () => {
    const plan = onlyPlan(
      'attention s { heads: 8; kv_heads: 2; head_dim: 64; causal: true; mask: window(left: 1024) | sink(4) }',
    );
    expect(plan.store).toEqual({ kind: 'ring', lookBack: 1024, prefix: 4 });
    expect(plan.kvHeads).toBe(2);
    expect(cachePositions(plan.memory, 65536)).toBe(1029);
    expect(cachePositions(plan.memory, 65536)).toBeLessThanOrEqual(1028 + 1);
    expect(cacheBytesPerKvHead(plan.memory, 65536)).toBe(1029 * 128 * 4);
    expect(cacheBytesPerKvHead(plan.memory, 1 << 20)).toBe(1029 * 128 * 4);
    expect(cachePositions(plan.memory, 100)).toBe(100);
    expect(formatCacheMemory(plan.memory)).toBe('512 B x min(1029, capacity)');
  });

  it('unbounded masks keep the capacity, bounded by max_seq', () => {
    const plan = onlyPlan('attention d { heads: 4; head_dim: 16; causal: true }');
    expect(plan.store).toEqual({ kind: 'contiguous', unbounded: 'causal', maxSeq: null });
    expect(cacheBytesPerKvHead(plan.memory, 1000)).toBe(1000 * 32 * 4);
    expect(formatCacheMemory(plan.memory)).toBe('128 B x capacity');
    const bounded = onlyPlan('attention d { heads: 4; head_dim: 16; max_seq: 512; causal: true }');
    expect(cachePositions(bounded.memory, 4096)).toBe(512);
    expect(formatCacheMemory(bounded.memory)).toBe('128 B x min(capacity, 512)');
    const strided = onlyPlan(spec('window(left: 4) | stride(16)'));
    expect(strided.store).toMatchObject({ kind: 'contiguous', unbounded: 'stride(16)' });
  });

  it('f16 keys and values take 2 bytes an element', () => {
    const plan = onlyPlan(
      'attention h { heads: 2; head_dim: 16; dtype: f16; causal: true; mask: window(left: 9) }',
    );
    expect(cacheBytesPerKvHead(plan.memory, 4096)).toBe(10 * 32 * 2);
  });

  it('kernelized groups keep the recurrent state: sum phi(k) v^T and sum phi(k), f32', () => {
    const elu1 = onlyPlan(
      'attention l { heads: 8; kv_heads: 2; head_dim: 64; causal: true; kernel: elu1 }',
    );
    expect(elu1.store).toEqual({ kind: 'recurrent', features: 64, valueDim: 64 });
    expect(cacheBytesPerKvHead(elu1.memory, 65536)).toBe((64 * 64 + 64) * 4);
    expect(cacheBytesPerKvHead(elu1.memory, 16)).toBe((64 * 64 + 64) * 4);
    const favor = onlyPlan(
      'attention f { heads: 2; head_dim: 16; value_dim: 8; causal: true; kernel: favor(32, seed: 1) }',
    );
    expect(favor.store).toEqual({ kind: 'recurrent', features: 32, valueDim: 8 });
    expect(formatCacheMemory(favor.memory)).toBe(`${(32 * 8 + 32) * 4} B`);
  });

  it('topk keeps the mean key of every block as keys arrive; cluster and lsh a bucket id per key', () => {
    const topk = onlyPlan(spec('topk(4, block: 64)'));
    expect(topk.store.kind).toBe('contiguous');
    expect(topk.side).toEqual([{ kind: 'block-means', k: 4, block: 64 }]);
    // keys and values 2 x 8 f32 per position, means 8 f32 per block
    expect(cacheBytesPerKvHead(topk.memory, 1000)).toBe(1000 * 64 + 16 * 32);
    expect(formatCacheMemory(topk.memory)).toBe('64 B x capacity + 32 B x ceil(capacity / 64)');
    // A window bounds the keys, but topk still compares q with every earlier block's mean.
    const windowed = onlyPlan(spec('window(left: 32) & topk(2, block: 16)'));
    expect(windowed.store).toEqual({ kind: 'ring', lookBack: 32, prefix: 0 });
    expect(cacheBytesPerKvHead(windowed.memory, 1600)).toBe(33 * 64 + 100 * 32);
    const cluster = onlyPlan(spec('window(left: 8) | cluster(4)'));
    expect(cluster.side).toEqual([{ kind: 'bucket-ids', routing: 'cluster', buckets: 4 }]);
    expect(cacheBytesPerKvHead(cluster.memory, 100)).toBe(100 * (64 + 4));
    const lsh = onlyPlan(spec('lsh(buckets: 4, seed: 1) & window(left: 7)'));
    expect(lsh.store).toEqual({ kind: 'ring', lookBack: 7, prefix: 0 });
    expect(cacheBytesPerKvHead(lsh.memory, 100)).toBe(8 * (64 + 4));
  });

  it('linformer with max_seq keeps its projected rows E K and F V', () => {
    const plan = onlyPlan(
      'attention lf { heads: 2; head_dim: 16; max_seq: 256; lowrank: linformer(8) }',
    );
    expect(plan.store).toEqual({ kind: 'projected', rank: 8 });
    expect(cacheBytesPerKvHead(plan.memory, 256)).toBe(8 * 32 * 4);
  });

  it('plans each group of a hybrid on its own; head routing keeps nothing', () => {
    const plan = planOf(
      `attention hy {
        head_dim: 16
        causal: true
        head_routing: top(2)
        group local { heads: 2; mask: window(left: 64) | sink(2) }
        group global { heads: 1; mask: full }
        group linear { heads: 2; kernel: elu1 }
      }`,
    );
    expect(plan.headRouting).toBe(true);
    expect(plan.groups.map((g) => (g.ok ? [g.plan.group, g.plan.store.kind] : g))).toEqual([
      ['local', 'ring'],
      ['global', 'contiguous'],
      ['linear', 'recurrent'],
    ]);
  });
});

describe('cache plan: what cannot be decoded incrementally names the construct', () => {
  it.each([
    ['window(8)', 'window(8)', /reads up to 8 keys after the query's position/],
    ['full', 'full', /every query reads every key/],
    ['sink(4)', 'sink(4)', /queries before position 3 read sink keys after their own/],
    ['window(left: 8) | blocks(4)', 'blocks(4)', /later keys of its own block/],
    ['dilated(2, 3)', 'dilated(2, 3)', /reads up to 6 keys after/],
    ['global(3)', 'global(3)', /global query position reads every key/],
    ['stride(4)', 'stride(4)', /every stride after the query/],
    ['segment', 'segment', /later keys of its own document/],
    ['random(2, block: 8)', 'random(2, block: 8)', /may lie after the query/],
    ['topk(2, block: 8)', 'topk(2, block: 8)', /own block's later keys/],
    ['cluster(4)', 'cluster(4)', /every key of its cluster/],
  ])('mask: %s (not causal)', (maskText, construct, reason) => {
    const text = `attention n { heads: 2; head_dim: 8; mask: ${maskText} }`;
    const [group] = planOf(text).groups;
    if (group?.ok !== false) throw new Error(`expected a problem for ${maskText}`);
    expect(text.slice(group.problem.span.start, group.problem.span.end)).toBe(construct);
    expect(group.problem.message).toMatch(reason);
    expect(group.problem.message).toMatch(/add `causal: true`/);
  });

  it('kernelized without causal, and nystrom, are problems of their group only', () => {
    const plan = planOf(
      `attention mixed {
        head_dim: 16
        group a { heads: 2; kernel: elu1 }
        group b { heads: 2; causal: true; mask: window(left: 4) }
      }`,
    );
    const [a, b] = plan.groups;
    expect(a).toMatchObject({ ok: false, problem: { group: 'a', construct: 'causal: false' } });
    expect(b).toMatchObject({ ok: true, plan: { group: 'b', store: { kind: 'ring' } } });
    const [nystrom] = planOf('attention ny { heads: 2; head_dim: 16; lowrank: nystrom(8) }').groups;
    expect(nystrom).toMatchObject({ ok: false, problem: { construct: 'nystrom(8)' } });
    if (nystrom?.ok === false) expect(nystrom.problem.message).toMatch(/landmarks/);
  });
});
