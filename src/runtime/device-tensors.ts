// Running a loaded attention on device tensors: caller-owned `GPUBuffer`s (with byte offsets)
// for q, k, v, o and every extra input, recorded into the caller's encoder or submitted here.
// Nothing is read back and, once a size was seen, nothing is allocated: the plan's other
// buffers (uniforms, scratch, packed inputs) live in a per-attention pool that grows by
// doubling, bind groups are cached by the buffers they bind, uniforms are written only
// where the sizes changed them, and the checks of a call whose tensors match the last call's
// are not run again (device-tensor-check-memo.ts). The host-array `run` is built on top, so both
// entry points share this one path (src/runtime/host-arrays.ts); the checks before a call are
// in src/runtime/device-tensor-checks.ts.
//
// A tensor is bound in place when its plan array has a binding of its own and fills whole
// 16-byte vectors; otherwise (codegen packed it with other arrays because the device has few
// storage bindings, or its last vector is partial) it is copied on the GPU through the pool,
// in the same encoder.

import type { HostPlan, PlanArray, SizeEnv } from '../codegen/plan.js';
import { evalSize, holds } from '../codegen/plan.js';
import { gaussianMatrix } from '../random/index.js';
import type { DeviceRunArgs, TensorName } from './device-tensor-args.js';
import { createCheckMemo } from './device-tensor-check-memo.js';
import { buffersRead, inputsOnlySkippedRead, planWithout } from './cached-run-plan.js';
import { deviceRunSizes, refusedBuffer, type BoundTensor } from './device-tensor-checks.js';
import { assertDeviceUsable, DeviceError, withErrorScopes } from './device-errors.js';
import {
  drawRandomTable,
  gaussianTables,
  kernelOf,
  uniformWords,
  type LoadContext,
} from './load-context.js';
import { bufferBytes, checkRunSizes } from './run-checks.js';

export type {
  DeviceRunArgs,
  DeviceRunOptions,
  DeviceTensor,
  DeviceTensors,
  TensorName,
} from './device-tensor-args.js';

export interface TensorRunner {
  run(args: DeviceRunArgs, cached?: CachedKeys): Promise<void>;
  /** Checks that each buffer belongs to the runtime's device (see `checkBuffersBelong`). */
  checkBuffers(tensors: readonly { name: TensorName; buffer: GPUBuffer }[]): Promise<void>;
  destroy(): void;
}

/**
 * A KV cache's run (src/runtime/cache): k and v (and any other per-key input) are bound from
 * the cache's own stores, already checked there, and the sizes carry the cache symbols
 * (kvRows, ringPrefix, ringSlots) that address them.
 */
export interface CachedKeys {
  readonly sizes: SizeEnv;
  readonly tensors: readonly BoundTensor[];
  /**
   * Kernels not to run: those of head groups whose cache store computes their heads itself (a
   * recurrent state, linformer's projected rows). Buffers only they bind are not allocated
   * either, and inputs only they read (E and F) are neither taken nor copied
   * (cached-run-plan.ts).
   */
  readonly skipKernels?: ReadonlySet<string>;
  /**
   * Kernels whose results the cache keeps itself (a routed group's block means or key
   * buckets, src/runtime/cache/routed-stores.ts), by kernel name: instead of dispatching the
   * kernel, the run calls this, which records copies into the kernel's output array (before
   * the run's compute pass, so every kernel reads them).
   */
  readonly provided?: ReadonlyMap<string, ProvidedKernel>;
  /**
   * Kernels that read a store of their own head group (a KV cache that keeps each group's kv
   * heads apart, src/runtime/cache/group-stores.ts), by kernel name: the sizes their uniforms,
   * `when` and dispatch are evaluated with (the group's kvRows, ring and `kvGroupStores`), and
   * the plan buffers they bind elsewhere (k and v). `sizes` above sizes the plan's buffers.
   */
  readonly kernels?: ReadonlyMap<string, KernelOverride>;
}

/** What one kernel of a cached run sees instead of the run's sizes and bindings. */
export interface KernelOverride {
  readonly sizes: SizeEnv;
  /** Plan buffer name to the binding that replaces it for this kernel. */
  readonly bindings: ReadonlyMap<string, GPUBufferBinding>;
}

/** Records a kernel's results into place; `arrayAt` is where a plan array lies. */
export type ProvidedKernel = (
  encoder: GPUCommandEncoder,
  arrayAt: (array: string) => { readonly buffer: GPUBuffer; readonly offset: number },
) => void;

/** Buffers each device has already accepted in a probe (see `checkBuffersBelong`). */
const acceptedBuffers = new WeakMap<GPUDevice, WeakSet<GPUBuffer>>();

/** Marks a buffer the runtime created on `device` itself, so it is never probed. */
export function trustBuffer(device: GPUDevice, buffer: GPUBuffer): void {
  accepted(device).add(buffer);
}

function accepted(device: GPUDevice): WeakSet<GPUBuffer> {
  let set = acceptedBuffers.get(device);
  if (!set) {
    set = new WeakSet();
    acceptedBuffers.set(device, set);
  }
  return set;
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

/** The words [from, to) of `next` that differ from `last` (from === to when none do). */
export function changedSpan(last: Uint32Array, next: Uint32Array): [number, number] {
  let from = 0;
  while (from < next.length && last[from] === next[from]) from++;
  let to = next.length;
  while (to > from && last[to - 1] === next[to - 1]) to--;
  return [from, to];
}

/** Bind groups kept per attention; the oldest goes first (decode loops reuse a few). */
const MAX_CACHED_BIND_GROUPS = 64;

export function createTensorRunner(context: LoadContext): TensorRunner {
  const { device, plan, name, kernels, randomTables } = context;
  const pool = new Map<string, GPUBuffer>();
  // Work recorded in a caller's encoder may still use a buffer the pool outgrew: it is kept
  // until destroy() rather than destroyed under that work.
  const retired: GPUBuffer[] = [];
  const bindGroups = new Map<string, GPUBindGroup>();
  const uniformsWritten = new Map<string, Uint32Array<ArrayBuffer>>();
  // Where each table was written for `tablesSizes`; at other sizes arrays move, and another
  // array may have been written over a table's old place, so the record starts afresh.
  const tablesWritten = new Map<string, string>();
  let tablesSizes = '';
  const encoderSizes = new WeakMap<GPUCommandEncoder, string>();
  const checkTensors = createCheckMemo(plan, device.limits);
  let probe: { buffer: GPUBuffer; layout: GPUBindGroupLayout } | null = null;
  let destroyed = false;

  const limits = device.limits;
  const poolBuffer = (spec: HostPlan['buffers'][number], bytes: number): GPUBuffer => {
    const existing = pool.get(spec.name);
    if (existing && existing.size >= bytes) return existing;
    const uniform = spec.kind === 'uniform';
    const ceiling = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
    const size =
      existing && !uniform ? Math.max(bytes, Math.min(existing.size * 2, ceiling)) : bytes;
    const buffer = device.createBuffer({
      label: `${name}.${spec.name}`,
      size,
      usage: uniform
        ? GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST
        : GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    if (existing) {
      retired.push(existing);
      bindGroups.clear();
      uniformsWritten.delete(spec.name);
    }
    pool.set(spec.name, buffer);
    return buffer;
  };

  /** Records the plan's steps for checked tensors: copies in, one compute pass, copy out. */
  const record = (
    encoder: GPUCommandEncoder,
    bound: readonly BoundTensor[],
    sizes: SizeEnv,
    skip: ReadonlySet<string> = new Set(),
    provided?: ReadonlyMap<string, ProvidedKernel>,
    overrides?: ReadonlyMap<string, KernelOverride>,
  ) => {
    const bindings = new Map<string, GPUBufferBinding>();
    for (const b of bound) {
      if (b.direct) {
        bindings.set(b.array.buffer, { buffer: b.tensor.buffer, offset: b.offset, size: b.bytes });
      }
    }
    // Skipped kernels' own buffers (a kernelized group's states, sized by seqK) stay unallocated.
    const needed =
      skip.size === 0
        ? null
        : new Set([...buffersRead(plan, skip), ...bound.map((b) => b.array.buffer)]);
    for (const spec of plan.buffers) {
      if (needed && !needed.has(spec.name)) continue;
      if (!bindings.has(spec.name)) {
        bindings.set(spec.name, { buffer: poolBuffer(spec, bufferBytes(spec.size, sizes)) });
      }
    }
    const bindingOf = (buffer: string): GPUBufferBinding => {
      const binding = bindings.get(buffer);
      if (!binding) throw new Error(`plan: unknown buffer '${buffer}'`);
      return binding;
    };
    const arrays = new Map(plan.arrays.map((a) => [a.name, a]));
    const arrayOf = (array: string): PlanArray => {
      const found = arrays.get(array);
      if (!found) throw new Error(`plan: unknown array '${array}'`);
      return found;
    };
    const byName = new Map(bound.map((b) => [b.name, b]));
    const sizesKey = `${sizes.batch}/${sizes.seqQ}/${sizes.seqK}/${sizes.kvRows}/${sizes.ringPrefix}/${sizes.ringSlots}`;
    if (sizesKey !== tablesSizes) {
      tablesWritten.clear();
      tablesSizes = sizesKey;
    }
    const dispatches: { pipeline: GPUComputePipeline; group: GPUBindGroup; size: number[] }[] = [];
    const outputs: BoundTensor[] = [];
    let readsOutput = false;
    for (const step of plan.steps) {
      const override =
        step.kind === 'dispatch' || step.kind === 'write-uniforms'
          ? overrides?.get(step.kernel)
          : undefined;
      const stepSizes = override?.sizes ?? sizes;
      // A step of the path these sizes do not take (compile.ts: fused or split-K decode).
      if (
        (step.kind === 'dispatch' || step.kind === 'write-uniforms') &&
        !holds(step.when, stepSizes)
      )
        continue;
      if ((step.kind === 'dispatch' || step.kind === 'write-uniforms') && skip.has(step.kernel))
        continue;
      const provide =
        step.kind === 'dispatch' || step.kind === 'write-uniforms'
          ? provided?.get(step.kernel)
          : undefined;
      if (provide) {
        if (step.kind === 'dispatch') {
          provide(encoder, (array) => {
            const place = arrayOf(array);
            const binding = bindingOf(place.buffer);
            return {
              buffer: binding.buffer,
              offset: (binding.offset ?? 0) + evalSize(place.offset, sizes) * 4,
            };
          });
        }
        continue;
      }
      switch (step.kind) {
        case 'upload': {
          const b = byName.get(step.input);
          // An input only skipped kernels read (a linformer group's E and F next to its cache).
          if (!b && needed && !needed.has(arrayOf(step.array).buffer)) break;
          if (!b) throw new Error(`plan: input '${step.input}' was not checked`);
          if (!b.direct) {
            const target = bindingOf(b.array.buffer).buffer;
            const at = evalSize(b.array.offset, sizes) * 4;
            encoder.copyBufferToBuffer(b.tensor.buffer, b.offset, target, at, b.bytes);
          }
          break;
        }
        case 'fill-random-blocks':
        case 'fill-gaussian': {
          const array = arrayOf(step.array);
          // A table of a skipped kernel (FAVOR+'s W of a kernelized group kept as a state).
          if (needed && !needed.has(array.buffer)) break;
          const target = bindingOf(array.buffer).buffer;
          const at = evalSize(array.offset, sizes) * 4;
          const key =
            step.kind === 'fill-random-blocks'
              ? `random/${step.seed}/${step.count}/${step.block}/${sizes.seqK}`
              : `gaussian/${step.seed}/${step.rows}/${step.cols}`;
          // The pool keeps its contents, so at one size a table is written once per place.
          const where = `${key}@${idOf(target)}+${at}`;
          if (tablesWritten.get(step.array) === where) break;
          let table: Uint32Array<ArrayBuffer> | Float32Array<ArrayBuffer>;
          if (step.kind === 'fill-random-blocks') {
            let t = randomTables.get(key);
            if (!t) {
              t = drawRandomTable(step.seed, step.count, step.block, sizes.seqK);
              randomTables.set(key, t);
            }
            table = t;
          } else {
            let t = gaussianTables.get(key);
            if (!t) {
              t = gaussianMatrix(step.seed, step.rows, step.cols);
              gaussianTables.set(key, t);
            }
            table = t;
          }
          device.queue.writeBuffer(target, at, table);
          tablesWritten.set(step.array, where);
          break;
        }
        case 'write-uniforms': {
          const loaded = kernelOf(kernels, step.kernel);
          const values = uniformWords(loaded.kernel, stepSizes);
          const buffer = loaded.kernel.uniformBuffer;
          const last = uniformsWritten.get(buffer);
          // A decode step changes only the words that depend on the length: write that span.
          const [from, to] =
            last && last.length === values.length ? changedSpan(last, values) : [0, values.length];
          if (from === to) break;
          device.queue.writeBuffer(bindingOf(buffer).buffer, from * 4, values, from, to - from);
          uniformsWritten.set(buffer, values);
          break;
        }
        case 'dispatch': {
          const loaded = kernelOf(kernels, step.kernel);
          const size = step.workgroups.map((w) => evalSize(w, stepSizes));
          const max = limits.maxComputeWorkgroupsPerDimension;
          if (size.some((w) => w > max)) {
            throw new Error(
              `kernel ${step.kernel}: dispatch ${size.join('x')} exceeds maxComputeWorkgroupsPerDimension ${max}`,
            );
          }
          const entries = loaded.kernel.bindings.map((b) => ({
            binding: b.binding,
            resource: override?.bindings.get(b.buffer) ?? bindingOf(b.buffer),
          }));
          const key =
            step.kernel +
            entries
              .map(
                (e) =>
                  `|${idOf(e.resource.buffer)}@${e.resource.offset ?? 0}+${e.resource.size ?? '*'}`,
              )
              .join('');
          let group = bindGroups.get(key);
          if (!group) {
            group = device.createBindGroup({ label: step.kernel, layout: loaded.layout, entries });
            if (bindGroups.size >= MAX_CACHED_BIND_GROUPS) {
              bindGroups.delete(bindGroups.keys().next().value!);
            }
            bindGroups.set(key, group);
          }
          dispatches.push({ pipeline: loaded.pipeline, group, size });
          break;
        }
        case 'read-output': {
          readsOutput ||= step.output === 'o';
          const tensor = byName.get(step.output);
          if (tensor) outputs.push(tensor);
          break;
        }
        default: {
          const never: never = step;
          throw new Error(`plan: unknown step ${JSON.stringify(never)}`);
        }
      }
    }
    if (!readsOutput) throw new Error('plan: no read-output step');
    const pass = encoder.beginComputePass({ label: name });
    for (const d of dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.group);
      pass.dispatchWorkgroups(d.size[0]!, d.size[1]!, d.size[2]!);
    }
    pass.end();
    for (const output of outputs) {
      if (output.direct) continue;
      const source = bindingOf(output.array.buffer).buffer;
      const at = evalSize(output.array.offset, sizes) * 4;
      encoder.copyBufferToBuffer(source, at, output.tensor.buffer, output.offset, output.bytes);
    }
  };

  const probeOf = () => {
    probe ??= {
      buffer: device.createBuffer({
        label: `${name}.probe`,
        size: 16,
        usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      }),
      layout: device.createBindGroupLayout({
        label: `${name}.probe`,
        entries: [
          { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } },
        ],
      }),
    };
    return probe;
  };

  /**
   * WebGPU gives a buffer no way to name its device, so each buffer not seen before is
   * used once in work that is validated and never submitted: a bind group, or a copy in an
   * encoder that is finished and dropped. A buffer of another device fails that validation.
   */
  const checkBuffersBelong = async (
    bound: readonly { name: TensorName; tensor: { buffer: GPUBuffer } }[],
  ) => {
    const known = accepted(device);
    const fresh = new Map<GPUBuffer, { name: TensorName }>();
    for (const b of bound) if (!known.has(b.tensor.buffer)) fresh.set(b.tensor.buffer, b);
    if (fresh.size === 0) return;
    const { buffer: scratch, layout } = probeOf();
    const verdicts = [...fresh].map(([buffer, b]) => {
      const scoped = withErrorScopes(device, () => {
        if (buffer.usage & GPUBufferUsage.STORAGE) {
          device.createBindGroup({
            layout,
            entries: [{ binding: 0, resource: { buffer, offset: 0, size: 4 } }],
          });
        } else {
          const encoder = device.createCommandEncoder();
          if (buffer.usage & GPUBufferUsage.COPY_SRC)
            encoder.copyBufferToBuffer(buffer, 0, scratch, 0, 4);
          else encoder.copyBufferToBuffer(scratch, 0, buffer, 0, 4);
          encoder.finish();
        }
      });
      return scoped.error.then((error) => ({ buffer, b, error }));
    });
    for (const { buffer, b, error } of await Promise.all(verdicts)) {
      if (error === null) {
        known.add(buffer);
        continue;
      }
      throw new Error(
        refusedBuffer(
          b.name,
          error,
          'the device refused its buffer',
          ' (runtime.device, or the device given to createRuntime({ device }))',
        ),
      );
    }
  };

  const assertUsable = () => {
    context.assertUsable();
    if (destroyed) {
      throw new Error(
        `attention '${name}' was destroyed (its destroy() was called); load the module again`,
      );
    }
  };

  return {
    async checkBuffers(tensors) {
      await checkBuffersBelong(tensors.map((t) => ({ name: t.name, tensor: t })));
    },
    async run(args, cached) {
      assertUsable();
      await context.ready();
      const sizes = cached?.sizes ?? deviceRunSizes(plan, args);
      const skip = cached?.skipKernels;
      checkRunSizes(skip?.size ? planWithout(plan, skip) : plan, sizes, context.runLimits);
      const prebound = cached?.tensors ?? [];
      // Neither checked nor taken from args: the cache's own tensors, and inputs no kernel of
      // this run reads.
      const notTaken = new Set([
        ...prebound.map((b) => b.name),
        ...(skip?.size ? inputsOnlySkippedRead(plan, skip) : []),
      ]);
      const bound = [...checkTensors(args, sizes, notTaken), ...prebound];
      await checkBuffersBelong(bound);
      assertUsable();
      const at =
        `batch=${sizes.batch}, seqQ=${sizes.seqQ}, seqK=${sizes.seqK}` +
        (sizes.kvRows === undefined ? '' : ` (a cache of ${sizes.kvRows} rows)`);
      const encoder = args.encoder;
      if (encoder) {
        const earlier = encoderSizes.get(encoder);
        if (earlier !== undefined && earlier !== at) {
          throw new Error(
            `attention '${name}': this encoder already holds a run of it at ${earlier}; a loaded ` +
              `attention writes its uniforms when a run is recorded, so submit that encoder ` +
              `before recording a run at ${at} (or load the module a second time)`,
          );
        }
        encoderSizes.set(encoder, at);
      }
      const scoped = withErrorScopes(device, () => {
        if (encoder) {
          record(encoder, bound, sizes, cached?.skipKernels, cached?.provided, cached?.kernels);
          return;
        }
        const own = device.createCommandEncoder({ label: name });
        record(own, bound, sizes, cached?.skipKernels, cached?.provided, cached?.kernels);
        device.queue.submit([own.finish()]);
      });
      const error = await scoped.error;
      if (error !== null) {
        throw new DeviceError(
          `attention '${name}': ${encoder ? 'recording' : 'running'} at ${at} on device tensors: ${error}`,
        );
      }
      assertDeviceUsable(device, `attention '${name}'`);
    },
    destroy() {
      destroyed = true;
      for (const b of [...pool.values(), ...retired]) b.destroy();
      probe?.buffer.destroy();
      pool.clear();
      retired.length = 0;
      bindGroups.clear();
    },
  };
}
