// A fuzz target with failures planted on purpose, for test/fuzz/pool.test.ts: it fails in a
// known way on inputs the test can pick out itself (by the text), so the test can check that
// the pool finds and classifies every one of them, and nothing else.

import type { FuzzTarget, TargetFailure } from '../../scripts/fuzz/target.js';

export type PlantedKind = 'exception' | 'hang' | 'memory' | 'crash' | 'internal-error';

/** Which failure input `text` is planted with, if any. First match wins. */
export function plantedKind(text: string): PlantedKind | null {
  // The costly kinds (each restarts a worker) only on a quarter of their inputs.
  const rare = text.length % 4 === 0;
  if (text.includes('cluster(') && rare) return 'hang';
  if (text.includes('lsh(') && rare) return 'memory';
  if (text.includes('topk(') && rare) return 'crash';
  if (text.includes('sink(') && text.includes('causal')) return 'exception';
  if (text.includes('dilated(')) return 'internal-error';
  return null;
}

const kept: Float64Array[] = [];

export const target: FuzzTarget = (text): TargetFailure | null => {
  switch (plantedKind(text)) {
    case 'hang':
      for (;;) {
        // Spins until the watchdog kills the worker.
      }
    case 'memory':
      // Grows by 16 MB every 10 ms (slowly enough that the 100 ms RSS poll sees it early).
      for (;;) {
        kept.push(new Float64Array(2 ** 21).fill(1));
        const until = Date.now() + 10;
        while (Date.now() < until) {
          // Spin.
        }
      }
    case 'crash':
      process.exit(3);
      break;
    case 'exception':
      throw new TypeError('planted: cannot read properties of undefined');
    case 'internal-error':
      return { kind: 'internal-error', message: 'planted internal error' };
    case null:
      return null;
  }
  return null;
};
