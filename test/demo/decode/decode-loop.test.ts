// The decode loop without a GPU: which steps it takes (prefill chunks, single-token probes at
// each power of two, one step per generated token) with a model that records its calls, and
// that driving the CPU model through it generates what plain greedy decoding does.

import { describe, expect, it } from 'vitest';
import { argMax, CpuDecoder } from '../../../demo/decode/cpu-model.js';
import type { DecodeModelConfig } from '../../../demo/decode/config.js';
import {
  probeContexts,
  runDecodeLoop,
  type DecodeModel,
} from '../../../demo/decode/decode-loop.js';
import { makeWeights } from '../../../demo/decode/weights.js';

class RecordingModel implements DecodeModel {
  length = 0;
  readonly calls: { readonly at: number; readonly tokens: number[]; readonly read: boolean }[] = [];
  async prefill(tokens: readonly number[]): Promise<void> {
    this.calls.push({ at: this.length, tokens: [...tokens], read: false });
    this.length += tokens.length;
  }
  async stepGreedy(tokens: readonly number[]): Promise<number> {
    this.calls.push({ at: this.length, tokens: [...tokens], read: true });
    this.length += tokens.length;
    return (this.length * 7) % 256;
  }
}

const TINY: DecodeModelConfig = {
  vocab: 256,
  dModel: 16,
  layers: 2,
  heads: 2,
  kvHeads: 1,
  headDim: 8,
  mlpHidden: 24,
  window: 3,
  sinks: 1,
  ropeTheta: 10000,
  normEpsilon: 1e-5,
};

describe('the decode loop', () => {
  it('prefills in chunks around single-token probes at each power of two', async () => {
    expect(probeContexts(100)).toEqual([8, 16, 32, 64]);
    const model = new RecordingModel();
    let clock = 0;
    const run = await runDecodeLoop(model, {
      prompt: new TextEncoder().encode('abc'),
      context: 40,
      tokens: 5,
      chunk: 10,
      probeSteps: 2,
      now: () => clock++,
    });
    expect(run.prefilled.length).toBe(40);
    expect(String.fromCharCode(...run.prefilled.slice(0, 7))).toBe('abcabca');
    // Every position fed once, in order.
    let position = 0;
    for (const call of model.calls) {
      expect(call.at).toBe(position);
      expect(call.tokens.length).toBeLessThanOrEqual(10);
      position += call.tokens.length;
    }
    expect(position).toBe(40 + 4);
    // Probes: one token at positions 7, 8 (context 8), 15, 16, 31, 32, each read back.
    const single = model.calls
      .filter((c) => c.read && c.tokens.length === 1 && c.at < 39)
      .map((c) => c.at);
    expect(single).toEqual([7, 8, 15, 16, 31, 32]);
    expect(run.latency.map((p) => [p.context, p.steps, p.phase])).toEqual([
      [8, 2, 'prefill'],
      [16, 2, 'prefill'],
      [32, 2, 'prefill'],
      [41, 4, 'decode'],
    ]);
    // The first token comes from the last prefill step, each later one from feeding the last.
    const decodeCalls = model.calls.filter((c) => c.at >= 40);
    expect(decodeCalls.map((c) => c.tokens[0])).toEqual(run.generated.slice(0, 4));
    expect(run.generated).toEqual([40, 41, 42, 43, 44].map((n) => (n * 7) % 256));
    expect(run.decodeSteps).toBe(4);
  });

  it('generates what greedy decoding of the CPU model gives', async () => {
    const weights = makeWeights(TINY, 3);
    const prompt = new TextEncoder().encode('Hello');
    const run = await runDecodeLoop(new CpuDecoder(TINY, weights), {
      prompt,
      context: 12,
      tokens: 6,
      chunk: 4,
    });
    const plain = new CpuDecoder(TINY, weights);
    let next = argMax(plain.step([...prompt, ...prompt, ...prompt.slice(0, 2)]));
    const expected = [next];
    while (expected.length < 6) {
      next = argMax(plain.step([next]));
      expected.push(next);
    }
    expect(run.generated).toEqual(expected);
  });

  it('rejects sizes that make no run', async () => {
    const model = new RecordingModel();
    const base = { prompt: new Uint8Array([1]), context: 4, tokens: 2, chunk: 2 };
    await expect(runDecodeLoop(model, { ...base, context: 0 })).rejects.toThrow(
      'context must be a positive integer, got 0',
    );
    await expect(runDecodeLoop(model, { ...base, tokens: 1.5 })).rejects.toThrow(
      'tokens must be a positive integer, got 1.5',
    );
    await expect(runDecodeLoop(model, { ...base, prompt: new Uint8Array() })).rejects.toThrow(
      'the prompt is empty',
    );
  });
});
