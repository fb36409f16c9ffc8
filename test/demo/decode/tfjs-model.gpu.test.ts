// The GPU decode loop (tfjs-webgpu projections and MLP, attnc attention through the runtime's
// KV cache) against the plain CPU model, on llvmpipe: at every step the logits agree, for a
// model with windowed layers (their ring caches wrap over 24 positions) and a global one,
// fed a prefill chunk and then one token at a time, and again after `reset()`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuDecoder } from '../../../demo/decode/cpu-model.js';
import type { DecodeModelConfig } from '../../../demo/decode/config.js';
import { openTfjsWithAttnc, type TfjsOnDevice } from '../../../demo/decode/node-tfjs.js';
import { GpuDecoder } from '../../../demo/decode/tfjs-model.js';
import { makeWeights } from '../../../demo/decode/weights.js';
import { adapterAvailability } from '../../runtime/gpu-availability.js';

const availability = await adapterAvailability('llvmpipe');

const SMALL: DecodeModelConfig = {
  vocab: 256,
  dModel: 32,
  layers: 3,
  heads: 4,
  kvHeads: 2,
  headDim: 8,
  mlpHidden: 48,
  window: 5,
  sinks: 2,
  ropeTheta: 10000,
  normEpsilon: 1e-5,
};

/** max |a - b| over max |b|: the project's relative error. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let error = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    error = Math.max(error, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return error / scale;
}

function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

describe.skipIf(!availability.run)('the decode loop on tfjs-webgpu and attnc', () => {
  let gpu: TfjsOnDevice;
  beforeAll(async () => {
    gpu = await openTfjsWithAttnc('llvmpipe');
  }, 120_000);
  afterAll(() => gpu?.close());

  it('matches the CPU model at every step, windowed and global layers', async () => {
    const weights = makeWeights(SMALL, 7);
    const cpu = new CpuDecoder(SMALL, weights);
    const model = await GpuDecoder.create(gpu.tf, gpu.runtime, SMALL, weights, {
      capacity: 32,
      maxChunk: 8,
    });
    // The windowed layers keep a ring that the 24 positions wrap; the global layer keeps all.
    expect(model.caches.map((c) => c.kind)).toEqual(['ring', 'ring', 'contiguous']);
    expect(model.caches[0]!.rows).toBeLessThan(24);
    try {
      for (const round of [0, 1]) {
        // A prefill chunk of 7 prompt bytes, then greedy decoding one token at a time.
        let tokens = [...new TextEncoder().encode('attnc. ')];
        const errors: number[] = [];
        for (let stepIndex = 0; model.length < 24; stepIndex++) {
          const logitsTensor = await model.step(tokens);
          const logits = (await logitsTensor.data()) as Float32Array;
          logitsTensor.dispose();
          const expected = cpu.step(tokens);
          errors.push(relativeError(logits, expected));
          expect(model.length).toBe(cpu.length);
          tokens = [argMax(expected)];
        }
        expect(Math.max(...errors), `round ${round}: ${errors.join(', ')}`).toBeLessThan(1e-4);
        model.reset();
        cpu.reset();
        expect(model.length).toBe(0);
      }
    } finally {
      model.destroy();
    }
  }, 180_000);

  it('rejects tokens, chunks and positions it cannot take, before running anything', async () => {
    const weights = makeWeights(SMALL, 7);
    const model = await GpuDecoder.create(gpu.tf, gpu.runtime, SMALL, weights, {
      capacity: 6,
      maxChunk: 4,
    });
    try {
      await expect(model.step([])).rejects.toThrow('step takes 1 to 4 tokens, got 0');
      await expect(model.step([1, 2, 3, 4, 5])).rejects.toThrow('step takes 1 to 4 tokens, got 5');
      await expect(model.step([1, 256])).rejects.toThrow(
        'token 256 is not in the vocabulary [0, 256)',
      );
      await model.prefill([1, 2, 3, 4]);
      await expect(model.step([1, 2, 3])).rejects.toThrow(
        'step: 3 tokens after 4 exceed the capacity of 6',
      );
      expect(model.length).toBe(4);
    } finally {
      model.destroy();
    }
    await expect(
      GpuDecoder.create(gpu.tf, gpu.runtime, { ...SMALL, heads: 3 }, weights, {
        capacity: 6,
        maxChunk: 4,
      }),
    ).rejects.toThrow('model config: heads (3) must be a multiple of kvHeads (2)');
    await expect(
      GpuDecoder.create(gpu.tf, gpu.runtime, SMALL, weights, { capacity: 0, maxChunk: 4 }),
    ).rejects.toThrow('GpuDecoder: capacity must be a positive integer, got 0');
  });
});
