// explain's mask summary is computed from the block plan (closed forms per tile, elements
// only in partial tiles); it must agree exactly with evaluating `maskAllows` on every element.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { summarizeMask, type SegmentIds } from '../../src/explain/mask-summary.js';
import type { Group, Mask } from '../../src/ir/ir.js';
import { maskLeaves } from '../../src/ir/ir.js';
import { maskAllows } from '../../src/ir/mask.js';

const examplesDir = new URL('../../examples/', import.meta.url);
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.attn'))
  .sort();

function groupsOf(file: string, n: number) {
  const result = compile(readFileSync(new URL(file, examplesDir), 'utf8'), { file });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.modules.flatMap((module) => {
    const hasSegment = module.ir.groups.some(
      (g) =>
        g.mechanism.kind !== 'linear' &&
        maskLeaves(g.mechanism.mask).some((l) => l.kind === 'segment'),
    );
    let segments: SegmentIds | undefined;
    if (hasSegment) {
      const inputs = randomInputs(module, { batch: 1, seqQ: n, seqK: n });
      segments = { segQ: inputs.seg_q!, segK: inputs.seg_k! };
    }
    return module.ir.groups.map((group) => ({ group, segments }));
  });
}

const isRouted = (mask: Mask) => maskLeaves(mask).some((leaf) => leaf.kind === 'routed');

function bruteForce(group: Group, n: number, segments?: SegmentIds): boolean[][] {
  if (group.mechanism.kind === 'linear') throw new Error('no mask');
  const mask = group.mechanism.mask;
  return Array.from({ length: n }, (_, p) =>
    Array.from({ length: n }, (_, j) => maskAllows(mask, { i: p, p, j, seqK: n, ...segments })),
  );
}

describe('explain mask summary', () => {
  // 150 is not a multiple of any tile, so edge tiles are ragged.
  const n = 150;
  for (const file of examples) {
    it(`${file}: density, tiles and picture agree with maskAllows at N = ${n}`, () => {
      for (const { group, segments } of groupsOf(file, n)) {
        const summary = summarizeMask(group, n, n, segments);
        if (group.mechanism.kind === 'linear') {
          expect(summary).toBeNull();
          continue;
        }
        expect(summary).not.toBeNull();
        const { tiles, allowed, picture } = summary!;
        const tileCount = Math.ceil(n / summary!.queryTile) * Math.ceil(n / summary!.keyTile);
        expect(tiles.empty + tiles.partial + tiles.full).toBe(tileCount);
        expect(picture!.size).toBe(n);
        if (isRouted(group.mechanism.mask)) {
          expect(allowed.certain).toBeLessThanOrEqual(allowed.possible);
          expect(summary!.routing.length).toBeGreaterThan(0);
          continue;
        }
        const truth = bruteForce(group, n, segments);
        const count = truth.flat().filter(Boolean).length;
        expect(allowed).toEqual({ certain: count, possible: count });
        const cells = picture!.rows.map((row) => row.map((c) => c === 'full'));
        expect(cells).toEqual(truth);
        expect(picture!.rows.flat().every((c) => c === 'full' || c === 'empty')).toBe(true);
      }
    });
  }

  it('coarse picture cells say full, partial or empty exactly', () => {
    const { group, segments } = groupsOf('bigbird.attn', 200)[0]!;
    const summary = summarizeMask(group, 200, 7, segments)!;
    const truth = bruteForce(group, 200, segments);
    const edge = (r: number) => Math.floor((r * 200) / 7);
    summary.picture!.rows.forEach((row, r) =>
      row.forEach((state, c) => {
        const cell = truth
          .slice(edge(r), edge(r + 1))
          .flatMap((line) => line.slice(edge(c), edge(c + 1)));
        const expected = cell.every(Boolean) ? 'full' : cell.some(Boolean) ? 'partial' : 'empty';
        expect(state, `cell ${r},${c}`).toBe(expected);
      }),
    );
  });

  it('brackets routed masks: topk keeps its own block for sure, the earlier blocks may be chosen', () => {
    const { group } = groupsOf('moba.attn', 2048)[0]!;
    // causal & topk(3, block: 512, causal) at N = 2048: four blocks of 512.
    const summary = summarizeMask(group, 2048, 4)!;
    const ownBlocks = 4 * ((512 * 513) / 2);
    expect(summary.allowed.certain).toBe(ownBlocks);
    expect(summary.allowed.possible).toBe((2048 * 2049) / 2);
    expect(summary.routing[0]!.maxKeysPerQuery).toBe(2048);
    expect(summary.picture!.rows.map((row) => row.join(' '))).toEqual([
      'partial empty empty empty',
      'depends partial empty empty',
      'depends depends partial empty',
      'depends depends depends partial',
    ]);
  });

  it('says cluster and lsh masks depend on q and k everywhere', () => {
    const { group } = groupsOf('reformer.attn', 256)[0]!;
    const summary = summarizeMask(group, 256, 2)!;
    expect(summary.allowed).toEqual({ certain: 0, possible: 256 * 256 });
    expect(summary.routing[0]!.balancedKeysPerQuery).toBe(8);
    expect(summary.picture!.rows.flat()).toEqual(['depends', 'depends', 'depends', 'depends']);
  });
});
