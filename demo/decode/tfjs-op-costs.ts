// `npx tsx demo/decode/tfjs-op-costs.ts [llvmpipe|swiftshader]`: what one tfjs-webgpu dispatch
// and read-back cost on a Node adapter, at the demo's sizes (a 1 x 128 row through a 128 x 256
// projection), to tell tfjs's share of a decode step from attnc's (docs/runtime.md, "A decode
// loop"). Medians of 20 after 3 warm-ups.

import type { NodeAdapterKind } from '../../src/runtime/adapter-not-found.js';
import { openTfjsWithAttnc } from './node-tfjs.js';
import type { Tensor } from './tfjs-types.js';

async function medianMs(run: () => Tensor, reps = 20): Promise<number> {
  for (let i = 0; i < 3; i++) await run().data();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    const y = run();
    await y.data();
    times.push(performance.now() - start);
    y.dispose();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const kind = (process.argv[2] ?? 'llvmpipe') as NodeAdapterKind;
const { tf, adapterName, close } = await openTfjsWithAttnc(kind);
try {
  const filled = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i) / 8);
  const x = tf.tensor2d(filled(128), [1, 128]);
  const w = tf.tensor2d(filled(128 * 256), [128, 256]);
  const cases: [string, () => Tensor][] = [
    ['add 1x128, read back', () => tf.add(x, x)],
    ['matMul 1x128 by 128x256, read back', () => tf.matMul(x, w)],
    [
      '30 chained adds, read back',
      () => {
        let y = x;
        for (let i = 0; i < 30; i++) y = tf.add(y, 1);
        return y;
      },
    ],
  ];
  console.log(`adapter: ${adapterName}`);
  for (const [label, run] of cases) {
    console.log(`${label.padEnd(36)} ${(await medianMs(run)).toFixed(2).padStart(8)} ms`);
  }
} finally {
  close();
}
