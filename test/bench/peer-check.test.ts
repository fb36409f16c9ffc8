import { describe, expect, it } from 'vitest';
import type { BenchCase } from '../../bench/harness.js';
import { PeerCheckFailed, verifyBeforeTiming } from '../../bench/peers/peer-check.js';

const device = { queue: { onSubmittedWorkDone: async () => {} } } as unknown as GPUDevice;

function fakeCase(maxAbsError: number, runs: { count: number; destroyed: boolean }): BenchCase {
  return {
    name: 'peer',
    density: 1,
    n: 64,
    d: 64,
    heads: 1,
    async run() {
      runs.count++;
    },
    async check() {
      if (runs.count === 0) throw new Error('checked before a run');
      return { maxAbsError, checked: 'rows 0, 32, 63' };
    },
    destroy() {
      runs.destroyed = true;
    },
  };
}

describe('a peer is checked before it is timed', () => {
  it('runs the case once and accepts a right answer', async () => {
    const runs = { count: 0, destroyed: false };
    await verifyBeforeTiming(device, fakeCase(1e-7, runs));
    expect(runs).toEqual({ count: 1, destroyed: false });
  });

  it('rejects (and destroys) a wrong answer or NaN, naming the case and the error', async () => {
    for (const error of [0.2, NaN]) {
      const runs = { count: 0, destroyed: false };
      const checked = verifyBeforeTiming(device, fakeCase(error, runs));
      await expect(checked).rejects.toBeInstanceOf(PeerCheckFailed);
      await expect(checked).rejects.toThrow(`peer N=64: max |error| ${error}`);
      expect(runs.destroyed).toBe(true);
    }
  });

  it('destroys the case when its run fails, and passes the failure on', async () => {
    const runs = { count: 0, destroyed: false };
    const failing = { ...fakeCase(0, runs), run: () => Promise.reject(new Error('device lost')) };
    await expect(verifyBeforeTiming(device, failing)).rejects.toThrow('device lost');
    expect(runs.destroyed).toBe(true);
  });
});
