// The plan executor: `load(device, { name, plan })` builds pipelines once; each `run` validates
// the caller's inputs against the plan's symbolic shapes, sizes the buffers for this (batch,
// seqQ, seqK), then interprets the plan's steps in order. It builds no WGSL: kernels come from
// the plan as text, and this module only feeds them. It takes the host plan, never the IR.

import type { HostPlan, InputName, PlanArray, PlanKernel, SizeEnv } from '../codegen/plan.js';
import { evalSize, holds } from '../codegen/plan.js';
import { gaussianMatrix } from '../random/index.js';
import { assertDeviceUsable, DeviceError, watchDevice, withErrorScopes } from './device-errors.js';
import { packHalves, unpackHalves } from './f16.js';
import { createTensorRunner, type DeviceRunArgs } from './device-tensors.js';
import { runOnHostArrays } from './host-arrays.js';
import { createKvCache, type CacheOptions, type KvCache } from './cache/kv-cache.js';
import {
  drawRandomTable,
  gaussianTables,
  kernelOf,
  uniformWords,
  type LoadContext,
  type LoadedKernel,
  type PlannedAttention,
} from './load-context.js';
import { createKernelPipeline } from './kernel-pipeline.js';
import { submitAndReadBack } from './read-back.js';
import {
  bufferBytes,
  checkRunSizes,
  deviceRunLimits,
  resolveSizes,
  validateInputs,
  type RunInputs,
  type RunOutputs,
} from './run-checks.js';

// What callers of the executor import with it (the public API re-exports these from here).
export type { PlannedAttention } from './load-context.js';
export {
  checkRunSizes,
  deviceRunLimits,
  type RunInputs,
  type RunLimits,
  type RunOutputs,
} from './run-checks.js';

/** One sized execution: buffers allocated and inputs uploaded, ready to encode (benchmarks reuse it). */
export interface PreparedRun {
  readonly sizes: SizeEnv;
  /**
   * Resolves once the device accepted the attention's kernels and this run's buffers, uploads
   * and bind groups; rejects with a DeviceError otherwise. `run` waits for it; a caller that
   * submits `encode`d work itself should await it first.
   */
  ready(): Promise<void>;
  /**
   * Records every dispatch of the plan into the caller's encoder; `beginPass` lets a harness
   * time the passes. Errors of the caller's submit reach the caller's own error scopes, or
   * the device's uncaptured-error watch, which the next runtime call reports.
   */
  encode(
    encoder: GPUCommandEncoder,
    beginPass?: (encoder: GPUCommandEncoder) => GPUComputePassEncoder,
  ): void;
  /** Submits one execution and reads `o` back. */
  run(): Promise<RunOutputs>;
  destroy(): void;
}

export interface LoadedAttention<M extends PlannedAttention = PlannedAttention> {
  /** What was loaded, as given to `load` (a compiled module, or a generated module's plan). */
  readonly compiled: M;
  /**
   * Resolves once the device has accepted every kernel (WGSL compiled, pipeline valid);
   * rejects with a DeviceError naming the attention, the kernel, the WGSL line and the
   * device's message. `run` waits for it; callers of `prepare`/`encode` should too.
   */
  ready(): Promise<void>;
  prepare(inputs: RunInputs): PreparedRun;
  /** Uploads host arrays, runs on them as device tensors, reads `o` back. */
  run(inputs: RunInputs): Promise<RunOutputs>;
  /**
   * Runs on caller-owned GPU buffers (src/runtime/device-tensors.ts): records into
   * `args.encoder` or submits itself; reads nothing back and, once warm for a size,
   * allocates nothing.
   */
  runOnDevice(args: DeviceRunArgs): Promise<void>;
  /**
   * A KV cache sized from the plan's cache section (src/runtime/cache/kv-cache.ts); throws
   * naming the group and construct when the spec cannot be decoded incrementally.
   */
  createCache(options: CacheOptions): KvCache;
  destroy(): void;
}

/** Who loaded the attention (a runtime): its own state is checked before the device's. */
export interface LoadOwner {
  /** Throws, naming `what`, once the owner can no longer be used (e.g. it was destroyed). */
  assertUsable(what: string): void;
}

/**
 * Builds the attention's pipelines (synchronously, so generated modules stay synchronous)
 * and starts checking them: see `ready`. `loadChecked` waits for the check.
 */
export function load<M extends PlannedAttention>(
  device: GPUDevice,
  compiled: M,
  owner?: LoadOwner,
): LoadedAttention<M> {
  const plan = compiled.plan;
  const name = compiled.name;
  watchDevice(device);
  owner?.assertUsable(`attention '${name}'`);
  assertDeviceUsable(device, `attention '${name}'`);
  for (const feature of plan.features ?? []) {
    if (!device.features.has(feature)) {
      throw new Error(
        `'${name}' was compiled for target '${plan.profile}' and needs the WebGPU feature ` +
          `'${feature}', which this device does not have; compile it for this device ` +
          `(compile(text, { target: runtime.profile })) or for 'portable'`,
      );
    }
  }
  const kernels = new Map<string, LoadedKernel>();
  const kernelChecks: Promise<string | null>[] = [];
  for (const kernel of plan.kernels) {
    const built = withErrorScopes(device, () => createKernelPipeline(device, kernel));
    kernels.set(kernel.name, {
      kernel,
      pipeline: built.value.pipeline,
      layout: built.value.layout,
    });
    kernelChecks.push(
      Promise.all([built.value.module.getCompilationInfo().catch(() => null), built.error]).then(
        ([info, error]) => describeKernelFailure(name, kernel, info, error),
      ),
    );
  }
  // Settles with the first kernel the device rejected, never rejects (no unhandled rejection
  // when nobody awaits it); `failure` lets synchronous calls see a settled verdict.
  let failure: DeviceError | null = null;
  const checked = Promise.all(kernelChecks).then((problems) => {
    const first = problems.find((p) => p !== null);
    failure = first ? new DeviceError(first) : null;
    return failure;
  });
  let destroyed = false;
  const assertUsable = () => {
    owner?.assertUsable(`attention '${name}'`);
    assertDeviceUsable(device, `attention '${name}'`);
    if (destroyed) {
      throw new Error(
        `attention '${name}' was destroyed (its destroy() was called); load the module again`,
      );
    }
    if (failure) throw failure;
  };
  const ready = async () => {
    const problem = await checked;
    if (problem) throw problem;
    assertUsable();
  };
  // Random tables depend only on (seed, count, block, seqK): drawn once per sequence length.
  const context: LoadContext = {
    device,
    runLimits: deviceRunLimits(device),
    plan,
    name,
    kernels,
    randomTables: new Map(),
    ready,
    assertUsable,
  };
  const runner = createTensorRunner(context);
  return {
    compiled,
    ready,
    prepare: (inputs) => {
      assertUsable();
      return prepareRun(context, inputs);
    },
    run: (inputs) => runOnHostArrays(context, runner, inputs),
    runOnDevice: (args) => runner.run(args),
    createCache: (options) => createKvCache(context, runner, options),
    destroy() {
      destroyed = true;
      runner.destroy();
      kernels.clear();
      context.randomTables.clear();
    },
  };
}

/** `load`, then waits until the device has accepted every kernel (and destroys it if not). */
export async function loadChecked<M extends PlannedAttention>(
  device: GPUDevice,
  compiled: M,
  owner?: LoadOwner,
): Promise<LoadedAttention<M>> {
  const loaded = load(device, compiled, owner);
  try {
    await loaded.ready();
  } catch (error) {
    loaded.destroy();
    throw error;
  }
  return loaded;
}

/** The device's compilation messages (with the WGSL line), else its pipeline error, else null. */
function describeKernelFailure(
  attention: string,
  kernel: PlanKernel,
  info: GPUCompilationInfo | null,
  scopeError: string | null,
): string | null {
  const where = `attention '${attention}', kernel '${kernel.name}'`;
  const errors = (info?.messages ?? []).filter((m) => m.type === 'error');
  if (errors.length > 0) {
    const lines = kernel.wgsl.split('\n');
    const described = errors.map((m) => {
      const text = lines[m.lineNum - 1];
      return (
        `  WGSL line ${m.lineNum}:${m.linePos}: ${m.message.trim()}` +
        (text === undefined ? '' : `\n    ${m.lineNum} | ${text.trimEnd()}`)
      );
    });
    return `${where}: the device rejected the kernel's WGSL:\n${described.join('\n')}`;
  }
  if (scopeError !== null) return `${where}: the device rejected the kernel (${scopeError})`;
  return null;
}

function prepareRun(context: LoadContext, inputs: RunInputs): PreparedRun {
  const { device, plan, kernels, randomTables, name } = context;
  const sizes = resolveSizes(plan, inputs);
  checkRunSizes(plan, sizes, context.runLimits);
  validateInputs(plan, inputs, sizes);
  const at = `batch=${sizes.batch}, seqQ=${sizes.seqQ}, seqK=${sizes.seqK}`;

  const created: GPUBuffer[] = [];
  let setUp: ReturnType<typeof withErrorScopes<PreparedSteps>>;
  try {
    setUp = withErrorScopes(device, () =>
      recordSteps(device, plan, kernels, randomTables, inputs, sizes, created),
    );
  } catch (error) {
    for (const b of created) b.destroy();
    throw error;
  }
  const { dispatches, out, outWords, outElements, outHalves, staging, bufferOf } = setUp.value;
  let setUpFailure: DeviceError | null = null;
  const setUpChecked = setUp.error.then((error) => {
    setUpFailure =
      error === null
        ? null
        : new DeviceError(`attention '${name}': preparing a run at ${at}: ${error}`);
    return setUpFailure;
  });
  let destroyed = false;
  const assertUsable = () => {
    context.assertUsable();
    if (destroyed) {
      throw new Error(
        `this prepared run of attention '${name}' (${at}) was destroyed (its destroy() was called); prepare it again`,
      );
    }
    if (setUpFailure) throw setUpFailure;
  };
  const ready = async () => {
    await context.ready();
    const problem = await setUpChecked;
    if (problem) throw problem;
    assertUsable();
  };

  const encode = (
    encoder: GPUCommandEncoder,
    beginPass: (e: GPUCommandEncoder) => GPUComputePassEncoder = (e) => e.beginComputePass(),
  ) => {
    assertUsable();
    const pass = beginPass(encoder);
    for (const d of dispatches) {
      pass.setPipeline(d.kernel.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
    }
    pass.end();
  };
  return {
    sizes,
    ready,
    encode,
    async run() {
      await ready();
      const bytes = await submitAndReadBack(device, {
        name,
        at,
        record: encode,
        source: bufferOf(out.buffer),
        sourceOffset: evalSize(out.offset, sizes) * 4,
        staging,
        words: outWords,
        assertUsable,
      });
      const o = outHalves
        ? unpackHalves(new Uint32Array(bytes), outElements)
        : new Float32Array(bytes);
      return { o };
    },
    destroy() {
      destroyed = true;
      for (const b of created) b.destroy();
    },
  };
}

interface PreparedSteps {
  readonly dispatches: readonly {
    readonly kernel: LoadedKernel;
    readonly bindGroup: GPUBindGroup;
    readonly workgroups: [number, number, number];
  }[];
  readonly out: PlanArray;
  readonly outWords: number;
  readonly outElements: number;
  readonly outHalves: boolean;
  readonly staging: GPUBuffer;
  readonly bufferOf: (name: string) => GPUBuffer;
}

/**
 * Allocates the plan's buffers for these sizes (pushing each onto `created`, so the caller
 * can free them if a step throws), uploads the inputs and tables, writes the uniforms and
 * builds each dispatch's bind group: everything a run needs but the command buffer.
 */
function recordSteps(
  device: GPUDevice,
  plan: HostPlan,
  kernels: ReadonlyMap<string, LoadedKernel>,
  randomTables: Map<string, Uint32Array<ArrayBuffer>>,
  inputs: RunInputs,
  sizes: SizeEnv,
  created: GPUBuffer[],
): PreparedSteps {
  const limits = device.limits;
  const buffers = new Map<string, GPUBuffer>();
  for (const spec of plan.buffers) {
    const bytes = bufferBytes(spec.size, sizes);
    const usage =
      spec.kind === 'uniform'
        ? GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST
        : GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const buffer = device.createBuffer({ label: spec.name, size: bytes, usage });
    created.push(buffer);
    buffers.set(spec.name, buffer);
  }
  const arrays = new Map(plan.arrays.map((a) => [a.name, a]));
  const arrayOf = (name: string): PlanArray => {
    const array = arrays.get(name);
    if (!array) throw new Error(`plan: unknown array '${name}'`);
    return array;
  };
  const bufferOf = (name: string): GPUBuffer => {
    const buffer = buffers.get(name);
    if (!buffer) throw new Error(`plan: unknown buffer '${name}'`);
    return buffer;
  };

  const dispatches: {
    kernel: LoadedKernel;
    bindGroup: GPUBindGroup;
    workgroups: [number, number, number];
  }[] = [];
  let output: PlanArray | null = null;
  for (const step of plan.steps) {
    // A step of the path these sizes do not take (compile.ts: fused or split-K decode).
    if ((step.kind === 'dispatch' || step.kind === 'write-uniforms') && !holds(step.when, sizes))
      continue;
    switch (step.kind) {
      case 'upload': {
        const array = arrayOf(step.array);
        const raw = inputData(inputs, step.input);
        const storage = plan.inputs.find((i) => i.name === step.input)?.storage;
        const data =
          storage === 'f16' && raw instanceof Float32Array ? packHalves(raw, step.input) : raw;
        device.queue.writeBuffer(
          bufferOf(array.buffer),
          evalSize(array.offset, sizes) * 4,
          data.buffer,
          data.byteOffset,
          data.byteLength,
        );
        break;
      }
      case 'fill-random-blocks': {
        const array = arrayOf(step.array);
        const key = `${step.seed}/${step.count}/${step.block}/${sizes.seqK}`;
        let table = randomTables.get(key);
        if (!table) {
          table = drawRandomTable(step.seed, step.count, step.block, sizes.seqK);
          randomTables.set(key, table);
        }
        device.queue.writeBuffer(bufferOf(array.buffer), evalSize(array.offset, sizes) * 4, table);
        break;
      }
      case 'fill-gaussian': {
        const array = arrayOf(step.array);
        const key = `gaussian/${step.seed}/${step.rows}/${step.cols}`;
        let matrix = gaussianTables.get(key);
        if (!matrix) {
          matrix = gaussianMatrix(step.seed, step.rows, step.cols);
          gaussianTables.set(key, matrix);
        }
        device.queue.writeBuffer(bufferOf(array.buffer), evalSize(array.offset, sizes) * 4, matrix);
        break;
      }
      case 'write-uniforms': {
        const loaded = kernelOf(kernels, step.kernel);
        const values = uniformWords(loaded.kernel, sizes);
        device.queue.writeBuffer(bufferOf(loaded.kernel.uniformBuffer), 0, values);
        break;
      }
      case 'dispatch': {
        const loaded = kernelOf(kernels, step.kernel);
        const workgroups = step.workgroups.map((w) => evalSize(w, sizes)) as [
          number,
          number,
          number,
        ];
        const max = limits.maxComputeWorkgroupsPerDimension;
        if (workgroups.some((w) => w > max)) {
          throw new Error(
            `kernel ${step.kernel}: dispatch ${workgroups.join('x')} exceeds maxComputeWorkgroupsPerDimension ${max}`,
          );
        }
        const bindGroup = device.createBindGroup({
          label: step.kernel,
          layout: loaded.layout,
          entries: loaded.kernel.bindings.map((b) => ({
            binding: b.binding,
            resource: { buffer: bufferOf(b.buffer) },
          })),
        });
        dispatches.push({ kernel: loaded, bindGroup, workgroups });
        break;
      }
      case 'read-output':
        // A prepared run reads o back; an LSE output stays in its scratch buffer.
        if (step.output === 'o') output = arrayOf(step.array);
        break;
      default: {
        const never: never = step;
        throw new Error(`plan: unknown step ${JSON.stringify(never)}`);
      }
    }
  }
  if (!output) throw new Error('plan: no read-output step');
  const out = output;
  const outWords = evalSize(out.length, sizes);
  const outSpec = plan.outputs[0];
  const outElements = outSpec
    ? outSpec.shape.reduce<number>((a, e) => a * evalSize(e, sizes), 1)
    : outWords;
  const outHalves = outSpec?.storage === 'f16';
  const staging = device.createBuffer({
    label: 'o.staging',
    size: Math.max(16, Math.ceil((outWords * 4) / 16) * 16),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  created.push(staging);

  return { dispatches, out, outWords, outElements, outHalves, staging, bufferOf };
}

function inputData(inputs: RunInputs, name: InputName): Float32Array | Uint32Array {
  const data = inputs[name];
  if (data === undefined)
    throw new Error(`input '${name}' is required by this attention but was not given`);
  return data;
}
