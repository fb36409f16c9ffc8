// Bench cases for the data-dependent masks, one head, D from the shape, bhnd, not causal:
//   routing-topk4-b64:   topk(4, block: 64): own block + 4 selected, ideal = N / (5 * 64)
//   routing-cluster16:   cluster(16), uniform [-1, 1] centroids: ideal = 1 / measured density
//   routing-window64-topk4: window(64) | topk(4, block: 64) (routed keys the window covers are
//                        skipped once)
// Timed: everything the plan dispatches (block means or key buckets + bucket lists, then the
// routed attention kernel), through PreparedRun like bench/attnc-cases.ts. `density` is the
// real fraction of allowed (p, j) pairs, computed on the host with the reference's functions.

import type { CheckedAttention, MaskNode } from '../src/check/checked.js';
import { compileAttention } from '../src/codegen/compile.js';
import { clusterOf, keyBlockMeans, topkBlocks } from '../src/reference/data-masks.js';
import { readDeviceProfile } from '../src/runtime/device-profile.js';
import { load } from '../src/runtime/loaded-kernel.js';
import { randomMatrix } from './baseline.js';
import type { BenchCase, CaseCheck, CaseFactory, RunContext } from './harness.js';
import { benchSpec, NO_SPAN } from './bench-spec.js';

const S = NO_SPAN;

function spec(d: number, mask: MaskNode): CheckedAttention {
  return benchSpec(d, { name: 'bench_routing', group: { mask } });
}

type Kind = 'topk' | 'cluster' | 'window-topk';

const rows = (m: Float32Array, n: number, d: number) =>
  Array.from({ length: n }, (_, i) => Float64Array.from(m.subarray(i * d, (i + 1) * d)));

/** Allowed keys of each of `check` rows, and the density over all rows (host, float64). */
function allowedSets(
  kind: Kind,
  q: Float32Array,
  k: Float32Array,
  centroids: Float32Array,
  n: number,
  d: number,
  checkRows: number[],
): { density: number; sets: Map<number, number[]> } {
  const keys = rows(k, n, d);
  const sets = new Map<number, number[]>();
  if (kind === 'cluster') {
    const mu = rows(centroids, 16, d);
    const kc = keys.map((x) => clusterOf(x, mu));
    const kCount = new Array<number>(16).fill(0);
    kc.forEach((c) => kCount[c]!++);
    let pairs = 0;
    for (let i = 0; i < n; i++) {
      const c = clusterOf(q.subarray(i * d, (i + 1) * d), mu);
      pairs += kCount[c]!;
      if (checkRows.includes(i))
        sets.set(
          i,
          kc.flatMap((x, j) => (x === c ? [j] : [])),
        );
    }
    return { density: pairs / (n * n), sets };
  }
  const means = keyBlockMeans(keys, 64, d);
  let pairs = 0;
  for (let i = 0; i < n; i++) {
    const chosen = topkBlocks(q.subarray(i * d, (i + 1) * d), means, Math.floor(i / 64), 4, false);
    let count = 0;
    const set: number[] = [];
    for (let j = 0; j < n; j++) {
      const ok =
        chosen.has(Math.floor(j / 64)) || (kind === 'window-topk' && Math.abs(i - j) <= 64);
      if (ok) {
        count++;
        if (checkRows.includes(i)) set.push(j);
      }
    }
    pairs += count;
    if (checkRows.includes(i)) sets.set(i, set);
  }
  return { density: pairs / (n * n), sets };
}

function referenceRow(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  d: number,
  row: number,
  keys: number[],
): Float64Array {
  const scale = 1 / Math.sqrt(d);
  const scores = keys.map((j) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += q[row * d + c]! * k[j * d + c]!;
    return s * scale;
  });
  const max = Math.max(...scores);
  const out = new Float64Array(d);
  let sum = 0;
  scores.forEach((s, t) => {
    const p = Math.exp(s - max);
    sum += p;
    for (let c = 0; c < d; c++) out[c]! += p * v[keys[t]! * d + c]!;
  });
  return out.map((x) => x / sum);
}

function routingFactory(name: string, kind: Kind): CaseFactory {
  return {
    name,
    create(device: GPUDevice, shape: { readonly n: number; readonly d: number }): BenchCase {
      const { n, d } = shape;
      const topk: MaskNode = { kind: 'topk', k: 4, block: 64, span: S };
      const mask: MaskNode =
        kind === 'topk'
          ? topk
          : kind === 'cluster'
            ? { kind: 'cluster', count: 16, span: S }
            : {
                kind: 'union',
                terms: [{ kind: 'window', left: 64, right: 64, span: S }, topk],
                span: S,
              };
      const loaded = load(device, compileAttention(spec(d, mask), readDeviceProfile(device)));
      const q = randomMatrix(n * d, 1);
      const k = randomMatrix(n * d, 2);
      const v = randomMatrix(n * d, 3);
      const centroids = randomMatrix(16 * d, 4);
      const prepared = loaded.prepare(kind === 'cluster' ? { q, k, v, centroids } : { q, k, v });
      const checkRows = [...new Set([0, n >> 1, n - 1])];
      const { density, sets } = allowedSets(kind, q, k, centroids, n, d, checkRows);
      let lastOutput: Promise<Float32Array> | null = null;
      return {
        name,
        density,
        n,
        d,
        heads: 1,
        run(ctx: RunContext) {
          const encoder = device.createCommandEncoder();
          prepared.encode(encoder, (e) => ctx.beginComputePass(e));
          device.queue.submit([encoder.finish()]);
        },
        async check(): Promise<CaseCheck> {
          lastOutput ??= prepared.run().then((r) => r.o);
          const o = await lastOutput;
          let maxAbsError = 0;
          for (const row of checkRows) {
            const keys = sets.get(row)!;
            const want = keys.length ? referenceRow(q, k, v, d, row, keys) : new Float64Array(d);
            for (let c = 0; c < d; c++)
              maxAbsError = Math.max(maxAbsError, Math.abs(o[row * d + c]! - want[c]!));
          }
          return { maxAbsError, checked: `rows ${checkRows.join(', ')}` };
        },
        destroy() {
          prepared.destroy();
          loaded.destroy();
        },
      };
    },
  };
}

export function routingFactories(): CaseFactory[] {
  return [
    routingFactory('routing-topk4-b64', 'topk'),
    routingFactory('routing-cluster16', 'cluster'),
    routingFactory('routing-window64-topk4', 'window-topk'),
  ];
}
