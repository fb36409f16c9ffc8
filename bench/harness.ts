// The benchmark harness: times cases on one device and reports medians. A case is one
// kernel (or one compiled plan) at one shape; the harness owns timing so every case is
// measured the same way, and ratios between cases of one run compare like with like.
//
// Timing: wall-clock from before the case's submit to queue.onSubmittedWorkDone(), always;
// plus GPU timestamps around every compute pass the case opens through the context, when
// the device has timestamp-query. GFLOP/s comes from the timestamp time where there is
// one, otherwise from the wall time. Dawn validates every call, so per-dispatch host
// overhead is real on every device and is part of the wall time on purpose.

export interface RunContext {
  readonly device: GPUDevice;
  /** Use instead of encoder.beginComputePass so the pass can be timed on the GPU. */
  beginComputePass(
    encoder: GPUCommandEncoder,
    descriptor?: GPUComputePassDescriptor,
  ): GPUComputePassEncoder;
}

export interface CaseCheck {
  /** Largest |kernel - CPU reference| over the checked outputs. */
  readonly maxAbsError: number;
  readonly checked: string;
}

export interface BenchCase {
  readonly name: string;
  /** Fraction of the N×N (query, key) pairs the kernel scores: 1 for dense attention. */
  readonly density: number;
  readonly n: number;
  readonly d: number;
  readonly heads: number;
  /**
   * Encodes and submits one complete execution. A peer library's case may return a promise
   * (ORT's session.run is async); the harness awaits it, then onSubmittedWorkDone().
   */
  run(ctx: RunContext): void | Promise<void>;
  /** Compares (part of) the output with a CPU reference; called after warmup. */
  check?(): Promise<CaseCheck>;
  destroy(): void;
}

/** What a benchmark suite registers: how to build its case for a shape on a device. */
/** Thrown by `create` when a case cannot run on this device (e.g. it needs subgroups). */
export class CaseNotApplicable extends Error {}

export interface CaseFactory {
  readonly name: string;
  /** Async for peers, which load a library's session and check their output first. */
  create(
    device: GPUDevice,
    shape: { readonly n: number; readonly d: number },
  ): BenchCase | Promise<BenchCase>;
}

export interface TimingOptions {
  readonly warmup: number;
  readonly reps: number;
  readonly useTimestamps: boolean;
}

export interface CaseResult {
  readonly name: string;
  readonly n: number;
  readonly d: number;
  readonly heads: number;
  readonly density: number;
  readonly timer: 'timestamp' | 'wall';
  readonly medianMs: number;
  readonly minMs: number;
  readonly wallMedianMs: number;
  readonly gflops: number;
  readonly check?: CaseCheck;
}

/** FLOPs counted per allowed (query, key) pair: 2D for q·k plus 2D for p·v. */
export function attentionFlops(c: {
  readonly n: number;
  readonly d: number;
  readonly heads: number;
  readonly density: number;
}): number {
  return 4 * c.d * c.density * c.n * c.n * c.heads;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const MAX_TIMED_PASSES = 64;

export async function timeCase(
  device: GPUDevice,
  benchCase: BenchCase,
  options: TimingOptions,
): Promise<CaseResult> {
  const timestamps = options.useTimestamps ? new PassTimestamps(device) : undefined;
  try {
    const ctx: RunContext = {
      device,
      beginComputePass: (encoder, descriptor = {}) =>
        encoder.beginComputePass(timestamps ? timestamps.attach(descriptor) : descriptor),
    };
    for (let i = 0; i < options.warmup; i++) {
      timestamps?.reset();
      await benchCase.run(ctx);
      await device.queue.onSubmittedWorkDone();
    }
    const wall: number[] = [];
    const gpu: number[] = [];
    for (let i = 0; i < options.reps; i++) {
      timestamps?.reset();
      const t0 = performance.now();
      await benchCase.run(ctx);
      await device.queue.onSubmittedWorkDone();
      wall.push(performance.now() - t0);
      if (timestamps) gpu.push(await timestamps.readMs());
    }
    // After the timed runs, so the output checked is one they wrote (even with --warmup 0).
    const check = benchCase.check ? await benchCase.check() : undefined;
    const times = timestamps ? gpu : wall;
    const medianMs = median(times);
    return {
      name: benchCase.name,
      n: benchCase.n,
      d: benchCase.d,
      heads: benchCase.heads,
      density: benchCase.density,
      timer: timestamps ? 'timestamp' : 'wall',
      medianMs,
      minMs: Math.min(...times),
      wallMedianMs: median(wall),
      gflops: attentionFlops(benchCase) / (medianMs * 1e6),
      ...(check ? { check } : {}),
    };
  } finally {
    timestamps?.destroy();
  }
}

/** Begin/end timestamps for each compute pass of one execution, summed on readback. */
class PassTimestamps {
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  private readonly readback: GPUBuffer;
  private passes = 0;

  constructor(private readonly device: GPUDevice) {
    const bytes = MAX_TIMED_PASSES * 2 * 8;
    this.querySet = device.createQuerySet({ type: 'timestamp', count: MAX_TIMED_PASSES * 2 });
    this.resolve = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readback = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  reset(): void {
    this.passes = 0;
  }

  attach(descriptor: GPUComputePassDescriptor): GPUComputePassDescriptor {
    if (this.passes >= MAX_TIMED_PASSES) {
      throw new Error(`a benchmark run may time at most ${MAX_TIMED_PASSES} compute passes`);
    }
    const i = this.passes++;
    return {
      ...descriptor,
      timestampWrites: {
        querySet: this.querySet,
        beginningOfPassWriteIndex: 2 * i,
        endOfPassWriteIndex: 2 * i + 1,
      },
    };
  }

  /** Sum over passes of (end - begin), in milliseconds. */
  async readMs(): Promise<number> {
    if (this.passes === 0) throw new Error('the case opened no compute pass through the context');
    const count = this.passes * 2;
    const encoder = this.device.createCommandEncoder();
    encoder.resolveQuerySet(this.querySet, 0, count, this.resolve, 0);
    encoder.copyBufferToBuffer(this.resolve, 0, this.readback, 0, count * 8);
    this.device.queue.submit([encoder.finish()]);
    await this.readback.mapAsync(GPUMapMode.READ, 0, count * 8);
    const ticks = new BigUint64Array(this.readback.getMappedRange(0, count * 8).slice(0));
    this.readback.unmap();
    let ns = 0n;
    for (let i = 0; i < count; i += 2) ns += ticks[i + 1]! - ticks[i]!;
    return Number(ns) / 1e6;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolve.destroy();
    this.readback.destroy();
  }
}

/**
 * Times several cases of one shape with their reps interleaved (rep 1 of every case, then
 * rep 2, ...), so drift in the machine's load falls on all cases alike and the ratios taken
 * within one run stay meaningful on a noisy machine.
 */
export async function timeCasesInterleaved(
  device: GPUDevice,
  cases: readonly BenchCase[],
  options: TimingOptions,
): Promise<CaseResult[]> {
  const timestamps = options.useTimestamps ? new PassTimestamps(device) : undefined;
  try {
    const ctx: RunContext = {
      device,
      beginComputePass: (encoder, descriptor = {}) =>
        encoder.beginComputePass(timestamps ? timestamps.attach(descriptor) : descriptor),
    };
    const once = async (benchCase: BenchCase): Promise<{ wall: number; gpu?: number }> => {
      timestamps?.reset();
      const t0 = performance.now();
      await benchCase.run(ctx);
      await device.queue.onSubmittedWorkDone();
      const wall = performance.now() - t0;
      return timestamps ? { wall, gpu: await timestamps.readMs() } : { wall };
    };
    for (const benchCase of cases) {
      for (let i = 0; i < options.warmup; i++) await once(benchCase);
    }
    const wall: number[][] = cases.map(() => []);
    const gpu: number[][] = cases.map(() => []);
    for (let rep = 0; rep < options.reps; rep++) {
      for (let c = 0; c < cases.length; c++) {
        const t = await once(cases[c]!);
        wall[c]!.push(t.wall);
        if (t.gpu !== undefined) gpu[c]!.push(t.gpu);
      }
    }
    // After the timed runs, so each output checked is one they wrote (even with --warmup 0).
    const checks: (CaseCheck | undefined)[] = [];
    for (const benchCase of cases)
      checks.push(benchCase.check ? await benchCase.check() : undefined);
    return cases.map((benchCase, c) => {
      const times = timestamps ? gpu[c]! : wall[c]!;
      const medianMs = median(times);
      const check = checks[c];
      return {
        name: benchCase.name,
        n: benchCase.n,
        d: benchCase.d,
        heads: benchCase.heads,
        density: benchCase.density,
        timer: timestamps ? ('timestamp' as const) : ('wall' as const),
        medianMs,
        minMs: Math.min(...times),
        wallMedianMs: median(wall[c]!),
        gflops: attentionFlops(benchCase) / (medianMs * 1e6),
        ...(check ? { check } : {}),
      };
    });
  } finally {
    timestamps?.destroy();
  }
}
