// A long-lived fuzzing worker (a child process of the pool): draws input `index` itself
// from the seed, runs the target on it and reports the result. The pool bundles this module
// with the target into one file (fast to start, and restarted after every kill). Started
// with a V8 heap limit; the pool's watchdog kills it if it hangs or grows past the memory
// limit.

import { fmix32 } from '../../src/random/generator.js';
import { fuzzInput } from './inputs.js';
import {
  WORKER_CONFIG_ENV,
  type FromWorker,
  type ToWorker,
  type WorkerConfig,
} from './protocol.js';
import type { FuzzTarget, TargetFailure } from './target.js';
import { createWgslValidator, serveWgslValidation, VALIDATOR_ROLE_ENV } from './validate-wgsl.js';

function send(message: FromWorker): void {
  process.send!(message);
}

/** Whether input `index` is in the validated sample: a fixed hash, so reruns agree. */
export function inValidatedSample(seed: number, index: number, rate: number): boolean {
  return rate > 0 && fmix32((seed ^ fmix32(index)) >>> 0) < rate * 2 ** 32;
}

/** Runs the worker loop with `target`; the pool's bundled entry calls this. */
export async function startWorker(target: FuzzTarget): Promise<void> {
  // The same bundle serves as the worker's WGSL validator process (validate-wgsl.ts).
  if (process.env[VALIDATOR_ROLE_ENV]) return serveWgslValidation();
  const raw = process.env[WORKER_CONFIG_ENV];
  if (!raw || !process.send) {
    console.error('the fuzz worker is started by the fuzzer (npm run fuzz), not directly');
    process.exit(2);
  }
  const config = JSON.parse(raw) as WorkerConfig;
  // Deep enough to reach the compiler's own frames under a dependency's recursion.
  Error.stackTraceLimit = 100;
  const validator = config.validateRate > 0 ? createWgslValidator() : undefined;

  process.on('message', (message: ToWorker) => {
    void (async () => {
      const input = fuzzInput(config.seed, message.index);
      const started = performance.now();
      let failure: TargetFailure | null;
      try {
        failure = await target(input.text, {
          outputLimitBytes: config.outputLimitBytes,
          ...(validator && inValidatedSample(config.seed, message.index, config.validateRate)
            ? { validator }
            : {}),
        });
      } catch (error) {
        // The real target catches everything itself; a target that throws is reported the same.
        failure = {
          kind: 'exception',
          message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          detail: (error as Error)?.stack ?? String(error),
        };
      }
      send({
        type: 'result',
        index: message.index,
        ms: performance.now() - started,
        rss: process.memoryUsage.rss(),
        failure,
      });
    })().catch((error: unknown) => {
      // The harness itself broke (drawing the input, reporting): stop rather than misreport.
      send({ type: 'fatal', message: (error as Error)?.stack ?? String(error) });
      process.exit(1);
    });
  });
  // The parent ends the run by disconnecting.
  process.on('disconnect', () => {
    validator?.destroy();
    process.exit(0);
  });
  send({ type: 'ready' });
}
