// The decode bench on llvmpipe at small sizes: the cases with a KV cache (dense, window | sink,
// elu1-state) run their steps through it (append + attend, and the attend alone), the others
// through runOnDevice; each step's output matches the CPU reference, and a context beyond the device's
// buffers (or too long to fill a cache) is a skip.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECODE_CASES, runDecodeBench } from '../../bench/decode.js';
import { NO_PROGRESS } from '../../src/cli/progress.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const availability = await adapterAvailability('llvmpipe');

describe.skipIf(!availability.run)('decode bench on llvmpipe', () => {
  let acquired: AcquiredDevice;
  beforeAll(async () => {
    acquired = await acquireDevice({ adapter: 'llvmpipe' });
  });
  afterAll(() => acquired?.destroy());

  it('times every case at each context and the prefill, checked against the reference; too large is a skip', async () => {
    const lines: string[] = [];
    const huge = 1 << 27; // k alone: 2^27 keys x 2 kv heads x 64 x 4 B = 64 GiB
    const report = await runDecodeBench(acquired.device, acquired.profile, DECODE_CASES, {
      contexts: [100, 300, huge],
      prefill: 64,
      warmup: 0,
      reps: 1,
      check: true,
      progress: NO_PROGRESS,
      print: (line) => lines.push(line),
    });
    const cached = new Set(['dense-causal', 'window1024-sink4', 'elu1-state', 'topk4-block64']);
    expect(
      report.measurements.map(
        (m) => `${m.case} ${m.kind}${m.cached ? ' cached' : ''} ${m.seqQ}x${m.seqK}`,
      ),
    ).toEqual(
      DECODE_CASES.flatMap((c) =>
        cached.has(c.name)
          ? [
              `${c.name} prefill 64x64`,
              `${c.name} decode cached 1x100`,
              `${c.name} attend cached 1x100`,
              `${c.name} decode cached 1x300`,
              `${c.name} attend cached 1x300`,
            ]
          : [`${c.name} prefill 64x64`, `${c.name} decode 1x100`, `${c.name} decode 1x300`],
      ),
    );
    for (const m of report.measurements) {
      expect(m.medianMs).toBeGreaterThan(0);
      if (m.kind === 'decode') expect(m.relativeError).toBeLessThan(1e-4);
    }
    expect(lines.filter((l) => l.startsWith('note: '))).toEqual([
      'note: elu1-causal runs without a KV cache (over the whole key range, for comparison with the cached case)',
    ]);
    expect(report.skipped.map((s) => [s.case, s.seqK])).toEqual(
      DECODE_CASES.map((c) => [c.name, huge]),
    );
    expect(report.skipped[0]!.reason).toMatch(/maxBufferSize|maxStorageBufferBindingSize/);
    expect(report.skipped[1]!.reason).toMatch(/filling a KV cache of 134217728 positions/);
    expect(lines.filter((l) => l.startsWith('skipped: '))).toHaveLength(DECODE_CASES.length);
  }, 600_000);
});
