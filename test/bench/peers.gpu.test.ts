// The bench's peers on llvmpipe: each peer case computes the same attention as the CPU
// reference on the bench's inputs, submits all its work (the harness's onSubmittedWorkDone
// then covers it) and leaves no validation error on the shared device. ORT's attention
// cases need Mesa to compile ORT's FlashAttention shader, about 95 s of CPU on a machine
// whose shader cache lacks it, so they run only with ATTNC_TEST_ORT_ATTENTION=1 (the bench
// itself checks every peer before timing it, on every run).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeCasesInterleaved, type CaseFactory } from '../../bench/harness.js';
import { acquirePeerDevice, loadPeers, type Peers } from '../../bench/peers/peers.js';
import type { AcquiredDevice } from '../../src/runtime/device.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const availability = await adapterAvailability('llvmpipe');
const withOrtAttention = process.env['ATTNC_TEST_ORT_ATTENTION'] === '1';

describe.skipIf(!availability.run)('bench peers on llvmpipe', () => {
  let acquired: AcquiredDevice;
  let peers: Peers;
  beforeAll(async () => {
    acquired = await acquirePeerDevice('llvmpipe');
    peers = await loadPeers(acquired.device);
  }, 300_000);
  afterAll(() => {
    peers?.close();
    acquired?.destroy();
  });

  const factory = (name: string): CaseFactory => {
    const found = peers.factories.find((f) => f.name === name);
    if (!found) throw new Error(`no peer ${name}`);
    return found;
  };

  /** Creates the case (which checks it once), times two reps, and checks the last output. */
  async function runPeer(name: string, n: number): Promise<void> {
    const { device } = acquired;
    device.pushErrorScope('validation');
    const benchCase = await factory(name).create(device, { n, d: 64 });
    try {
      const [result] = await timeCasesInterleaved(device, [benchCase], {
        warmup: 0,
        reps: 2,
        useTimestamps: false,
      });
      expect(result!.check!.maxAbsError).toBeLessThan(1e-4);
      expect(result!.check!.checked).toBe(`rows 0, ${n >> 1}, ${n - 1}`);
    } finally {
      benchCase.destroy();
    }
    expect(await device.popErrorScope()).toBeNull();
  }

  it('has every peer installed (they are devDependencies)', () => {
    expect(peers.skipped).toEqual([]);
    expect(peers.factories.map((f) => f.name)).toEqual([
      'tfjs-dense',
      'tfjs-causal',
      'ort-dense',
      'ort-causal',
    ]);
  });

  it('tfjs dense attention equals the reference at N = 96', () => runPeer('tfjs-dense', 96));
  it('tfjs causal attention equals the reference at N = 96', () => runPeer('tfjs-causal', 96));

  describe.runIf(withOrtAttention)('onnxruntime-web attention ops', () => {
    it(
      'MultiHeadAttention equals the reference at N = 96',
      () => runPeer('ort-dense', 96),
      300_000,
    );
    it(
      'GroupQueryAttention (causal) equals the reference at N = 96',
      () => runPeer('ort-causal', 96),
      300_000,
    );
  });
});
