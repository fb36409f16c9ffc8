// Kernel tests of the KV cache for routed masks (topk, cluster, lsh) on llvmpipe: decode loops
// token by token and in chunks, every attend's output compared with the CPU reference over the
// full K/V up to the cache's length. topk with a partial last block, cluster with centroids,
// lsh, GQA, and chunks past the split-K rows (the fused routed kernel); each intersected with
// a window on a ring that wraps several times (block means over every block, bucket ids of
// the keys the ring holds, by slot).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutput } from '../../../src/api/compare-output.js';
import { compile, type CompiledModule } from '../../../src/api/compile.js';
import { randomInputs, type RandomInputs } from '../../../src/api/random-inputs.js';
import { reference } from '../../../src/api/reference.js';
import { createRuntime, type LoadedModule, type Runtime } from '../../../src/api/runtime.js';
import type { KvCache } from '../../../src/runtime/cache/kv-cache.js';
import { packHalves } from '../../../src/runtime/f16.js';
import { adapterAvailability } from '../gpu-availability.js';

const availability = await adapterAvailability('llvmpipe');

/** Positions [from, to) of a [B, H, N, W] (bhnd) array. */
function positions(
  data: Float32Array,
  dims: { batch: number; heads: number; n: number; width: number },
  from: number,
  to: number,
): Float32Array {
  const { batch, heads, n, width } = dims;
  const t = to - from;
  const out = new Float32Array(batch * heads * t * width);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++) {
      const src = ((b * heads + h) * n + from) * width;
      out.set(data.subarray(src, src + t * width), (b * heads + h) * t * width);
    }
  return out;
}

/** Appends each chunk, attends its queries, and compares with the reference at that length. */
async function decodeLoop(
  module: CompiledModule,
  loaded: LoadedModule,
  chunks: readonly number[],
  batch = 1,
  existing?: KvCache,
  seed = 3,
  /** Append k and v as Uint16Array f16 halves (a dtype: f16 spec) instead of f32. */
  halves = false,
  maxChunk?: number,
): Promise<KvCache> {
  const a = module.ir;
  const total = chunks.reduce((x, y) => x + y, 0);
  const inputs = randomInputs(module, { batch, seqQ: total, seqK: total, seed });
  const centroids = inputs.centroids ? { centroids: inputs.centroids } : {};
  const cache =
    existing ??
    loaded.createCache({
      batch,
      capacity: total + 5,
      ...(maxChunk ? { maxChunk } : {}),
      ...centroids,
    });
  const dims = (heads: number, width: number) => ({ batch, heads, n: total, width });
  const host = (x: Float32Array, name: string) =>
    halves ? new Uint16Array(packHalves(x, name).buffer, 0, x.length) : x;
  let length = 0;
  for (const t of chunks) {
    const end = length + t;
    await cache.append({
      k: host(positions(inputs.k, dims(a.kvHeads, a.headDim), length, end), 'k'),
      v: host(positions(inputs.v, dims(a.kvHeads, a.valueDim), length, end), 'v'),
    });
    const q = positions(inputs.q, dims(a.heads, a.headDim), length, end);
    const { o } = await cache.attend({ q });
    const expected = reference(module, {
      batch,
      seqQ: t,
      seqK: end,
      q,
      k: positions(inputs.k, dims(a.kvHeads, a.headDim), 0, end),
      v: positions(inputs.v, dims(a.kvHeads, a.valueDim), 0, end),
      ...centroids,
    } as unknown as RandomInputs).o;
    const { relativeError } = compareOutput(o!, expected);
    expect(relativeError, `chunk of ${t} at length ${end}`).toBeLessThan(
      a.dtype === 'f16' ? 4e-3 : 1e-4,
    );
    length = end;
  }
  return cache;
}

const tokens = (n: number) => new Array<number>(n).fill(1);

describe.skipIf(!availability.run)('KV cache for routed masks on llvmpipe', () => {
  let runtime: Runtime;
  const load = async (text: string) => {
    const result = compile(text, { target: runtime.profile });
    const module = result.modules[0];
    if (!module) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
    return { module, loaded: await runtime.load(module) };
  };
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
  });
  afterAll(() => runtime?.destroy());

  it('topk GQA: token by token through partial blocks, then chunks (one past the split-K rows)', async () => {
    const { module, loaded } = await load(
      'attention tk { heads: 4; kv_heads: 2; head_dim: 16; causal: true; mask: topk(2, block: 4) }',
    );
    const cache = await decodeLoop(module, loaded, [...tokens(11), 3, 5, 18, 1, 2], 2);
    // The block means are kept: [B, Hkv, ceil(45 / 4), D] sums and means, after a 256-byte header.
    expect(cache.bytes).toBeGreaterThanOrEqual(2 * 2 * 12 * 16 * 4 * 2 + 256);
    // After reset the sums start over: other keys, the same reference.
    cache.reset();
    (await decodeLoop(module, loaded, [1, 1, 6, 1], 2, cache, 9)).destroy();
    loaded.destroy();
  });

  it('topk f16 (k given as f32, stored as halves): token by token, then a chunk', async () => {
    const { module, loaded } = await load(
      'attention tkh { heads: 2; head_dim: 16; dtype: f16; causal: true; mask: topk(1, block: 4) }',
    );
    (await decodeLoop(module, loaded, [...tokens(9), 5])).destroy();
    loaded.destroy();
  });

  it('f16 host halves (Uint16Array k and v): topk, cluster and lsh, token by token and chunks', async () => {
    for (const mask of ['topk(1, block: 4)', 'cluster(3)', 'lsh(buckets: 4, seed: 5)']) {
      const { module, loaded } = await load(
        `attention hh { heads: 4; kv_heads: 2; head_dim: 16; dtype: f16; causal: true; mask: ${mask} }`,
      );
      (await decodeLoop(module, loaded, [...tokens(5), 4, 1], 2, undefined, 7, true)).destroy();
      loaded.destroy();
    }
  });

  it('cluster with centroids: token by token, then chunks', async () => {
    const { module, loaded } = await load(
      'attention cl { heads: 2; head_dim: 16; causal: true; mask: cluster(3) }',
    );
    (await decodeLoop(module, loaded, [...tokens(9), 4, 17, 1])).destroy();
    expect(() => loaded.createCache({ batch: 1, capacity: 8 })).toThrow(
      /has a cluster mask: pass its centroids \(\[Hkv, c, D\] f32\) to createCache\(\{ centroids \}\)/,
    );
    loaded.destroy();
  });

  it('window & topk on a ring: the means of every block, the keys from the ring', async () => {
    const { module, loaded } = await load(
      'attention wt { heads: 4; kv_heads: 2; head_dim: 16; causal: true; mask: window(left: 6) & topk(2, block: 4) }',
    );
    const chunks = [...tokens(12), 3, 18, 1, 17, 18, 2, 18];
    const cache = await decodeLoop(module, loaded, chunks, 2, undefined, 3, false, 18);
    expect(cache.slots).toMatchObject({ kind: 'ring', rows: 24, prefix: 0, ringSlots: 24 });
    expect(cache.length).toBeGreaterThan(3 * cache.slots.rows);
    // The means cover the capacity (94 positions), not the ring: appending past it is refused.
    const k = new Float32Array(2 * 2 * 6 * 16);
    await expect(cache.append({ k, v: k })).rejects.toThrow(
      /append: 6 new positions at length 89 would pass the capacity: the topk block means cover 94 positions \(capacity 94\); nothing was written/,
    );
    cache.reset();
    (await decodeLoop(module, loaded, [4, 1, 18, 18, 1, 9, 18, 2], 2, cache, 7)).destroy();
    loaded.destroy();
  });

  it('(window | sink) & cluster on a ring: the ids of the held keys, by slot', async () => {
    const { module, loaded } = await load(
      'attention wc { heads: 2; head_dim: 16; causal: true; mask: (window(left: 5) | sink(2)) & cluster(3) }',
    );
    const chunks = [...tokens(10), 20, 3, 20, 1, 18, 20];
    const cache = await decodeLoop(module, loaded, chunks, 1, undefined, 3, false, 20);
    expect(cache.slots).toMatchObject({ kind: 'ring', rows: 27, prefix: 2, ringSlots: 25 });
    cache.destroy();
    loaded.destroy();
  });

  it('window & lsh GQA on a ring, token by token and in chunks', async () => {
    const { module, loaded } = await load(
      'attention wl { heads: 4; kv_heads: 2; head_dim: 16; causal: true; mask: window(left: 4) & lsh(buckets: 4, seed: 5) }',
    );
    const chunks = [...tokens(9), 4, 3, 4, 4, 1, 2, 4, 4, 4, 3, 4];
    const cache = await decodeLoop(module, loaded, chunks, 2, undefined, 3, false, 4);
    expect(cache.slots).toMatchObject({ kind: 'ring', rows: 8 });
    expect(cache.length).toBeGreaterThan(5 * cache.slots.rows);
    cache.destroy();
    loaded.destroy();
  });

  it('lsh GQA, a union with a window: token by token, then chunks', async () => {
    const { module, loaded } = await load(
      'attention ls { heads: 4; kv_heads: 2; head_dim: 16; causal: true; mask: window(left: 3) | lsh(buckets: 4, seed: 5) }',
    );
    const cache = await decodeLoop(module, loaded, [...tokens(9), 6, 17, 1]);
    cache.reset();
    (await decodeLoop(module, loaded, [2, 1, 1], 1, cache, 11)).destroy();
    loaded.destroy();
  });
});
