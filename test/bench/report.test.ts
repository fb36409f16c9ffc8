import { describe, expect, it } from 'vitest';
import type { CaseResult } from '../../bench/harness.js';
import { formatGrowth, formatRatios } from '../../bench/report.js';

function result(name: string, n: number, medianMs: number): CaseResult {
  return {
    name,
    n,
    d: 64,
    heads: 1,
    density: 1,
    timer: 'wall',
    medianMs,
    minMs: medianMs,
    wallMedianMs: medianMs,
    gflops: 1000 / medianMs,
  };
}

describe('bench report', () => {
  it('gives ratios against the first case at each N', () => {
    const text = formatRatios([result('base', 64, 10), result('fast', 64, 4)]);
    expect(text).toBe(
      'ratios at N=64, against base:\n  fast: 2.50x the speed (time), 2.50x the GFLOP/s',
    );
  });

  it('gives the growth of a case measured at several N, from the smallest', () => {
    const text = formatGrowth([
      result('win', 65536, 1700),
      result('other', 16384, 1),
      result('win', 16384, 400),
      result('win', 32768, 820),
    ]);
    expect(text).toBe('growth of win from N=16384: N=32768: 2.05x (N 2x), N=65536: 4.25x (N 4x)');
  });
});
