// The one host-plan builder every family uses (softmax, routed, linear, low-rank, head
// routing): the buffer layout (arrays appended to buffers, 16-byte aligned), the binder
// (storage bindings numbered in first-use order, q/k/v deduplicated when they share a
// buffer), the dispatcher (workgroup counts folded into a second dimension past the device's
// limit) and the kernel list. What depends on the target is decided once, from the profile,
// in `planTarget`. Family modules (plan-softmax.ts, plan-linear.ts, plan-lowrank.ts) say which
// arrays and kernels they need; they never number bindings or fold dispatches themselves.
// New plan parts (a KV cache, more kernels) add arrays, kernels and steps through the same
// calls, so the plan types stay the only contract with the runtime.

import type { Attention, Group } from '../ir/ir.js';
import type { KernelFeature } from '../kernel/features.js';
import type { DeviceProfile } from '../target/profile.js';
import { readyKernel, type CompiledKernel, type KernelSource } from './kernel-source.js';
import type {
  PlanArray,
  PlanCondition,
  PlanBinding,
  PlanBuffer,
  PlanKernel,
  PlanStep,
  SizeExpr,
  TensorDType,
} from './plan.js';
import { size } from './plan.js';
import { valuesPerWord } from '../kernel/blocks/row-codec.js';
import type { RoutedRowsArrays } from './wgsl/emit-head-routing.js';

/** What the plan's shape depends on in the target, decided here and nowhere else. */
export interface PlanTarget {
  readonly profile: DeviceProfile;
  /** q, k and v share one buffer `qkv` (the widest kernel would pass the binding limit). */
  readonly packQkv: boolean;
  /** Past this many workgroups a dispatch folds into the second dimension. */
  readonly maxWorkgroupsPerDimension: number;
  /** Kernels may read and write f16 natively (`shader-f16`). */
  readonly nativeF16: boolean;
}

/**
 * `storageNeeded`: the most storage bindings any kernel of the plan takes with q, k and v
 * apart. Past the device's limit (compatibility mode: 4 per stage) they share one buffer.
 */
export function planTarget(profile: DeviceProfile, storageNeeded: number): PlanTarget {
  return {
    profile,
    packQkv: storageNeeded > profile.limits.maxStorageBuffersPerShaderStage,
    maxWorkgroupsPerDimension: profile.limits.maxComputeWorkgroupsPerDimension,
    nativeF16: profile.features.shaderF16,
  };
}

/** One array's place in the layout: regions appended to buffers, 16-byte aligned. */
export class Layout {
  readonly buffers: PlanBuffer[] = [];
  readonly arrays: PlanArray[] = [];
  private readonly ends = new Map<string, SizeExpr>();

  buffer(name: string): void {
    if (!this.ends.has(name)) this.ends.set(name, 0);
  }

  /** `length` in elements, stored `valuesPerWord` to a word (row-codec.ts). */
  add(name: string, buffer: string, elements: SizeExpr, element: TensorDType): SizeExpr {
    const perWord = valuesPerWord(element);
    const length = perWord === 1 ? elements : size.ceilDiv(elements, perWord);
    const offset = this.ends.get(buffer);
    if (offset === undefined) throw new Error(`internal error: unknown buffer ${buffer}`);
    this.arrays.push({ name, buffer, offset, length, element });
    this.ends.set(
      buffer,
      offset === 0 ? size.alignUp(length, 4) : size.add(offset, size.alignUp(length, 4)),
    );
    return offset;
  }

  /** Word offset of an array added before. */
  offsetOf(name: string): SizeExpr {
    const array = this.arrays.find((a) => a.name === name);
    if (array === undefined) throw new Error(`internal error: array ${name} missing from layout`);
    return array.offset;
  }

  finish(): PlanBuffer[] {
    for (const [name, end] of this.ends)
      this.buffers.push({ name, kind: 'storage', size: size.mul(end, 4) });
    return this.buffers;
  }
}

/** One use of a buffer by a kernel: read, or also written. */
export interface BufferUse {
  readonly buffer: string;
  readonly write: boolean;
}

/** A storage binding as a kernel declares it: its WGSL name and number. */
export interface BoundBuffer {
  readonly name: string;
  readonly binding: number;
}

export interface Bound {
  /** The plan's bindings, in binding order (binding 0, the uniforms, comes first later). */
  readonly plan: PlanBinding[];
  /** Where a buffer is bound; throws for a buffer the kernel does not use. */
  of(buffer: string): BoundBuffer;
  has(buffer: string): boolean;
  /** Whether some use of the buffer writes it. */
  writes(buffer: string): boolean;
}

/** How a family names a bound buffer in WGSL (`qbuf`, `lin`, `k_buf`). */
export type BindingName = (buffer: string) => string;

/** `qkvbuf`, `obuf`, `auxbuf`: the softmax and linear kernels' names. */
export const bufName: BindingName = (buffer) => `${buffer}buf`;

/**
 * The binder: one binding per distinct buffer, numbered from 1 in first-use order (q, k and v
 * sharing `qkv` take one), `storage` where some use writes it and `read-only-storage` else.
 */
export function bindBuffers(uses: readonly BufferUse[], name: BindingName = bufName): Bound {
  const order = [...new Set(uses.map((u) => u.buffer))];
  const writes = (buffer: string) => uses.some((u) => u.buffer === buffer && u.write);
  const number = (buffer: string) => {
    const i = order.indexOf(buffer);
    if (i < 0) throw new Error(`internal error: buffer ${buffer} is not bound`);
    return i + 1;
  };
  return {
    plan: order.map((buffer, i) => ({
      binding: i + 1,
      buffer,
      type: writes(buffer) ? 'storage' : 'read-only-storage',
    })),
    of: (buffer) => ({ name: name(buffer), binding: number(buffer) }),
    has: (buffer) => order.includes(buffer),
    writes,
  };
}

/** Where a tensor of the attention lives: its buffer and word offset. */
export interface TensorPlace {
  readonly buffer: string;
  readonly offset: SizeExpr;
}

export interface Tensors {
  readonly q: TensorPlace;
  readonly k: TensorPlace;
  readonly v: TensorPlace;
  readonly o: TensorPlace;
}

/** What a family's plan part gets for one group: the builder and where things are. */
export interface GroupPlanContext {
  readonly ir: Attention;
  readonly group: Group;
  readonly plan: PlanBuilder;
  readonly tensors: Tensors;
  /** Head routing: the kept-row lists in `aux` a per-query kernel walks (null: every row). */
  readonly headRouting: RoutedRowsArrays | null;
}

/** How a kernel's `total` uniform counts its work. */
export type WorkCount = 'workgroups' | 'invocations';

/** Collects the kernels and steps of one plan, in order. */
export class PlanBuilder {
  readonly layout = new Layout();
  readonly steps: PlanStep[] = [];
  readonly kernels: PlanKernel[] = [];
  readonly compiled: CompiledKernel[] = [];
  readonly uniformBuffers: PlanBuffer[] = [];
  private readonly featureSet = new Set<KernelFeature>();

  constructor(readonly target: PlanTarget) {}

  /** Verifies (IR) and records a kernel with its uniform buffer and storage bindings. */
  kernel(name: string, source: KernelSource, bindings: readonly PlanBinding[]): void {
    const ready = readyKernel(name, source, this.target.profile.limits);
    ready.features.forEach((f) => this.featureSet.add(f));
    this.compiled.push({ name, ir: ready.ir });
    const uniformBuffer = `params.${name}`;
    this.uniformBuffers.push({
      name: uniformBuffer,
      kind: 'uniform',
      size: Math.ceil((ready.uniforms.length * 4) / 16) * 16,
    });
    this.kernels.push({
      name,
      entryPoint: 'main',
      wgsl: ready.wgsl,
      workgroupSize: ready.workgroupSize,
      bindings: [{ binding: 0, buffer: uniformBuffer, type: 'uniform' }, ...bindings],
      uniforms: ready.uniforms,
      uniformBuffer,
      ...(ready.loopIterations === undefined ? {} : { loopIterations: ready.loopIterations }),
    });
  }

  writeUniforms(kernel: string, when?: PlanCondition): void {
    this.steps.push({ kind: 'write-uniforms', kernel, ...(when ? { when } : {}) });
  }

  /** The dispatcher: `source`'s `total` uniform, as workgroups, folded into two dimensions. */
  dispatch(kernel: string, source: KernelSource, count: WorkCount, when?: PlanCondition): void {
    const total = source.uniforms.find((u) => u.name === 'total')?.value;
    if (total === undefined) throw new Error(`internal error: kernel ${kernel} has no total`);
    const workgroups = count === 'workgroups' ? total : size.ceilDiv(total, source.workgroupSize);
    this.dispatchWorkgroups(kernel, workgroups, when);
  }

  /** A dispatch of `workgroups` workgroups (a count the kernel's uniforms do not hold). */
  dispatchWorkgroups(kernel: string, workgroups: SizeExpr, when?: PlanCondition): void {
    this.steps.push({
      kind: 'dispatch',
      kernel,
      workgroups: this.fold(workgroups),
      ...(when ? { when } : {}),
    });
  }

  /** A kernel run once: recorded, its uniforms written, dispatched. */
  run(
    name: string,
    source: KernelSource,
    bindings: readonly PlanBinding[],
    count: WorkCount,
    when?: PlanCondition,
  ): void {
    this.kernel(name, source, bindings);
    this.writeUniforms(name, when);
    this.dispatch(name, source, count, when);
  }

  /** Workgroup counts folded into 2D when one dimension would pass the device limit. */
  fold(total: SizeExpr): [SizeExpr, SizeExpr, SizeExpr] {
    const max = this.target.maxWorkgroupsPerDimension;
    return [size.min(total, max), size.ceilDiv(total, max), 1];
  }

  /** `shader-f16` / `subgroups` where some kernel uses them, sorted. */
  features(): KernelFeature[] {
    return [...this.featureSet].sort();
  }
}
