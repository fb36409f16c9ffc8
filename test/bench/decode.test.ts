// The decode bench's report: rows, the per-(row, key) ratio against the prefill of the same
// case and the growth from the smallest context to the largest.

import { describe, expect, it } from 'vitest';
import {
  contextLabel,
  DECODE_CASES,
  decodeSpecText,
  formatDecodeRow,
  formatDecodeSummary,
  type DecodeMeasurement,
} from '../../bench/decode.js';
import { compile } from '../../src/api/compile.js';

function step(kind: 'decode' | 'prefill', seqQ: number, seqK: number, ms: number) {
  const m: DecodeMeasurement = {
    case: 'win',
    kind,
    seqQ,
    seqK,
    medianMs: ms,
    minMs: ms,
    nsPerRowKey: (ms * 1e6) / (seqQ * seqK),
  };
  return m;
}

describe('decode bench report', () => {
  it('compares each step per (row, key) with the prefill and gives T(largest) / T(smallest)', () => {
    const text = formatDecodeSummary({
      measurements: [
        step('prefill', 2048, 2048, 4194.304), // 1000 ns per (row, key)
        step('decode', 1, 1024, 10.24), // 10,000 ns
        step('decode', 1, 65536, 13.1072), // 200 ns
      ],
      skipped: [],
    });
    expect(text).toBe(
      'win: per (row, key) against prefill 2048x2048: 1K 10.0x, 64K 0.2x; T(64K) / T(1K) = 1.28',
    );
  });

  it('compares per (row, attended key) where the prefill reads only part of its keys', () => {
    const text = formatDecodeSummary({
      measurements: [
        { ...step('prefill', 2048, 2048, 4194.304), density: 0.5 }, // 2000 ns per attended pair
        step('decode', 1, 4096, 12.288), // 3000 ns
      ],
      skipped: [],
    });
    expect(text).toBe(
      'win: per (row, key) against prefill 2048x2048: 4K 3.0x; per (row, attended key): 4K 1.5x',
    );
  });

  it('prints a row per step, with "-" where nothing was checked', () => {
    expect(formatDecodeRow({ ...step('decode', 1, 4096, 2), relativeError: 1.5e-6 })).toBe(
      'win                decode Nk=4096         2.00       2.00         488.3    1.5e-6',
    );
    expect(formatDecodeRow(step('prefill', 64, 64, 1))).toMatch(/prefill 64x64 .* -$/);
  });

  it('labels contexts in K where they are whole', () => {
    expect([1024, 65536, 1000].map(contextLabel)).toEqual(['1K', '64K', '1000']);
  });

  it('has specs that compile: 8 heads, 2 kv heads, D = 64, causal', () => {
    for (const c of DECODE_CASES) {
      const result = compile(decodeSpecText(c));
      expect(result.diagnostics).toEqual([]);
      const a = result.modules[0]!.attention;
      expect([a.heads, a.kvHeads, a.headDim, a.groups[0]!.causal]).toEqual([8, 2, 64, true]);
    }
  });
});
