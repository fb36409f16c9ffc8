// The kernels of one KV-cache store on a device: pipelines built from the plan's compiled
// cache kernels (`HostPlan.cacheKernels`; the runtime builds no WGSL), a uniform buffer per
// kernel and set of uniform values, written once when made and never rewritten (so work recorded at several
// sizes before one submit each reads its own), and bind groups cached by what they bind.
// Shared by the stores of src/runtime/cache/; nothing here knows what a store keeps.

import type { PlanKernel, SizeEnv } from '../../codegen/plan.js';
import { evalSize } from '../../codegen/plan.js';
import { DeviceError, withErrorScopes } from '../device-errors.js';
import { createKernelPipeline } from '../kernel-pipeline.js';
import { uniformWords } from '../load-context.js';
import { LLVMPIPE_LOOP_BUDGET, deviceLoopBudget } from '../loop-budget.js';

/** A buffer region a kernel binds, by the name its plan bindings use. */
export type StoreBindings = Readonly<Record<string, GPUBufferBinding>>;

interface BuiltKernel {
  readonly kernel: PlanKernel;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

/** Stable small ids for buffers, so bind groups can be cached by what they bind. */
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;
function idOf(buffer: GPUBuffer): number {
  let id = bufferIds.get(buffer);
  if (id === undefined) {
    id = nextBufferId++;
    bufferIds.set(buffer, id);
  }
  return id;
}

/** Bind groups kept per store; the oldest goes first (a decode loop reuses a few). */
const MAX_CACHED_BIND_GROUPS = 64;

export class StoreKernels {
  private readonly built = new Map<string, BuiltKernel>();
  private readonly uniforms = new Map<string, GPUBuffer>();
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly budget: number | null;

  private constructor(
    private readonly device: GPUDevice,
    private readonly owner: string,
  ) {
    this.budget = deviceLoopBudget(device);
  }

  /** Builds every pipeline and waits until the device accepted them all. */
  static async create(
    device: GPUDevice,
    owner: string,
    kernels: readonly PlanKernel[],
  ): Promise<StoreKernels> {
    const store = new StoreKernels(device, owner);
    const scoped = withErrorScopes(device, () => {
      for (const kernel of kernels) {
        const { layout, pipeline } = createKernelPipeline(device, kernel);
        store.built.set(kernel.name, { kernel, pipeline, layout });
      }
    });
    const error = await scoped.error;
    if (error !== null) {
      throw new DeviceError(`${owner}: the device rejected its cache kernels: ${error}`);
    }
    return store;
  }

  /**
   * Throws before anything is recorded when a kernel would pass the device's loop budget at
   * these sizes (llvmpipe; docs/runtime.md), naming the kernel and the most tokens that fit.
   */
  checkLoopBudget(name: string, sizes: SizeEnv, what: string): void {
    const budget = this.budget;
    const bound = this.kernel(name).kernel.loopIterations;
    if (budget === null || bound === undefined) return;
    const needed = evalSize(bound, sizes);
    if (needed <= budget) return;
    let fits = 0;
    while (fits < sizes.seqK && evalSize(bound, { ...sizes, seqK: fits + 1 }) <= budget) fits++;
    throw new Error(
      `${this.owner}: kernel '${name}' would run up to ${needed} loop iterations per invocation ` +
        `for ${what}; this device (llvmpipe) ends every loop of an invocation after ` +
        `${LLVMPIPE_LOOP_BUDGET} in all, with no error, so the output would be wrong ` +
        `(at most ${fits} tokens per appended chunk fit; append in smaller chunks)`,
    );
  }

  /**
   * Records one dispatch of kernel `name` at `sizes` into `pass`. Its `total` uniform counts
   * invocations, or workgroups for a kernel on the low-rank grid (`count: 'workgroups'`).
   */
  dispatch(
    pass: GPUComputePassEncoder,
    name: string,
    sizes: SizeEnv,
    bindings: StoreBindings,
    count: 'invocations' | 'workgroups' = 'invocations',
  ) {
    const { kernel, pipeline, layout } = this.kernel(name);
    const entries = kernel.bindings.map((b) => {
      const resource =
        b.type === 'uniform' ? { buffer: this.uniformBuffer(kernel, sizes) } : bindings[b.buffer];
      if (resource === undefined)
        throw new Error(`internal error: ${kernel.name} binds '${b.buffer}', which was not given`);
      return { binding: b.binding, resource };
    });
    const key =
      name +
      entries
        .map(
          (e) => `|${idOf(e.resource.buffer)}@${e.resource.offset ?? 0}+${e.resource.size ?? '*'}`,
        )
        .join('');
    let group = this.bindGroups.get(key);
    if (!group) {
      group = this.device.createBindGroup({ label: name, layout, entries });
      if (this.bindGroups.size >= MAX_CACHED_BIND_GROUPS)
        this.bindGroups.delete(this.bindGroups.keys().next().value!);
      this.bindGroups.set(key, group);
    }
    const total = evalSize(kernel.uniforms.find((u) => u.name === 'total')!.value, sizes);
    const workgroups = count === 'workgroups' ? total : Math.ceil(total / kernel.workgroupSize);
    if (workgroups === 0) return;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.min(workgroups, max), Math.ceil(workgroups / max), 1);
  }

  destroy(): void {
    for (const buffer of this.uniforms.values()) buffer.destroy();
    this.uniforms.clear();
    this.bindGroups.clear();
    this.built.clear();
  }

  private kernel(name: string): BuiltKernel {
    const built = this.built.get(name);
    if (!built) throw new Error(`internal error: ${this.owner} has no kernel '${name}'`);
    return built;
  }

  /** One uniform buffer per kernel and uniform values, written once (see the module comment). */
  private uniformBuffer(kernel: PlanKernel, sizes: SizeEnv): GPUBuffer {
    const words = uniformWords(kernel, sizes);
    const key = `${kernel.name}/${words.join(',')}`;
    let buffer = this.uniforms.get(key);
    if (!buffer) {
      buffer = this.device.createBuffer({
        label: key,
        size: Math.max(16, words.byteLength),
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      this.device.queue.writeBuffer(buffer, 0, words);
      this.uniforms.set(key, buffer);
    }
    return buffer;
  }
}
