import { describe, expect, it } from 'vitest';
import type { CaseResult } from '../../bench/harness.js';
import { formatPeerRatios } from '../../bench/peers/peer-report.js';

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

describe('attnc against the faster peer', () => {
  it('takes the faster peer of each kind and N, and says whether the target is met', () => {
    const text = formatPeerRatios([
      result('attnc-dense', 2048, 1000),
      result('tfjs-dense', 2048, 1200),
      result('ort-dense', 2048, 1600),
      result('attnc-causal', 2048, 900),
      result('attnc-causal-tiled', 2048, 400),
      result('tfjs-causal', 2048, 800),
      result('ort-causal', 2048, 700),
      result('attnc-dense', 4096, 4000),
      result('tfjs-dense', 4096, 6400),
    ]);
    expect(text).toBe(
      [
        'attnc against the faster peer:',
        'dense N=2048: tfjs-dense 1200 ms, ort-dense 1600 ms; faster peer tfjs-dense',
        "  attnc-dense 1000 ms: 1.20x the faster peer's speed (target met; target 1x, goal 1.5x)",
        'causal N=2048: tfjs-causal 800 ms, ort-causal 700 ms; faster peer ort-causal',
        "  attnc-causal 900 ms: 0.78x the faster peer's speed (behind; target 1x, goal 1.5x)",
        "  attnc-causal-tiled 400 ms: 1.75x the faster peer's speed (goal met; target 1x, goal 1.5x)",
        'dense N=4096: tfjs-dense 6400 ms; faster peer tfjs-dense',
        "  attnc-dense 4000 ms: 1.60x the faster peer's speed (goal met; target 1x, goal 1.5x)",
      ].join('\n'),
    );
  });

  it('says nothing without both a peer and attnc at the same N', () => {
    expect(formatPeerRatios([result('attnc-dense', 64, 1), result('tfjs-dense', 128, 1)])).toBe('');
    expect(formatPeerRatios([result('attnc-window256', 64, 1), result('ort-dense', 64, 1)])).toBe(
      '',
    );
  });
});
