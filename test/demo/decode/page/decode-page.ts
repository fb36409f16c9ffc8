// The page side of decode-browser.gpu.test.ts, bundled by esbuild: the demo model in a browser
// page, with tfjs-webgpu on the page's own WebGPU adapter and attnc on tfjs's device, driven
// by the same decode loop as `npm run demo:decode`. Each greedy step's logits are read back
// (the DecodeModel below picks the argmax on the host from them) so the test can compare them
// with the CPU model.

import { createRuntime } from '../../../../src/api/runtime.js';
import type { DecodeModelConfig } from '../../../../demo/decode/config.js';
import { runDecodeLoop, type DecodeModel } from '../../../../demo/decode/decode-loop.js';
import { GpuDecoder } from '../../../../demo/decode/tfjs-model.js';
import { tfjsDevice } from '../../../../demo/decode/tfjs-types.js';
import { makeWeights } from '../../../../demo/decode/weights.js';
import { tf } from './tfjs-bundle.js';

export interface DecodePageRequest {
  readonly config: DecodeModelConfig;
  readonly seed: number;
  readonly prompt: number[];
  readonly context: number;
  readonly tokens: number;
  readonly chunk: number;
}

export interface DecodePageResult {
  readonly generated: number[];
  /** The logits of every greedy step, in order. */
  readonly logits: number[][];
  readonly backend: string;
  /** What each layer's cache keeps: a ring for the windowed layers. */
  readonly caches: readonly { readonly kind: string; readonly rows: number }[];
}

async function decode(request: DecodePageRequest): Promise<DecodePageResult> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its webgpu backend');
  await tf.ready();
  const runtime = await createRuntime({ device: tfjsDevice(tf) });
  const model = await GpuDecoder.create(
    tf,
    runtime,
    request.config,
    makeWeights(request.config, request.seed),
    { capacity: request.context + request.tokens, maxChunk: request.chunk },
  );
  const logits: number[][] = [];
  const recording: DecodeModel = {
    get length() {
      return model.length;
    },
    prefill: (tokens) => model.prefill(tokens),
    async stepGreedy(tokens) {
      const tensor = await model.step(tokens);
      const values = Array.from(await tensor.data());
      tensor.dispose();
      logits.push(values);
      return values.indexOf(Math.max(...values));
    },
  };
  try {
    const run = await runDecodeLoop(recording, {
      prompt: Uint8Array.from(request.prompt),
      context: request.context,
      tokens: request.tokens,
      chunk: request.chunk,
      probeSteps: 1,
    });
    return {
      generated: [...run.generated],
      logits,
      backend: `${runtime.kind}`,
      caches: model.caches.map(({ kind, rows }) => ({ kind, rows })),
    };
  } finally {
    model.destroy();
    runtime.destroy();
  }
}

Object.assign(globalThis, { decodePage: { decode } });
