// `npm run bench -- --decode`: the cost of one decoded token. A decode step is one query row
// (Nq = 1) at the end of a context of Nk keys, for 8 heads, 2 kv heads, D = 64, in four
// patterns: dense causal, `window(left: 1024) | sink(4)`, causal `elu1` (linear) and `topk`.
// A case whose spec has a KV cache (src/runtime/cache) runs through it: the cache is filled to
// Nk - steps positions, then a step appends one token's k and v (device tensors) and attends
// its query, both recorded in one encoder; the attend alone is timed at the final length too,
// so the per-token overhead of the cache reads off (topk too: its cache keeps the block
// means). A case without a cache (`store: 'none'`) attends to the whole key range as
// `runOnDevice` runs it with seqQ = 1. Either way through the device-tensor path, so no upload
// or read-back is timed. `elu1-state` is the `elu1` spec through the KV cache, which keeps its
// recurrent state (src/runtime/cache/recurrent-state.ts); `elu1-causal` is the same spec over
// the whole key range without a cache, for comparison.
//
// Per case the bench also times a prefill of the same spec (2048 x 2048 by default) in the
// same run, and reports the cost per (query row, key) of both: time / (Nq * Nk), every key of
// the range counted (the mask's density is not), so decode and prefill of one spec compare
// like with like. Where the prefill's mask density has a closed form (dense causal: a row reads
// (n + 1) / 2n of the keys), the summary also compares cost per (row, attended key): a causal
// prefill skips the tiles above the diagonal, a decode row reads every key of its context.
// T(max) / T(min) says how a step grows with the context.

import { compareOutput } from '../src/api/compare-output.js';
import { compile, type CompiledModule } from '../src/api/compile.js';
import { randomInputs, type RandomInputs } from '../src/api/random-inputs.js';
import { reference } from '../src/api/reference.js';
import type { Progress } from '../src/cli/progress.js';
import { evalSize, type SizeEnv } from '../src/codegen/plan.js';
import type { DeviceTensor, DeviceTensors } from '../src/runtime/device-tensors.js';
import {
  checkRunSizes,
  deviceRunLimits,
  loadChecked,
  type LoadedAttention,
} from '../src/runtime/loaded-kernel.js';
import type { DeviceProfile } from '../src/target/profile.js';
import { causalDensity } from './attnc-cases.js';
import { median } from './harness.js';

export interface DecodeCase {
  readonly name: string;
  /** The spec's body after the shared shape (heads, kv_heads, head_dim). */
  readonly body: string;
  /**
   * `none`: a decode step runs over the whole key range without a cache even though the spec
   * has one (for comparison). Absent: through the cache object when the spec has a KV cache,
   * else over the whole key range.
   */
  readonly store?: 'none';
  /**
   * The fraction of (row, key) pairs of an n x n prefill the mask lets a row read, where it
   * is a closed form (causal: (n + 1) / 2n). A decode row reads every key of its context, so
   * with it the summary also compares cost per (row, attended key).
   */
  readonly prefillDensity?: (n: number) => number;
}

export const DECODE_SHAPE = 'heads: 8; kv_heads: 2; head_dim: 64';

export const DECODE_CASES: readonly DecodeCase[] = [
  { name: 'dense-causal', body: 'causal: true', prefillDensity: causalDensity },
  { name: 'window1024-sink4', body: 'causal: true; mask: window(left: 1024) | sink(4)' },
  { name: 'elu1-causal', body: 'causal: true; kernel: elu1', store: 'none' },
  { name: 'elu1-state', body: 'causal: true; kernel: elu1' },
  { name: 'topk4-block64', body: 'causal: true; mask: topk(4, block: 64)' },
];

export const DEFAULT_DECODE_CONTEXTS = [1024, 4096, 16384, 65536];
export const DEFAULT_PREFILL = 2048;

export function decodeSpecText(c: DecodeCase): string {
  return `attention decode_${c.name.replace(/-/g, '_')} { ${DECODE_SHAPE}; ${c.body} }`;
}

export interface DecodeOptions {
  readonly contexts: readonly number[];
  /** Rows and keys of the prefill timed for comparison (prefill x prefill). */
  readonly prefill: number;
  readonly warmup: number;
  readonly reps: number;
  /** Compare every decode step's output with the CPU reference (default on). */
  readonly check: boolean;
  readonly progress: Progress;
  /** Lines that stay (results, skips), printed as they come. */
  readonly print: (line: string) => void;
}

/**
 * One timed shape of one case: a decode step (seqQ = 1; through the cache, append + attend,
 * when `cached`), the cache's attend alone at the same length, or the prefill (seqQ = seqK).
 */
export interface DecodeMeasurement {
  readonly case: string;
  readonly kind: 'decode' | 'attend' | 'prefill';
  /** The step ran through a KV cache. */
  readonly cached?: boolean;
  readonly seqQ: number;
  readonly seqK: number;
  readonly medianMs: number;
  readonly minMs: number;
  /** Nanoseconds per (query row, key): median / (seqQ * seqK). */
  readonly nsPerRowKey: number;
  /** Relative error against the CPU reference (decode steps, when checked). */
  readonly relativeError?: number;
  /** Prefill only: the fraction of its (row, key) pairs the mask reads, where known. */
  readonly density?: number;
}

export interface DecodeSkip {
  readonly case: string;
  readonly kind: 'decode' | 'attend' | 'prefill';
  readonly seqK: number;
  readonly reason: string;
}

export interface DecodeReport {
  readonly measurements: readonly DecodeMeasurement[];
  readonly skipped: readonly DecodeSkip[];
}

/** Thrown for sizes the device cannot hold: reported as a skip, never a crash. */
class SizeBeyondDevice extends Error {}

export async function runDecodeBench(
  device: GPUDevice,
  profile: DeviceProfile,
  cases: readonly DecodeCase[],
  options: DecodeOptions,
): Promise<DecodeReport> {
  const measurements: DecodeMeasurement[] = [];
  const skipped: DecodeSkip[] = [];
  for (const c of cases) {
    const result = compile(decodeSpecText(c), { target: profile });
    const module = result.modules[0];
    if (!module) {
      throw new Error(
        `decode case ${c.name} does not compile: ${result.diagnostics.map((d) => d.message).join('; ')}`,
      );
    }
    options.progress.step(`decode ${c.name}: loading its kernels`);
    const loaded = await loadChecked(device, module);
    const withoutCache =
      c.store === 'none'
        ? 'over the whole key range, for comparison with the cached case'
        : cacheRefusal(loaded);
    if (withoutCache !== null) {
      options.progress.around(() =>
        options.print(`note: ${c.name} runs without a KV cache (${withoutCache})`),
      );
    }
    try {
      const shapes: { kind: 'decode' | 'prefill'; sizes: SizeEnv }[] = [
        { kind: 'prefill', sizes: { batch: 1, seqQ: options.prefill, seqK: options.prefill } },
        ...options.contexts.map((n) => ({
          kind: 'decode' as const,
          sizes: { batch: 1, seqQ: 1, seqK: n },
        })),
      ];
      for (const { kind, sizes } of shapes) {
        const label = `${c.name} ${kind} ${kind === 'decode' ? `at context ${sizes.seqK}` : `${sizes.seqQ} x ${sizes.seqK}`}`;
        try {
          const timed: DecodeMeasurement[] = [];
          if (kind === 'decode' && withoutCache === null) {
            const m = await measureCached(device, module, loaded, sizes.seqK, {
              ...options,
              label,
            });
            timed.push(
              { case: c.name, kind: 'decode', cached: true, ...m.step },
              { case: c.name, kind: 'attend', cached: true, ...m.attend },
            );
          } else {
            const m = await measure(device, module, loaded, sizes, {
              ...options,
              check: options.check && kind === 'decode',
              label,
            });
            const density =
              kind === 'prefill' && c.prefillDensity ? c.prefillDensity(sizes.seqK) : undefined;
            timed.push({ case: c.name, kind, ...m, ...(density !== undefined ? { density } : {}) });
          }
          for (const measurement of timed) {
            measurements.push(measurement);
            options.progress.around(() => options.print(formatDecodeRow(measurement)));
          }
        } catch (error) {
          if (!(error instanceof SizeBeyondDevice)) throw error;
          const skip = { case: c.name, kind, seqK: sizes.seqK, reason: error.message };
          skipped.push(skip);
          options.progress.around(() => options.print(`skipped: ${label}: ${error.message}`));
        }
      }
    } finally {
      loaded.destroy();
    }
  }
  options.progress.clear();
  return { measurements, skipped };
}

async function measure(
  device: GPUDevice,
  module: CompiledModule,
  loaded: LoadedAttention,
  sizes: SizeEnv,
  options: DecodeOptions & { readonly label: string },
): Promise<Omit<DecodeMeasurement, 'case' | 'kind'>> {
  try {
    checkRunSizes(module.plan, sizes, deviceRunLimits(device));
  } catch (error) {
    throw new SizeBeyondDevice(error instanceof Error ? error.message : String(error));
  }
  options.progress.step(`${options.label}: generating inputs`);
  const inputs = randomInputs(module, { ...sizes, seed: 0 });
  const placed = placeOnDevice(device, module, inputs, sizes);
  try {
    const once = async () => {
      const t0 = performance.now();
      await loaded.runOnDevice(placed.tensors);
      await device.queue.onSubmittedWorkDone();
      return performance.now() - t0;
    };
    for (let i = 0; i < options.warmup; i++) {
      options.progress.step(`${options.label}: warm-up ${i + 1}/${options.warmup}`);
      await once();
    }
    const times: number[] = [];
    for (let i = 0; i < options.reps; i++) {
      options.progress.step(`${options.label}: rep ${i + 1}/${options.reps}`);
      times.push(await once());
    }
    const medianMs = median(times);
    let relativeError: number | undefined;
    if (options.check) {
      options.progress.step(`${options.label}: checking against the CPU reference`);
      const o = await readFloats(device, placed.o, placed.outputBytes);
      relativeError = compareOutput(o, reference(module, inputs).o).relativeError;
    }
    return {
      seqQ: sizes.seqQ,
      seqK: sizes.seqK,
      medianMs,
      minMs: Math.min(...times),
      nsPerRowKey: (medianMs * 1e6) / (sizes.seqQ * sizes.seqK),
      ...(relativeError !== undefined ? { relativeError } : {}),
    };
  } finally {
    for (const buffer of placed.buffers) buffer.destroy();
  }
}

/** Why a case runs without a KV cache, or null when it has one. */
function cacheRefusal(loaded: LoadedAttention): string | null {
  try {
    loaded.createCache({ batch: 1, capacity: 1 }).destroy();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Tokens appended per call while a recurrent state is filled with the context. */
const FILL_CHUNK = 512;

/** Filling a cache takes context / maxChunk appends for a ring: past this the bench skips. */
const MAX_CACHED_CONTEXT = 1 << 20;

/** Positions [from, to) of a [1, H, N, W] (bhnd) array. */
function positionsOf(
  data: Float32Array,
  heads: number,
  n: number,
  width: number,
  from: number,
  to: number,
) {
  const out = new Float32Array(heads * (to - from) * width);
  for (let h = 0; h < heads; h++) {
    out.set(data.subarray((h * n + from) * width, (h * n + to) * width), h * (to - from) * width);
  }
  return out;
}

/**
 * A decode step through the KV cache at a context of `context` positions: fill the cache to
 * context - steps, then each step appends one token (k, v device tensors) and attends its
 * query (q, o device tensors) in one encoder, timed to onSubmittedWorkDone, and then the
 * attend alone at that length. The last o is checked against the reference over all
 * `context` keys.
 */
async function measureCached(
  device: GPUDevice,
  module: CompiledModule,
  loaded: LoadedAttention,
  context: number,
  options: DecodeOptions & { readonly label: string },
): Promise<{
  step: Omit<DecodeMeasurement, 'case' | 'kind'>;
  attend: Omit<DecodeMeasurement, 'case' | 'kind'>;
}> {
  const steps = options.warmup + options.reps;
  let cache: ReturnType<LoadedAttention['createCache']>;
  try {
    cache = loaded.createCache({ batch: 1, capacity: context });
  } catch (error) {
    throw new SizeBeyondDevice(error instanceof Error ? error.message : String(error));
  }
  const refuse = (reason: string) => {
    cache.destroy();
    return new SizeBeyondDevice(reason);
  };
  if (context > MAX_CACHED_CONTEXT) {
    throw refuse(
      `filling a KV cache of ${context} positions takes too many appends; the bench stops at ${MAX_CACHED_CONTEXT}`,
    );
  }
  if (context <= steps) {
    throw refuse(`a context of ${context} is not more than the ${steps} timed steps`);
  }
  const a = module.attention;
  const [H, Hkv, D, Dv] = [a.heads, a.kvHeads, a.headDim, a.valueDim];
  const sizes = { batch: 1, seqQ: 1, seqK: context };
  const buffers: GPUBuffer[] = [];
  try {
    options.progress.step(`${options.label}: generating inputs`);
    const inputs = randomInputs(module, { ...sizes, seed: 0 });
    options.progress.step(`${options.label}: filling the cache`);
    const fill = context - steps;
    // A ring takes at most maxChunk per append; recurrent states take chunks of FILL_CHUNK.
    const chunk =
      cache.slots.kind === 'ring'
        ? cache.slots.maxChunk
        : cache.slots.kind === 'none'
          ? FILL_CHUNK
          : fill;
    for (let p = 0; p < fill; p += chunk) {
      const end = Math.min(fill, p + chunk);
      await cache.append({
        k: positionsOf(inputs.k, Hkv, context, D, p, end),
        v: positionsOf(inputs.v, Hkv, context, Dv, p, end),
      });
    }
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const upload = (data: Float32Array) => {
      const buffer = device.createBuffer({ size: Math.max(16, data.byteLength), usage });
      device.queue.writeBuffer(buffer, 0, data);
      buffers.push(buffer);
      return buffer;
    };
    // One k and one v buffer, rewritten before each step, as a model's projection writes them.
    const token = {
      k: {
        buffer: upload(new Float32Array(Hkv * D)),
        dtype: 'f32' as const,
        shape: [1, Hkv, 1, D],
      },
      v: {
        buffer: upload(new Float32Array(Hkv * Dv)),
        dtype: 'f32' as const,
        shape: [1, Hkv, 1, Dv],
      },
    };
    const writeToken = (s: number) => {
      device.queue.writeBuffer(
        token.k.buffer,
        0,
        positionsOf(inputs.k, Hkv, context, D, fill + s, fill + s + 1),
      );
      device.queue.writeBuffer(
        token.v.buffer,
        0,
        positionsOf(inputs.v, Hkv, context, Dv, fill + s, fill + s + 1),
      );
    };
    const q = { buffer: upload(inputs.q), dtype: 'f32' as const, shape: [1, H, 1, D] };
    const oBytes = H * Dv * 4;
    const oBuffer = device.createBuffer({ size: Math.max(16, oBytes), usage });
    buffers.push(oBuffer);
    const o = { buffer: oBuffer, dtype: 'f32' as const };
    const timeOf = async (work: (encoder: GPUCommandEncoder) => Promise<void>) => {
      const t0 = performance.now();
      const encoder = device.createCommandEncoder();
      await work(encoder);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      return performance.now() - t0;
    };
    // Each step is followed by the attend alone at the same length, so both see the same
    // machine (a shared CPU adapter's load drifts); the last one leaves o at `context`.
    const stepTimes: number[] = [];
    const attendTimes: number[] = [];
    for (let s = 0; s < steps; s++) {
      const warm = s < options.warmup;
      options.progress.step(
        `${options.label}: ${warm ? `warm-up ${s + 1}/${options.warmup}` : `step ${s - options.warmup + 1}/${options.reps}`}`,
      );
      writeToken(s);
      const t = await timeOf(async (encoder) => {
        await cache.append(token, { encoder });
        await cache.attend({ q, o, encoder });
      });
      const alone = await timeOf((encoder) => cache.attend({ q, o, encoder }).then(() => {}));
      if (!warm) {
        stepTimes.push(t);
        attendTimes.push(alone);
      }
    }
    let relativeError: number | undefined;
    if (options.check) {
      options.progress.step(`${options.label}: checking against the CPU reference`);
      const out = await readFloats(device, oBuffer, oBytes);
      relativeError = compareOutput(out, reference(module, inputs).o).relativeError;
    }
    const summary = (times: number[]) => {
      const medianMs = median(times);
      return {
        seqQ: 1,
        seqK: context,
        medianMs,
        minMs: Math.min(...times),
        nsPerRowKey: (medianMs * 1e6) / context,
      };
    };
    return {
      step: { ...summary(stepTimes), ...(relativeError !== undefined ? { relativeError } : {}) },
      attend: summary(attendTimes),
    };
  } finally {
    cache.destroy();
    for (const buffer of buffers) buffer.destroy();
  }
}

interface Placed {
  readonly tensors: DeviceTensors;
  readonly o: GPUBuffer;
  readonly outputBytes: number;
  readonly buffers: readonly GPUBuffer[];
}

/** Every input in a buffer of its own (the caller's tensors), and o's buffer. */
function placeOnDevice(
  device: GPUDevice,
  module: CompiledModule,
  inputs: RandomInputs,
  sizes: SizeEnv,
): Placed {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const maxBytes = Math.min(device.limits.maxBufferSize, device.limits.maxStorageBufferBindingSize);
  const buffers: GPUBuffer[] = [];
  const tensors: Record<string, DeviceTensor> = {};
  const bufferOf = (name: string, bytes: number) => {
    if (bytes > maxBytes) {
      throw new SizeBeyondDevice(
        `tensor '${name}' needs ${bytes} bytes, more than this device's largest storage buffer (${maxBytes})`,
      );
    }
    const buffer = device.createBuffer({ label: `decode.${name}`, size: bytes, usage });
    buffers.push(buffer);
    return buffer;
  };
  try {
    for (const spec of module.plan.inputs) {
      const data = inputs[spec.name as keyof RandomInputs] as Float32Array | Uint32Array;
      const buffer = bufferOf(spec.name, Math.max(16, Math.ceil(data.byteLength / 16) * 16));
      device.queue.writeBuffer(buffer, 0, data);
      tensors[spec.name] = {
        buffer,
        dtype: spec.storage ?? spec.dtype,
        shape: spec.shape.map((e) => evalSize(e, sizes)),
      };
    }
    const output = module.plan.outputs[0]!;
    const outputArray = module.plan.arrays.find((a) => a.name === output.array)!;
    const outputBytes = evalSize(outputArray.length, sizes) * 4;
    const o = bufferOf('o', Math.ceil(outputBytes / 16) * 16);
    tensors['o'] = { buffer: o, dtype: output.storage ?? output.dtype };
    return { tensors: tensors as unknown as DeviceTensors, o, outputBytes, buffers };
  } catch (error) {
    for (const buffer of buffers) buffer.destroy();
    throw error;
  }
}

async function readFloats(device: GPUDevice, buffer: GPUBuffer, bytes: number) {
  const staging = device.createBuffer({
    size: Math.ceil(bytes / 4) * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, staging.size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return new Float32Array(staging.getMappedRange().slice(0, bytes));
  } finally {
    staging.destroy();
  }
}

const COLUMNS = [
  ['case', 18],
  ['step', 16],
  ['median ms', 10],
  ['min ms', 10],
  ['ns/(row,key)', 13],
  ['rel err', 9],
] as const;

function cells(values: readonly string[]): string {
  return values
    .map((v, i) => (i < 2 ? v.padEnd(COLUMNS[i]![1]) : v.padStart(COLUMNS[i]![1])))
    .join(' ');
}

export const DECODE_HEADER = cells(COLUMNS.map(([title]) => title));

export function formatDecodeRow(m: DecodeMeasurement): string {
  return cells([
    m.case,
    m.kind === 'prefill'
      ? `prefill ${m.seqQ}x${m.seqK}`
      : `${m.kind === 'attend' ? 'attend' : m.cached ? 'step' : 'decode'} Nk=${m.seqK}`,
    m.medianMs.toFixed(2),
    m.minMs.toFixed(2),
    m.nsPerRowKey.toPrecision(4),
    m.relativeError === undefined ? '-' : m.relativeError.toExponential(1),
  ]);
}

/**
 * Per case: each decode step's cost per (row, key) over the prefill's, and how a step grows
 * from the smallest context to the largest measured (T(64K) / T(1K) with the defaults).
 */
export function formatDecodeSummary(report: DecodeReport): string {
  const lines: string[] = [];
  const names = [...new Set(report.measurements.map((m) => m.case))];
  for (const name of names) {
    const ofCase = report.measurements.filter((m) => m.case === name);
    const prefill = ofCase.find((m) => m.kind === 'prefill');
    const steps = ofCase.filter((m) => m.kind === 'decode').sort((a, b) => a.seqK - b.seqK);
    if (steps.length === 0) continue;
    const parts: string[] = [];
    if (prefill) {
      const ratios = steps.map(
        (s) => `${contextLabel(s.seqK)} ${(s.nsPerRowKey / prefill.nsPerRowKey).toFixed(1)}x`,
      );
      parts.push(
        `per (row, key) against prefill ${prefill.seqQ}x${prefill.seqK}: ${ratios.join(', ')}`,
      );
      if (prefill.density !== undefined) {
        // The prefill's rows read only density of its keys; a decode row reads all of its own.
        const perAttended = prefill.nsPerRowKey / prefill.density;
        const attended = steps.map(
          (s) => `${contextLabel(s.seqK)} ${(s.nsPerRowKey / perAttended).toFixed(1)}x`,
        );
        parts.push(`per (row, attended key): ${attended.join(', ')}`);
      }
    }
    const first = steps[0]!;
    const last = steps.at(-1)!;
    if (steps.length > 1) {
      parts.push(
        `T(${contextLabel(last.seqK)}) / T(${contextLabel(first.seqK)}) = ${(last.medianMs / first.medianMs).toFixed(2)}`,
      );
    }
    const attends = ofCase.filter((m) => m.kind === 'attend');
    if (attends.length > 0) {
      const overheads = steps.flatMap((s) => {
        const alone = attends.find((m) => m.seqK === s.seqK);
        return alone ? [`${contextLabel(s.seqK)} ${(s.medianMs / alone.medianMs).toFixed(2)}`] : [];
      });
      parts.push(`append + attend / attend alone: ${overheads.join(', ')}`);
    }
    lines.push(`${name}: ${parts.join('; ')}`);
  }
  return lines.join('\n');
}

/** 1024 -> 1K, 65536 -> 64K, anything else as is. */
export function contextLabel(n: number): string {
  return n % 1024 === 0 ? `${n / 1024}K` : String(n);
}
