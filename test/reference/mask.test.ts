import { describe, expect, it } from 'vitest';
import { gaussianMatrix, randomBlocks } from '../../src/random/index.js';
import {
  allowedPositional,
  lshBucket,
  maskGrid,
  type PositionalMask,
} from '../../src/reference/index.js';
import type { MaskNode } from '../../src/check/checked.js';
import { group, m, picture } from './build.js';

const grid = (mask: MaskNode, n: number, causal = false, nq = n): string[] =>
  picture(maskGrid(group({ heads: 1, mask, causal }), nq, n));

describe('positional primitives (N = 6)', () => {
  const cases: [string, MaskNode, string[]][] = [
    ['full', m.full(), ['######', '######', '######', '######', '######', '######']],
    ['causal', m.causal(), ['#.....', '##....', '###...', '####..', '#####.', '######']],
    ['window(1)', m.window(1), ['##....', '###...', '.###..', '..###.', '...###', '....##']],
    [
      'window(left: 2, right: 0)',
      m.window(2, 0),
      ['#.....', '##....', '###...', '.###..', '..###.', '...###'],
    ],
    [
      'window(left: 0, right: 1)',
      m.window(0, 1),
      ['##....', '.##...', '..##..', '...##.', '....##', '.....#'],
    ],
    [
      'dilated(1, 2)',
      m.dilated(1, 2),
      ['#.#...', '.#.#..', '#.#.#.', '.#.#.#', '..#.#.', '...#.#'],
    ],
    ['stride(3)', m.stride(3), ['#..#..', '.#..#.', '..#..#', '#..#..', '.#..#.', '..#..#']],
    [
      'global(0, 4) as first: 1 + [4]',
      m.global(1, [4]),
      ['######', '#...#.', '#...#.', '#...#.', '######', '#...#.'],
    ],
    ['sink(2)', m.sink(2), ['##....', '##....', '##....', '##....', '##....', '##....']],
    ['blocks(2)', m.blocks(2), ['##....', '##....', '..##..', '..##..', '....##', '....##']],
  ];
  for (const [name, mask, expected] of cases) {
    it(name, () => expect(grid(mask, 6)).toEqual(expected));
  }

  it('agrees with allowedPositional cell by cell', () => {
    for (const [, mask] of cases) {
      const cells = maskGrid(group({ heads: 1, mask }), 6, 6);
      cells.forEach((row, p) =>
        row.forEach((a, j) => expect(allowedPositional(mask as PositionalMask, p, j, 6)).toBe(a)),
      );
    }
  });

  it('random(1, block: 2, seed: 7) attends to the drawn blocks', () => {
    const cells = maskGrid(group({ heads: 1, mask: m.random(1, 2, 7) }), 6, 6);
    cells.forEach((row, p) => {
      const drawn = randomBlocks(7, Math.floor(p / 2), 1, 3);
      expect(drawn.length).toBe(1);
      expect(row).toEqual(Array.from({ length: 6 }, (_, j) => drawn.includes(Math.floor(j / 2))));
    });
  });

  it('random with r >= key blocks is full', () => {
    expect(grid(m.random(5, 2, 1), 6)).toEqual(grid(m.full(), 6));
  });
});

describe('composition (section 5)', () => {
  it('intersection', () => {
    expect(grid(m.and(m.window(2), m.stride(2)), 5)).toEqual([
      '#.#..',
      '.#.#.',
      '#.#.#',
      '.#.#.',
      '..#.#',
    ]);
  });

  it('causal: true intersects the whole union', () => {
    expect(grid(m.or(m.window(1), m.sink(1)), 5, true)).toEqual([
      '#....',
      '##...',
      '###..',
      '#.##.',
      '#..##',
    ]);
  });

  it('& binds as written: union of an intersection', () => {
    expect(grid(m.or(m.and(m.causal(), m.window(1)), m.global(0, [4])), 5)).toEqual([
      '#...#',
      '##..#',
      '.##.#',
      '..###',
      '#####',
    ]);
  });
});

describe('bottom-right alignment', () => {
  it('a decode step (Nq = 1) under causal sees the whole cache', () => {
    expect(grid(m.full(), 5, true, 1)).toEqual(['#####']);
  });

  it('Nq = 1 sits at the last position', () => {
    expect(grid(m.window(1), 5, false, 1)).toEqual(['...##']);
  });

  it('Nq = 2 of Nk = 5 are the last two rows', () => {
    expect(grid(m.causal(), 5, false, 2)).toEqual(['####.', '#####']);
    expect(grid(m.blocks(2), 5, false, 2)).toEqual(grid(m.blocks(2), 5).slice(3));
  });
});

describe('segment', () => {
  it('compares seg_q of the row with seg_k of the key', () => {
    const cells = maskGrid(group({ heads: 1, mask: m.segment() }), 3, 5, {
      seg_q: Uint32Array.from([0, 1, 2]),
      seg_k: Uint32Array.from([0, 0, 1, 1, 2]),
    });
    expect(picture(cells)).toEqual(['##...', '..##.', '....#']);
  });

  it('names the missing input', () => {
    expect(() => maskGrid(group({ heads: 1, mask: m.segment() }), 3, 3)).toThrow(/needs 'seg_q'/);
  });
});

describe('topk (MoBA)', () => {
  // Block means (block 2): [1,0], [0,1], [1,0], [-1,0]; every query is [1,0].
  const k = Float32Array.from([1, 0, 1, 0, 0, 1, 0, 1, 2, 0, 0, 0, -1, 0, -1, 0]);
  const q = Float32Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? 1 : 0));
  const topk = (mask: MaskNode, causal: boolean): string[] =>
    picture(maskGrid(group({ heads: 1, mask, causal }), 8, 8, { headDim: 2, q, k }));

  it('keeps the own block and the best other blocks, ties to the lower index', () => {
    expect(topk(m.topk(1, 2), false)).toEqual([
      '##..##..',
      '##..##..',
      '####....',
      '####....',
      '##..##..',
      '##..##..',
      '##....##',
      '##....##',
    ]);
  });

  it('k = 2 takes the two best candidates', () => {
    expect(topk(m.topk(2, 2), false)[0]).toBe('######..');
  });

  it('under causal chooses only among earlier blocks', () => {
    const expected = [
      '#.......',
      '##......',
      '###.....',
      '####....',
      '##..#...',
      '##..##..',
      '##....#.',
      '##....##',
    ];
    expect(topk(m.topk(1, 2), true)).toEqual(expected);
    expect(topk(m.and(m.causal(), m.topk(1, 2)), false)).toEqual(expected);
  });

  it('inside a union keeps its own semantics', () => {
    expect(topk(m.or(m.window(0), m.topk(1, 2)), false)).toEqual([
      '##..##..',
      '##..##..',
      '####....',
      '####....',
      '##..##..',
      '##..##..',
      '##....##',
      '##....##',
    ]);
    expect(topk(m.or(m.window(0, 1), m.topk(1, 2)), false)[6]).toBe('##....##');
    expect(topk(m.or(m.sink(1), m.topk(1, 4)), false)).toEqual(topk(m.full(), false));
  });

  it('needs q and k', () => {
    expect(() => maskGrid(group({ heads: 1, mask: m.topk(1, 2) }), 4, 4)).toThrow(/needs 'k'/);
  });
});

describe('cluster (Routing Transformer)', () => {
  it('attends within the argmax centroid, ties to the lower one', () => {
    const cells = maskGrid(group({ heads: 1, mask: m.cluster(2) }), 3, 4, {
      headDim: 2,
      centroids: Float32Array.from([1, 0, 0, 1]),
      q: Float32Array.from([0, 3, 2, 0, 0, 0]),
      k: Float32Array.from([1, 0, 0, 1, 1, 1, -1, -2]),
    });
    expect(picture(cells)).toEqual(['.#..', '#.##', '#.##']);
  });
});

describe('lsh (Reformer)', () => {
  const D = 4;
  const buckets = 6;
  const bucketOf = (x: number[]): number => {
    const r = gaussianMatrix(3, D, buckets / 2);
    const xr = [0, 1, 2].map((c) => x.reduce((s, xd, d) => s + xd * (r[d * 3 + c] as number), 0));
    const all = [...xr, ...xr.map((v) => -v)];
    return all.indexOf(Math.max(...all));
  };

  it('hashes with argmax([xR, -xR]) and R from the generator', () => {
    const vectors = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
      [1, -1, 0.5, 2],
      [-0.3, 0.2, 0.9, -1],
    ];
    const r = gaussianMatrix(3, D, buckets / 2);
    for (const x of vectors) {
      expect(lshBucket(x, r, buckets)).toBe(bucketOf(x));
      expect(
        lshBucket(
          x.map((v) => -v),
          r,
          buckets,
        ),
      ).toBe((bucketOf(x) + 3) % 6);
      expect(
        lshBucket(
          x.map((v) => 2.5 * v),
          r,
          buckets,
        ),
      ).toBe(bucketOf(x));
    }
  });

  it('attends where the buckets agree', () => {
    const q = Float32Array.from([1, -1, 0.5, 2, -1, 1, -0.5, -2]);
    const k = Float32Array.from([1, -1, 0.5, 2, -1, 1, -0.5, -2, 2, -2, 1, 4]);
    const cells = maskGrid(group({ heads: 1, mask: m.lsh(buckets, 3) }), 2, 3, {
      headDim: D,
      q,
      k,
    });
    expect(picture(cells)).toEqual(['#.#', '.#.']);
  });
});
