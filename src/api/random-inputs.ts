// Seeded random inputs for a compiled module, shaped by its plan: what `attnc run` and the
// benchmark feed the kernels. Values come from the documented generator (src/random), so a
// run is reproducible; segment ids form contiguous documents, as packed batches have.

import { evalSize, type SizeEnv } from '../codegen/plan.js';
import { randomU32, randomUniform } from '../random/index.js';
import type { CompiledModule } from './compile.js';
import { scaleRandomInput } from './random-input-scales.js';
import type { ReferenceCallInputs } from './reference.js';

export interface RandomInputOptions {
  readonly batch: number;
  readonly seqQ: number;
  readonly seqK: number;
  readonly seed?: number;
  /** Average document length for `seg_q`/`seg_k` (default seqK / 4, at least 1). */
  readonly documentLength?: number;
}

export type RandomInputs = ReferenceCallInputs & {
  readonly batch: number;
  readonly seqQ: number;
  readonly seqK: number;
};

/** Streams of the generator, one per input, so adding an input never changes the others. */
const STREAMS: Record<string, number> = {
  q: 1,
  k: 2,
  v: 3,
  seg: 4,
  E: 5,
  F: 6,
  centroids: 7,
  router: 8,
};

export function randomInputs(module: CompiledModule, options: RandomInputOptions): RandomInputs {
  const seed = options.seed ?? 0;
  const sizes: SizeEnv = { batch: options.batch, seqQ: options.seqQ, seqK: options.seqK };
  const out: Record<string, unknown> = { ...sizes };
  const segK = documentIds(options, seed);
  for (const input of module.plan.inputs) {
    const length = input.shape.reduce<number>((n, d) => n * evalSize(d, sizes), 1);
    if (input.name === 'seg_k') out['seg_k'] = segK;
    else if (input.name === 'seg_q') out['seg_q'] = bottomRows(segK, options);
    else {
      const stream = STREAMS[input.name] ?? 99;
      const data = new Float32Array(length);
      for (let i = 0; i < length; i++) data[i] = randomUniform(seed, stream, i) * 2 - 1;
      const dims = input.shape.map((d) => evalSize(d, sizes));
      scaleRandomInput(input.name, data, dims, sizes.seqK);
      out[input.name] = data;
    }
  }
  return out as unknown as RandomInputs;
}

/** `[batch, seqK]` document ids: runs of random length, increasing along each row. */
function documentIds(options: RandomInputOptions, seed: number): Uint32Array {
  const { batch, seqK } = options;
  const mean = Math.max(1, options.documentLength ?? Math.floor(seqK / 4));
  const ids = new Uint32Array(batch * seqK);
  let counter = 0;
  for (let b = 0; b < batch; b++) {
    let doc = 0;
    let left = 1 + (randomU32(seed, STREAMS['seg']!, counter++) % (2 * mean));
    for (let j = 0; j < seqK; j++) {
      if (left === 0) {
        doc++;
        left = 1 + (randomU32(seed, STREAMS['seg']!, counter++) % (2 * mean));
      }
      ids[b * seqK + j] = doc;
      left--;
    }
  }
  return ids;
}

/** Query rows sit at the last `seqQ` key positions (bottom-right alignment). */
function bottomRows(segK: Uint32Array, options: RandomInputOptions): Uint32Array {
  const { batch, seqQ, seqK } = options;
  const out = new Uint32Array(batch * seqQ);
  for (let b = 0; b < batch; b++) {
    out.set(segK.subarray(b * seqK + seqK - seqQ, b * seqK + seqK), b * seqQ);
  }
  return out;
}
