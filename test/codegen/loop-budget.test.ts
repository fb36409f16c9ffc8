// The loop-iteration bound of the fused softmax kernels (src/codegen/wgsl/loop-budget.ts):
// what each part of a mask contributes, and the bound of whole compiled kernels at sizes
// where it can be counted by hand. test/kernels/loop-budget.gpu.test.ts checks the bound
// against llvmpipe itself.

import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import type { Mask } from '../../src/ir/ir.js';
import { evalSize } from '../../src/codegen/plan.js';
import { routeChunk } from '../../src/codegen/wgsl/emit-head-routing.js';
import { checkLoopBudget, LLVMPIPE_LOOP_BUDGET } from '../../src/runtime/loop-budget.js';
import {
  busyTilesBound,
  constantLoopCost,
  visitedKeysBound,
} from '../../src/codegen/wgsl/loop-budget.js';

const span = { start: 0, end: 0 };
const band = (lo: number | null, hi: number | null): Mask => ({ kind: 'band', lo, hi, span });
const sink = (count: number): Mask => ({ kind: 'sink', count, span });
const all: Mask = { kind: 'all', span };
const union = (...terms: Mask[]): Mask => ({ kind: 'union', terms, span });
const intersect = (...terms: Mask[]): Mask => ({ kind: 'intersect', terms, span });

function bound(text: string, target = 'llvmpipe') {
  const result = compile(text, { target });
  expect(result.diagnostics).toEqual([]);
  const kernel = result.modules[0]!.plan.kernels.find((k) => k.name.endsWith('softmax'))!;
  return (seqK: number, seqQ = 1) => evalSize(kernel.loopIterations!, { batch: 1, seqQ, seqK });
}

describe('loop costs', () => {
  it('a constant loop of up to 32 trips is unrolled; a longer one costs trips + 1', () => {
    expect(constantLoopCost(16)).toBe(0);
    expect(constantLoopCost(32)).toBe(0);
    expect(constantLoopCost(33)).toBe(34);
    expect(constantLoopCost(64)).toBe(65);
  });
});

describe('what a query tile of 64 rows visits', () => {
  it('a two-sided band: its width plus the rows; one-sided (causal) or all: everything', () => {
    expect(visitedKeysBound(band(-1024, 0), 64)).toBe(1088);
    expect(visitedKeysBound(band(null, 0), 64)).toBeNull();
    expect(visitedKeysBound(all, 64)).toBeNull();
    expect(busyTilesBound(band(-1024, 0), 64, 64)).toBe(18);
  });

  it('a union takes the largest prefix and the hull of its bands, as visitRange does', () => {
    // Two narrow bands far apart: the hull [-1000, 1000] is visited, not 2 x 11 keys.
    expect(visitedKeysBound(union(band(-1000, -990), band(990, 1000)), 64)).toBe(2064);
    expect(visitedKeysBound(union(band(-10, 0), sink(4)), 64)).toBe(4 + 74);
    // Busy tiles are counted per term: a tile is non-empty where some term is.
    expect(busyTilesBound(union(band(-1000, -990), band(990, 1000)), 64, 64)).toBe(6);
  });

  it('an intersection is no wider than its narrowest term whose hull is bounded', () => {
    expect(visitedKeysBound(intersect(band(null, 0), band(-100, 100)), 64)).toBe(264);
    // sink | window has the hull [0, p + hi]: it bounds the busy tiles, not the visit.
    const windowSink = union(band(-1024, 0), sink(4));
    expect(visitedKeysBound(intersect(band(null, 0), windowSink), 64)).toBeNull();
    expect(busyTilesBound(intersect(band(null, 0), windowSink), 64, 64)).toBe(19);
  });
});

describe('the bound of a compiled kernel', () => {
  it('dense causal, rowwise, D 64: a step per key and per 64-key tile, plus 2', () => {
    const of = bound('attention a { heads: 1; head_dim: 64; causal: true }');
    expect(of(64_000)).toBe(64_000 + 1000 + 2);
    expect(of(100)).toBe(100 + 2 + 2);
  });

  it('D 256: the per-key loops over 64 vectors are two unrolled loops of 32, paid per row only', () => {
    const module = compile('attention a { heads: 1; head_dim: 256; causal: true }', {
      target: 'llvmpipe',
    }).modules[0]!;
    const wgsl = module.plan.kernels[0]!.wgsl;
    expect(wgsl).toContain('for (var d = 32u; d < DW; d++) { s += ');
    expect(wgsl).not.toMatch(/for \(var d = 0u; d < DW; d\+\+\) \{ s \+= /);
    const of = bound('attention a { heads: 1; head_dim: 256; causal: true }');
    // Per tile 1, per key 1; per row the q load, acc init and store (64 trips each) and 2.
    expect(of(640)).toBe(10 + 640 + 3 * 65 + 2);
  });

  it('window | sink stops growing with seqK once past the band: only tile steps remain', () => {
    const of = bound(
      'attention a { heads: 1; head_dim: 64; causal: true; mask: window(left: 1024) | sink(4) }',
    );
    expect(of(1_000_000) - of(500_000)).toBe(15_625 - 7_813);
    expect(of(1_000_000)).toBeLessThan(65_535);
  });

  it('tiled (portable): per busy tile the K and V staging loops too', () => {
    const of = bound('attention a { heads: 1; head_dim: 64; causal: true }', 'portable');
    // TQ 64, TK 16, DW = DVW = 16: per tile 1 + (4 + 1) + (4 + 1) + 2, per key 1.
    expect(of(1600)).toBe(100 * 13 + 1600 + 2);
  });

  it('head routing: rows of any query tile share a workgroup, so no band applies', () => {
    const of = bound(
      'attention a { heads: 4; head_dim: 64; mask: window(8); head_routing: top(2) }',
    );
    expect(of(64_000)).toBeGreaterThan(64_000);
  });

  it('head routing select and scatter take fewer rows per invocation when many heads are kept', () => {
    expect(routeChunk(8, 2, 64)).toBe(64);
    // 64 heads, top(32): a row of select runs 32 rounds over 64 heads (2,276 iterations).
    expect(routeChunk(64, 32, 16)).toBe(16);
    // The largest spec still fits one row per invocation.
    expect(routeChunk(128, 128, 256)).toBe(1);
    const plan = compile('attention a { heads: 64; head_dim: 16; head_routing: top(32) }', {
      target: 'llvmpipe',
    }).modules[0]!.plan;
    const select = plan.kernels.find((k) => k.name === 'head_routing.select')!;
    expect(select.wgsl).toContain('const CHUNK: u32 = 16u;');
    expect(evalSize(select.loopIterations!, { batch: 1, seqQ: 1, seqK: 1 })).toBeLessThanOrEqual(
      65_535,
    );
  });
});

describe('the bound of the routed softmax kernel (one query row per invocation)', () => {
  const routedBound = (text: string) => bound(text);

  it('topk(2, block: 16): per candidate block a step and the sorted insertion; 48 keys walked', () => {
    const of = routedBound('attention a { heads: 1; head_dim: 16; mask: topk(2, block: 16) }');
    // Row 4; init 3; 101 candidates x (1 + 2 x 3); the 3 blocks' loop 2 x 4 and 48 keys.
    expect(of(1600)).toBe(4 + 3 + 101 * 7 + 8 + 48);
  });

  it('topk(100) finds a threshold: 34 passes over the candidate blocks, then every key', () => {
    const of = routedBound('attention a { heads: 1; head_dim: 16; mask: topk(100, block: 16) }');
    // Row 4; 34 x 101 + 33; 101 blocks x 2 and 1600 keys.
    expect(of(1600)).toBe(4 + 34 * 101 + 33 + 101 * 2 + 1600);
  });

  it('lsh: the bucket of the row (2 projection columns), then its sorted key list', () => {
    const of = routedBound(
      'attention a { heads: 1; head_dim: 16; mask: lsh(buckets: 4, seed: 1) }',
    );
    expect(of(1000)).toBe(4 + 3 + 1 + 1000);
  });

  it('stride | random | topk: the range, the drawn blocks, and per key the table scans', () => {
    const of = routedBound(
      'attention a { heads: 1; head_dim: 16; mask: stride(4) | random(2, block: 16) | topk(1, block: 16) }',
    );
    // Per key 1 + 2 x 3 (randomHas in `allowed` and in `seen`).
    expect(of(2000) - of(1000)).toBe(1000 * 7 + (Math.ceil(2000 / 16) - Math.ceil(1000 / 16)) * 5);
  });

  it('a window term walks its band, not every key', () => {
    const of = routedBound(
      'attention a { heads: 1; head_dim: 16; mask: window(8) | topk(1, block: 16) }',
    );
    // Only the candidate blocks of topk grow with seqK.
    expect(of(2000) - of(1000)).toBe((Math.ceil(2000 / 16) - Math.ceil(1000 / 16)) * 5);
  });
});

describe('the bounds of the linear scan and the linformer kernels', () => {
  const planOf = (text: string) => {
    const result = compile(text, { target: 'llvmpipe' });
    expect(result.diagnostics).toEqual([]);
    return result.modules[0]!.plan;
  };
  const at = (seqK: number) => ({ batch: 1, seqQ: 1, seqK });

  it('causal linear: the scan walks one slot per chunk of keys, refused past 65,534 slots', () => {
    const plan = planOf('attention a { heads: 1; head_dim: 16; causal: true; kernel: elu1 }');
    const scan = plan.kernels.find((k) => k.name.endsWith('linear_scan'))!;
    const chunk = Number(
      /const C: u32 = (\d+)u;/.exec(
        plan.kernels.find((k) => k.name.endsWith('linear_states'))!.wgsl,
      )?.[1] ?? NaN,
    );
    expect(chunk).toBeGreaterThan(0);
    const slots = LLVMPIPE_LOOP_BUDGET - 1;
    expect(evalSize(scan.loopIterations!, at(slots * chunk))).toBe(LLVMPIPE_LOOP_BUDGET);
    expect(() => checkLoopBudget(plan, at(slots * chunk), LLVMPIPE_LOOP_BUDGET)).not.toThrow();
    expect(() => checkLoopBudget(plan, at(slots * chunk + 1), LLVMPIPE_LOOP_BUDGET)).toThrow(
      new RegExp(
        `kernel '\\S+linear_scan' would run up to 65536 loop iterations .*at most seqK = ${slots * chunk} fits`,
      ),
    );
  });

  it('linformer: the projection walks one chunk of keys, the sum one step per chunk', () => {
    const plan = planOf(
      'attention a { heads: 1; head_dim: 256; max_seq: 4096; lowrank: linformer(8) }',
    );
    const project = plan.kernels.find((k) => k.name.endsWith('linformer-project'))!;
    const reduce = plan.kernels.find((k) => k.name.endsWith('linformer-reduce'))!;
    // head_dim 256: the per-key row loops are two loops of 32 vectors each, unrolled.
    expect(project.wgsl).toContain('for (var d = 32u; d < DW; d++)');
    const chunk = Number(/const CHUNK: u32 = (\d+)u;/.exec(project.wgsl)?.[1] ?? NaN);
    expect(chunk).toBeGreaterThan(0);
    // A chunk of keys and the exit; the accumulators' init and store (64 vectors, 65 each).
    expect(project.loopIterations).toBe(chunk + 1 + 4 * 65);
    expect(evalSize(reduce.loopIterations!, at(4096))).toBe(Math.ceil(4096 / chunk) + 1);
  });

  it('linear states: a slot grows with seqK without causal, one chunk of keys with it', () => {
    const statesOf = (text: string) =>
      planOf(text).kernels.find((k) => k.name.endsWith('linear_states'))!.loopIterations!;
    const open = statesOf('attention a { heads: 1; head_dim: 16; kernel: elu1 }');
    const causal = statesOf('attention a { heads: 1; head_dim: 16; causal: true; kernel: elu1 }');
    expect(evalSize(open, at(1_000_000))).toBeGreaterThan(LLVMPIPE_LOOP_BUDGET);
    expect(evalSize(open, at(100_000))).toBeLessThan(LLVMPIPE_LOOP_BUDGET);
    expect(evalSize(causal, at(1_000_000))).toBe(evalSize(causal, at(1_000)));
  });

  it('low-rank attend: linformer walks its r rows, nystrom landmark values walk every key', () => {
    const linformer = planOf(
      'attention a { heads: 1; head_dim: 256; max_seq: 8192; lowrank: linformer(4096) }',
    );
    const attend = linformer.kernels.find((k) => k.name.endsWith('attend-small'))!;
    // head_dim 256: the per-key loops are loops of 32 vectors, unrolled; per row 3 x 65 + 1.
    expect(attend.wgsl).toContain('for (var d = 32u; d < DW; d++) { s += ');
    expect(attend.wgsl).toContain('      for (var d = 32u; d < DVW; d++) { acc[d] *= c; }');
    expect(evalSize(attend.loopIterations!, at(8192))).toBe(4096 + 3 * 65 + 1);
    const nystrom = planOf('attention a { heads: 1; head_dim: 16; lowrank: nystrom(8, iters: 2) }');
    const values = nystrom.kernels.find((k) => k.name.endsWith('nystrom-landmark-values'))!;
    expect(evalSize(values.loopIterations!, at(1000))).toBe(1000 + 1);
    expect(() => checkLoopBudget(nystrom, at(65_534), LLVMPIPE_LOOP_BUDGET)).not.toThrow();
    expect(() => checkLoopBudget(nystrom, at(65_535), LLVMPIPE_LOOP_BUDGET)).toThrow(
      /nystrom-landmark-values' would run up to 65536 loop iterations/,
    );
  });
});
