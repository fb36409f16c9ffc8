// Per-token latency against context length, measured fairly on a busy machine: one model per
// context (64 to 2048 positions, prefilled), then single greedy steps of all of them in turn,
// so every context sees the same load. Prints the median and the minimum step per context.
//
//   npx tsx demo/decode/latency-by-context.ts [llvmpipe|swiftshader|hardware] [rounds]

import type { NodeAdapterKind } from '../../src/runtime/adapter-not-found.js';
import { DEFAULT_MODEL } from './config.js';
import { median } from './decode-loop.js';
import { openTfjsWithAttnc } from './node-tfjs.js';
import { GpuDecoder } from './tfjs-model.js';
import { makeWeights } from './weights.js';

const CONTEXTS = [64, 256, 512, 1024, 2048];
const CHUNK = 64;
const kind = (process.argv[2] ?? 'llvmpipe') as NodeAdapterKind;
const rounds = Number(process.argv[3] ?? 9);
if (!['llvmpipe', 'swiftshader', 'hardware'].includes(kind) || !(rounds >= 1)) {
  throw new Error('usage: latency-by-context.ts [llvmpipe|swiftshader|hardware] [rounds >= 1]');
}

const gpu = await openTfjsWithAttnc(kind);
const weights = makeWeights(DEFAULT_MODEL, 1);
const models: GpuDecoder[] = [];
try {
  for (const context of CONTEXTS) {
    const model = await GpuDecoder.create(gpu.tf, gpu.runtime, DEFAULT_MODEL, weights, {
      capacity: context + rounds + 1,
      maxChunk: CHUNK,
    });
    models.push(model);
    for (let p = 0; p < context; p += CHUNK) {
      const count = Math.min(CHUNK, context - p);
      await model.prefill(Array.from({ length: count }, (_, i) => 97 + ((p + i) % 26)));
    }
    await model.stepGreedy([32]); // warm: the single-token kernels are compiled here
  }
  const times = CONTEXTS.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (const [i, model] of models.entries()) {
      const start = performance.now();
      await model.stepGreedy([32]);
      times[i]!.push(performance.now() - start);
    }
  }
  console.log(`${gpu.adapterName}, ${rounds} rounds`);
  console.log('   context   median ms      min ms');
  CONTEXTS.forEach((context, i) => {
    const t = times[i]!;
    console.log(
      `${String(context).padStart(10)}${median(t).toFixed(1).padStart(12)}${Math.min(...t)
        .toFixed(1)
        .padStart(12)}`,
    );
  });
} finally {
  for (const model of models) model.destroy();
  gpu.close();
}
