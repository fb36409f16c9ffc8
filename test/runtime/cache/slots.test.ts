// The cache's addressing function: which row keeps each position, and the runs an append cuts
// its positions into. Checked against a brute-force model of a ring: after appending
// positions 0..p, every position a query may still read (its look-back and the prefix) sits
// in its own row, never overwritten by a later one.

import { describe, expect, it } from 'vitest';
import { slotLayout, slotOf, slotRuns } from '../../../src/runtime/cache/slots.js';

describe('slotLayout', () => {
  it('makes a ring of look-back + maxChunk + prefix rows, independent of the capacity', () => {
    const ring = { kind: 'ring', lookBack: 1024, prefix: 4 } as const;
    for (const capacity of [65_536, 1_000_000]) {
      expect(slotLayout(ring, capacity, 16)).toEqual({
        kind: 'ring',
        rows: 1044,
        prefix: 4,
        ringSlots: 1040,
        maxChunk: 16,
        limit: 2 ** 31 - 1,
      });
    }
    // window(left: 1024) | sink(4) with one position per append: exactly the plan's formula.
    expect(slotLayout(ring, 65_536, 1).rows).toBe(1029);
  });

  it('keeps a contiguous store of min(capacity, max_seq) rows, and a ring no larger than the capacity', () => {
    expect(slotLayout({ kind: 'contiguous', maxSeq: null }, 4096, 16)).toMatchObject({
      kind: 'contiguous',
      rows: 4096,
      limit: 4096,
    });
    expect(slotLayout({ kind: 'contiguous', maxSeq: 512 }, 4096, 16).rows).toBe(512);
    expect(slotLayout({ kind: 'ring', lookBack: 1024, prefix: 4 }, 300, 16)).toMatchObject({
      kind: 'contiguous',
      rows: 300,
      limit: 300,
    });
  });
});

describe('slotOf and slotRuns', () => {
  const cases = [
    { lookBack: 7, prefix: 3, maxChunk: 4 },
    { lookBack: 0, prefix: 0, maxChunk: 1 },
    { lookBack: -1, prefix: 2, maxChunk: 3 },
    { lookBack: 5, prefix: 0, maxChunk: 5 },
  ];
  for (const c of cases) {
    it(`a ring (look-back ${c.lookBack}, prefix ${c.prefix}, chunks of ${c.maxChunk}) keeps what queries read`, () => {
      const layout = slotLayout({ kind: 'ring', ...c }, 1_000_000, c.maxChunk);
      const rows: (number | undefined)[] = new Array(layout.rows);
      let length = 0;
      for (let step = 0; step < 60; step++) {
        const t = 1 + ((step * 7) % c.maxChunk);
        const runs = slotRuns(layout, length, t);
        // Runs cover the chunk in order, each on consecutive rows inside the store.
        expect(runs.reduce((n, r) => n + r.count, 0)).toBe(t);
        let from = 0;
        for (const r of runs) {
          expect(r.from).toBe(from);
          expect(r.row + r.count).toBeLessThanOrEqual(layout.rows);
          for (let x = 0; x < r.count; x++) {
            expect(slotOf(layout, length + r.from + x)).toBe(r.row + x);
            rows[r.row + x] = length + r.from + x;
          }
          from += r.count;
        }
        length += t;
        // Every query of the chunk finds every key it may read in its row.
        for (let p = length - t; p < length; p++) {
          for (let j = 0; j <= p; j++) {
            if (j >= p - c.lookBack || j < c.prefix) expect(rows[slotOf(layout, j)]).toBe(j);
          }
        }
      }
    });
  }

  it('maps a contiguous store identically, in one run', () => {
    const layout = slotLayout({ kind: 'contiguous', maxSeq: null }, 100, 16);
    expect(slotRuns(layout, 10, 50)).toEqual([{ from: 0, row: 10, count: 50 }]);
    expect(slotOf(layout, 99)).toBe(99);
  });
});
