// The checks a run passes before any device work: the run's sizes (batch, seqQ, seqK) against
// the plan's constraints and the device's buffer limits, and host-array inputs against the
// plan's symbolic shapes (type, length, finite values). Both the host-array and the
// device-tensor paths use them; each error names the input or size and what was expected.

import type { HostPlan, SizeEnv } from '../codegen/plan.js';
import { checkLoopBudget, deviceLoopBudget } from './loop-budget.js';
import { evalSize } from '../codegen/plan.js';

/**
 * What a device allows one run: its buffer limits and its loop budget per invocation
 * (llvmpipe's, src/runtime/loop-budget.ts; null where it has none). Derived once per device
 * (`deviceRunLimits`), so every caller of `checkRunSizes` checks the same things.
 */
export interface RunLimits extends Pick<
  GPUSupportedLimits,
  'maxBufferSize' | 'maxStorageBufferBindingSize'
> {
  readonly loopBudget: number | null;
}

export function deviceRunLimits(device: GPUDevice): RunLimits {
  return {
    maxBufferSize: device.limits.maxBufferSize,
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    loopBudget: deviceLoopBudget(device),
  };
}

export interface RunInputs {
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly v: Float32Array;
  /** Default 1. */
  readonly batch?: number;
  /** Default: from the length of `q`. */
  readonly seqQ?: number;
  /** Default: from the length of `k`. */
  readonly seqK?: number;
  readonly seg_q?: Uint32Array;
  readonly seg_k?: Uint32Array;
  /** linformer projections `[Hkv, r, max_seq]`. */
  readonly E?: Float32Array;
  readonly F?: Float32Array;
  /** cluster centroids `[Hkv, c, D]`. */
  readonly centroids?: Float32Array;
  /** mixture-of-heads router logits `[B, Nq, H]`. */
  readonly router?: Float32Array;
}

export interface RunOutputs {
  readonly o: Float32Array;
  /**
   * The log-sum-exp of every query row, `[B, H, Nq]` (natural log, -Infinity for a row with no
   * allowed key): `run` returns it for a module compiled with `{ lse: true }`.
   */
  readonly lse?: Float32Array;
}

/** A plan buffer's bytes at these sizes: a whole number of 16-byte rows, at least one. */
export function bufferBytes(expr: HostPlan['buffers'][number]['size'], sizes: SizeEnv): number {
  return Math.max(16, Math.ceil(evalSize(expr, sizes) / 16) * 16);
}

/** Every buffer against the device's limits, before anything is allocated or validated. */
function checkBufferLimits(
  plan: HostPlan,
  limits: Pick<GPUSupportedLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize'>,
  sizes: SizeEnv,
): void {
  const at = `batch=${sizes.batch}, seqQ=${sizes.seqQ}, seqK=${sizes.seqK}`;
  for (const spec of plan.buffers) {
    const bytes = bufferBytes(spec.size, sizes);
    if (bytes > limits.maxBufferSize) {
      throw new Error(
        `buffer '${spec.name}' needs ${bytes} bytes at ${at}; the device's maxBufferSize is ${limits.maxBufferSize}`,
      );
    }
    if (spec.kind === 'storage' && bytes > limits.maxStorageBufferBindingSize) {
      throw new Error(
        `buffer '${spec.name}' needs ${bytes} bytes at ${at}; the device's maxStorageBufferBindingSize is ${limits.maxStorageBufferBindingSize}`,
      );
    }
  }
}

/** batch defaults to 1; seqQ and seqK default to what the lengths of q and k imply (checkRunSizes checks them). */
export function resolveSizes(plan: HostPlan, inputs: RunInputs): SizeEnv {
  const batch = inputs.batch ?? 1;
  checkSize('batch', batch);
  const perRow = (name: 'q' | 'k', symbol: 'seqQ' | 'seqK') => {
    const spec = plan.inputs.find((i) => i.name === name)!;
    const env = { batch, seqQ: 1, seqK: 1 };
    const rowElements = spec.shape.reduce<number>(
      (acc, e) => acc * (e === symbol ? 1 : evalSize(e, env)),
      1,
    );
    const data = inputs[name];
    if (!(data instanceof Float32Array))
      throw new Error(`input '${name}': expected a Float32Array, got ${describe(data)}`);
    if (data.length % rowElements !== 0 || data.length === 0) {
      throw new Error(
        `input '${name}': length ${data.length} is not a positive multiple of ${rowElements} ` +
          `(batch x ${spec.dims.filter((d) => d !== 'B' && d !== (symbol === 'seqQ' ? 'Nq' : 'Nk')).join(' x ')})`,
      );
    }
    return data.length / rowElements;
  };
  return {
    batch,
    seqQ: inputs.seqQ ?? perRow('q', 'seqQ'),
    seqK: inputs.seqK ?? perRow('k', 'seqK'),
  };
}

/**
 * The checks on (batch, seqQ, seqK) alone, no input data needed: positive integers, seqQ <=
 * seqK, the plan's min and max sequence lengths, and, given the device's run limits
 * (`deviceRunLimits`), every buffer of the plan and every kernel's loop bound at these sizes.
 * `attnc run` calls it before it generates inputs.
 */
export function checkRunSizes(plan: HostPlan, sizes: SizeEnv, limits?: RunLimits): void {
  const { batch, seqQ, seqK } = sizes;
  checkSize('batch', batch);
  checkSize('seqQ', seqQ);
  checkSize('seqK', seqK);
  if (seqQ > seqK) {
    throw new Error(
      `seqQ (${seqQ}) must not exceed seqK (${seqK}): queries are aligned bottom-right to the keys`,
    );
  }
  const minSeq = plan.constraints.minSeq;
  if (minSeq !== undefined && Math.min(seqQ, seqK) < minSeq) {
    throw new Error(
      `seqQ (${seqQ}) and seqK (${seqK}) must be at least ${minSeq}: this attention's nystrom landmarks average one segment of rows each`,
    );
  }
  if (plan.constraints.maxSeqK !== null && seqK > plan.constraints.maxSeqK) {
    throw new Error(
      `seqK (${seqK}) exceeds max_seq (${plan.constraints.maxSeqK}) of this attention`,
    );
  }
  if (limits) checkBufferLimits(plan, limits, sizes);
  if (limits && limits.loopBudget !== null) checkLoopBudget(plan, sizes, limits.loopBudget);
}

export function validateInputs(plan: HostPlan, inputs: RunInputs, sizes: SizeEnv): void {
  for (const spec of plan.inputs) {
    const data = inputs[spec.name];
    const dims = spec.shape.map((e) => evalSize(e, sizes));
    const expected = dims.reduce((a, b) => a * b, 1);
    const shapeText = `[${spec.dims.join(', ')}] = [${dims.join(', ')}] (${expected} elements)`;
    if (data === undefined)
      throw new Error(`input '${spec.name}' is missing; expected ${spec.dtype} ${shapeText}`);
    const wanted = spec.dtype === 'f32' ? Float32Array : Uint32Array;
    if (!(data instanceof wanted)) {
      throw new Error(`input '${spec.name}': expected a ${wanted.name}, got ${describe(data)}`);
    }
    if (data.length !== expected) {
      throw new Error(`input '${spec.name}': expected ${shapeText}, got ${data.length} elements`);
    }
    if (data instanceof Float32Array) {
      for (let x = 0; x < data.length; x++) {
        const value = data[x]!;
        // NaN and ±Infinity turn every output they reach into NaN; the reference rejects them too.
        if (!Number.isFinite(value))
          throw new Error(`input '${spec.name}': element ${x} is ${value}; inputs must be finite`);
      }
    }
  }
}

function checkSize(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 0x7fffffff) {
    throw new Error(`${name}: expected an integer from 1 to ${0x7fffffff}, got ${value}`);
  }
}

function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'null';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}
