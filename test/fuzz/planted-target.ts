// A fuzz target with failures planted on purpose, for test/fuzz/pool.test.ts: it fails in a
// known way on inputs the test can pick out itself (by the text), so the test can check that
// the pool finds and classifies every one of them, and nothing else.

import type { FuzzTarget, TargetFailure } from '../../scripts/fuzz/target.js';
import type { CompileResult } from '../../src/api/compile.js';

export type PlantedKind =
  'exception' | 'hang' | 'memory' | 'crash' | 'internal-error' | 'invalid-wgsl';

/**
 * Which failure input `text` is planted with, if any. First match wins. `invalid-wgsl` only
 * when the run validates WGSL (`validating`), as with `--validate-wgsl 1`.
 */
export function plantedKind(text: string, validating = false): PlantedKind | null {
  // The costly kinds (each restarts a worker) only on a quarter of their inputs.
  const rare = text.length % 4 === 0;
  if (text.includes('cluster(') && rare) return 'hang';
  if (text.includes('lsh(') && rare) return 'memory';
  if (text.includes('topk(') && rare) return 'crash';
  if (text.includes('sink(') && text.includes('causal')) return 'exception';
  if (text.includes('dilated(')) return 'internal-error';
  if (text.includes('stride(') && validating) return 'invalid-wgsl';
  return null;
}

/** A compile result with one valid kernel and one that Tint rejects (an i32 out of range). */
const INVALID_OUTPUT = {
  modules: [
    {
      name: 'planted',
      profile: 'portable',
      plan: {
        kernels: [
          { name: 'fine', wgsl: '@compute @workgroup_size(1) fn main() {}' },
          { name: 'broken', wgsl: 'fn f() -> i32 { return 2147483648; }' },
        ],
      },
    },
  ],
} as unknown as CompileResult;

const kept: Float64Array[] = [];

export const target: FuzzTarget = async (text, options): Promise<TargetFailure | null> => {
  switch (plantedKind(text, options.validator !== undefined)) {
    case 'hang':
      for (;;) {
        // Spins until the watchdog kills the worker.
      }
    case 'memory':
      // Grows by 32 MB every 10 ms: fast enough to pass the limit well within the time limit
      // on a loaded machine, slowly enough that the 100 ms RSS poll stops it early.
      for (;;) {
        kept.push(new Float64Array(2 ** 22).fill(1));
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
    case 'invalid-wgsl': {
      const problem = await options.validator!.validate(INVALID_OUTPUT);
      return problem && { kind: 'invalid-wgsl', ...problem };
    }
    case null:
      return null;
  }
  return null;
};
