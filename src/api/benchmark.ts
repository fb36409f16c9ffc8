// `benchmark(runtime, module, options)`: how long a compiled attention's kernels take on the
// runtime's device, next to dense softmax attention of the same shape (same heads, kv heads,
// dims, layout and dtype, no mask) timed in the same loop, so the ratio says what the
// pattern buys on this device. What `attnc bench` prints.
//
// Timed: encode + submit of every dispatch of the plan, up to `onSubmittedWorkDone()`.
// Inputs are uploaded once beforehand and the output is not read back, so the time is the
// kernels'. Reps alternate between the spec and dense, so a change in the machine's load
// falls on both alike.

import type { CheckedAttention } from '../check/checked.js';
import {
  checkRunSizes,
  deviceRunLimits,
  type LoadedAttention,
  type PreparedRun,
} from '../runtime/loaded-kernel.js';
import { compile, type CompiledModule } from './compile.js';
import { randomInputs } from './random-inputs.js';
import { summarize, timeRun, type Timing } from './timing.js';
import type { Runtime } from './runtime-core.js';

export interface BenchmarkOptions {
  readonly batch?: number;
  readonly seqQ?: number;
  readonly seqK: number;
  /** Untimed runs first (pipeline creation, caches). Default 1. */
  readonly warmup?: number;
  /** Timed runs; the median is reported. Default 5. */
  readonly reps?: number;
  /** Time dense softmax attention of the same shape too. Default true. */
  readonly compareDense?: boolean;
  readonly seed?: number;
  /** Called before each warm-up and timed run (progress display; never times anything). */
  readonly onProgress?: (step: BenchmarkStep) => void;
}

/** Which run is next: warm-up `index` of `of`, or timed rep `index` of `of` (from 1). */
export interface BenchmarkStep {
  readonly phase: 'warmup' | 'rep';
  readonly index: number;
  readonly of: number;
  /** The dense comparison's run rather than the attention's. */
  readonly dense: boolean;
}

export type { Timing } from './timing.js';

export interface BenchmarkResult {
  readonly name: string;
  readonly batch: number;
  readonly seqQ: number;
  readonly seqK: number;
  readonly timing: Timing;
  /** Dense softmax attention of the same shape, timed in the same loop. */
  readonly dense?: Timing;
  /** dense median / this median: how many times faster than dense the spec runs. */
  readonly speedupOverDense?: number;
}

/** The spec text of dense softmax attention with `attention`'s shape. */
export function denseEquivalentSpec(attention: CheckedAttention): string {
  return (
    `attention ${attention.name}_dense { heads: ${attention.heads}; kv_heads: ${attention.kvHeads}; ` +
    `head_dim: ${attention.headDim}; value_dim: ${attention.valueDim}; ` +
    `layout: ${attention.layout}; dtype: ${attention.dtype}; }`
  );
}

export async function benchmark(
  runtime: Runtime,
  module: CompiledModule,
  options: BenchmarkOptions,
): Promise<BenchmarkResult> {
  const batch = options.batch ?? 1;
  const seqK = options.seqK;
  const seqQ = options.seqQ ?? seqK;
  const warmup = options.warmup ?? 1;
  const reps = options.reps ?? 5;
  for (const [name, value, min] of [
    ['batch', batch, 1],
    ['seqK', seqK, 1],
    ['seqQ', seqQ, 1],
    ['warmup', warmup, 0],
    ['reps', reps, 1],
  ] as const) {
    if (!Number.isInteger(value) || value < min)
      throw new Error(`benchmark: ${name} must be an integer >= ${min}, got ${value}`);
  }
  if (seqQ > seqK) throw new Error(`benchmark: seqQ (${seqQ}) must not exceed seqK (${seqK})`);
  const shape = { batch, seqQ, seqK, seed: options.seed ?? 0 };

  const modules: CompiledModule[] = [module];
  if (options.compareDense ?? true) {
    const dense = compile(denseEquivalentSpec(module.attention), { target: runtime.profile });
    const denseModule = dense.modules[0];
    if (!denseModule)
      throw new Error(
        `internal error: dense spec did not compile: ${dense.diagnostics[0]?.message}`,
      );
    modules.push(denseModule);
  }
  // Sizes against the device before any input is generated (a huge N fails here, not in malloc).
  const limits = deviceRunLimits(runtime.device);
  for (const m of modules) checkRunSizes(m.plan, shape, limits);
  const loaded: LoadedAttention[] = [];
  const prepared: PreparedRun[] = [];
  try {
    for (const m of modules) loaded.push(await runtime.load(m));
    for (let i = 0; i < modules.length; i++) {
      const run = loaded[i]!.prepare(randomInputs(modules[i]!, shape));
      prepared.push(run);
      await run.ready();
    }
    const once = (run: PreparedRun) => timeRun(runtime.device, run, `benchmark '${module.name}'`);
    const step = options.onProgress ?? (() => {});
    for (let i = 0; i < prepared.length; i++) {
      for (let w = 0; w < warmup; w++) {
        step({ phase: 'warmup', index: w + 1, of: warmup, dense: i > 0 });
        await once(prepared[i]!);
      }
    }
    const times: number[][] = prepared.map(() => []);
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < prepared.length; i++) {
        step({ phase: 'rep', index: r + 1, of: reps, dense: i > 0 });
        times[i]!.push(await once(prepared[i]!));
      }
    }
    const timing = summarize(times[0]!);
    const dense = times[1] ? summarize(times[1]) : undefined;
    return {
      name: module.name,
      batch,
      seqQ,
      seqK,
      timing,
      ...(dense ? { dense, speedupOverDense: dense.medianMs / timing.medianMs } : {}),
    };
  } finally {
    for (const run of prepared) run.destroy();
    for (const kernel of loaded) kernel.destroy();
  }
}
