// The messages between the fuzzer's pool (parent) and its workers (children), and the
// configuration a worker starts with. One input in flight per worker, so the parent
// always knows which input a stuck or dead worker was running.

import type { TargetFailure } from './target.js';

export interface WorkerConfig {
  readonly seed: number;
  readonly outputLimitBytes: number;
  /** Fraction of inputs whose WGSL goes through Dawn's null backend (0 = off). */
  readonly validateRate: number;
}

export const WORKER_CONFIG_ENV = 'ATTNC_FUZZ_WORKER_CONFIG';

export type ToWorker = { readonly type: 'run'; readonly index: number };

export type FromWorker =
  | { readonly type: 'ready' }
  | {
      readonly type: 'result';
      readonly index: number;
      readonly ms: number;
      /** Resident set size after the input, in bytes. */
      readonly rss: number;
      readonly failure: TargetFailure | null;
    }
  | { readonly type: 'fatal'; readonly message: string };
