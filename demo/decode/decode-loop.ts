// The greedy decode loop, apart from any model: prefill the context in chunks, then generate
// one token at a time, timing every step. On the way up to the context it feeds a few single
// tokens at each power of two (a decode-shaped step, as a generated token would be), so one
// run gives the per-token latency against the context length as well as the decode speed at
// the full context. The same loop drives the GPU model (Node and browser) and the CPU model.

export interface DecodeModel {
  /** Positions in the model's caches. */
  readonly length: number;
  /** Feeds tokens at the next positions; nothing is read back. */
  prefill(tokens: readonly number[]): Promise<void>;
  /** Feeds tokens at the next positions; returns the most likely next token (read back). */
  stepGreedy(tokens: readonly number[]): Promise<number>;
}

export interface DecodeLoopOptions {
  /** The prompt's bytes, repeated to fill `context` positions. */
  readonly prompt: Uint8Array;
  /** Positions prefilled before generating (at least 1). */
  readonly context: number;
  /** Tokens generated (at least 1): the first from the prefill, the rest one step each. */
  readonly tokens: number;
  /** Most tokens per prefill step. */
  readonly chunk: number;
  /** Single-token steps timed at each power-of-two context (default 5; 0 for none). */
  readonly probeSteps?: number;
  readonly onProgress?: (phase: 'prefill' | 'decode', done: number, total: number) => void;
  readonly now?: () => number;
}

/** Per-token latency at one context length: the median over its steps. */
export interface LatencyPoint {
  /** Keys in the cache when the step's attention ran (the step's own token included). */
  readonly context: number;
  /** Steps measured at this point; the decode row spans contexts context..context+steps-1. */
  readonly steps: number;
  readonly medianMs: number;
  readonly phase: 'prefill' | 'decode';
}

export interface DecodeRun {
  /** The prefilled tokens (the prompt repeated to the context). */
  readonly prefilled: readonly number[];
  readonly generated: readonly number[];
  /** From the first prefill step to the first generated token (read back). */
  readonly prefillMs: number;
  /** The single-token steps after the first generated token. */
  readonly decodeMs: number;
  readonly decodeSteps: number;
  readonly latency: readonly LatencyPoint[];
}

/** The powers of two below `context` at which single steps are timed: 8, 16, ... */
export function probeContexts(context: number): number[] {
  const out: number[] = [];
  for (let p = 8; p < context; p *= 2) out.push(p);
  return out;
}

export function checkLoopOptions(options: DecodeLoopOptions): void {
  const positive = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${name} must be a positive integer, got ${value}`);
    }
  };
  positive('context', options.context);
  positive('tokens', options.tokens);
  positive('chunk', options.chunk);
  if (options.prompt.length === 0) throw new Error('the prompt is empty');
}

export async function runDecodeLoop(
  model: DecodeModel,
  options: DecodeLoopOptions,
): Promise<DecodeRun> {
  checkLoopOptions(options);
  const now = options.now ?? (() => performance.now());
  const { context, prompt } = options;
  const probeSteps = options.probeSteps ?? 5;
  const prefilled = Array.from({ length: context }, (_, i) => prompt[i % prompt.length]!);
  const start = model.length;
  // Positions fed one token at a time: the step whose token lands at position p has p + 1 keys.
  const probes = new Map<number, number>();
  for (const p of probeContexts(context)) {
    for (let s = 0; s < probeSteps && p - 1 + s < context - 1; s++) probes.set(p - 1 + s, p);
  }
  const samples = new Map<number, number[]>();
  const t0 = now();
  let position = 0;
  let next = -1;
  while (position < context) {
    options.onProgress?.('prefill', position, context);
    const probe = probes.get(position);
    if (probe !== undefined) {
      const t = now();
      await model.stepGreedy([prefilled[position]!]);
      const list = samples.get(probe) ?? [];
      list.push(now() - t);
      samples.set(probe, list);
      position += 1;
      continue;
    }
    // Up to the next probe, the chunk size, or the end.
    let end = Math.min(context, position + options.chunk);
    for (let p = position + 1; p < end; p++) {
      if (probes.has(p)) {
        end = p;
        break;
      }
    }
    const tokens = prefilled.slice(position, end);
    if (end === context) next = await model.stepGreedy(tokens);
    else await model.prefill(tokens);
    position = end;
  }
  const prefillMs = now() - t0;
  const generated = [next];
  const decodeTimes: number[] = [];
  const t1 = now();
  while (generated.length < options.tokens) {
    options.onProgress?.('decode', generated.length, options.tokens);
    const t = now();
    next = await model.stepGreedy([next]);
    decodeTimes.push(now() - t);
    generated.push(next);
  }
  const decodeMs = now() - t1;
  if (model.length !== start + context + options.tokens - 1) {
    throw new Error(
      `the model holds ${model.length} positions after the loop, expected ${start + context + options.tokens - 1}`,
    );
  }
  const latency: LatencyPoint[] = [...samples].map(([p, times]) => ({
    context: p,
    steps: times.length,
    medianMs: median(times),
    phase: 'prefill',
  }));
  if (decodeTimes.length > 0) {
    latency.push({
      context: start + context + 1,
      steps: decodeTimes.length,
      medianMs: median(decodeTimes),
      phase: 'decode',
    });
  }
  return {
    prefilled,
    generated,
    prefillMs,
    decodeMs,
    decodeSteps: decodeTimes.length,
    latency,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
