// What one loaded attention shares with every run of it: the device, the plan, the built
// pipelines and the host-drawn tables, plus the helpers both run paths (prepared runs in
// loaded-kernel.ts, device tensors in device-tensors.ts) use to feed the plan's steps. The
// runtime sees an attention only as a `PlannedAttention`, its name and host plan: the IR
// stays with the compiler.

import type { HostPlan, PlanKernel, SizeEnv } from '../codegen/plan.js';
import { evalSize } from '../codegen/plan.js';
import { randomBlocks } from '../random/index.js';
import type { RunLimits } from './run-checks.js';

/** What the runtime loads: a name (for errors) and the host plan, e.g. a compiled module. */
export interface PlannedAttention {
  readonly name: string;
  readonly plan: HostPlan;
}

export interface LoadedKernel {
  readonly kernel: PlanKernel;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

/** What one loaded attention shares with every run prepared from it. */
export interface LoadContext {
  readonly device: GPUDevice;
  /** The device's run limits (`deviceRunLimits`), derived once at load. */
  readonly runLimits: RunLimits;
  readonly plan: HostPlan;
  readonly name: string;
  readonly kernels: ReadonlyMap<string, LoadedKernel>;
  readonly randomTables: Map<string, Uint32Array<ArrayBuffer>>;
  readonly ready: () => Promise<void>;
  /** Throws when the attention, its device or one of its kernels cannot be used. */
  readonly assertUsable: () => void;
}

/** Row `qb` holds the `min(count, blocks)` sorted key blocks of query block `qb` (src/random). */
export function drawRandomTable(
  seed: number,
  count: number,
  block: number,
  seqK: number,
): Uint32Array<ArrayBuffer> {
  const keyBlocks = Math.ceil(seqK / block);
  const perBlock = Math.min(count, keyBlocks);
  const table = new Uint32Array(Math.max(1, keyBlocks * perBlock));
  for (let qb = 0; qb < keyBlocks; qb++)
    table.set(randomBlocks(seed, qb, count, keyBlocks), qb * perBlock);
  return table;
}

/** Gaussian matrices depend only on (seed, rows, cols): drawn once per process. */
export const gaussianTables = new Map<string, Float32Array<ArrayBuffer>>();

/** A kernel's uniform struct for these sizes, padded to whole 16-byte rows. */
export function uniformWords(kernel: PlanKernel, sizes: SizeEnv): Uint32Array<ArrayBuffer> {
  const values = new Uint32Array(Math.ceil(kernel.uniforms.length / 4) * 4);
  kernel.uniforms.forEach((u, i) => {
    const value = evalSize(u.value, sizes);
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new Error(`kernel ${kernel.name}: uniform '${u.name}' = ${value} does not fit a u32`);
    }
    values[i] = value;
  });
  return values;
}

export function kernelOf(kernels: ReadonlyMap<string, LoadedKernel>, name: string): LoadedKernel {
  const kernel = kernels.get(name);
  if (!kernel) throw new Error(`plan: unknown kernel '${name}'`);
  return kernel;
}
