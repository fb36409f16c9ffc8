// The checks a device-tensor call passes before anything is recorded, none needing device
// work: the run's sizes (given, or read off the tensors' shapes), then each tensor's
// presence, dtype, shape, offset alignment, size and usage flags, and that o overlaps no
// input. Each error names the tensor, the expected and the actual value. Which device a
// buffer belongs to needs the device, so device-tensors.ts checks that.

import type { HostPlan, PlanArray, SizeEnv } from '../codegen/plan.js';
import { evalSize } from '../codegen/plan.js';
import type { DeviceRunArgs, DeviceTensor, TensorName } from './device-tensor-args.js';
import { bufferBytes } from './run-checks.js';

/** One tensor of a call, checked: where it goes and how. */
export interface BoundTensor {
  readonly name: TensorName;
  readonly tensor: DeviceTensor;
  readonly offset: number;
  readonly array: PlanArray;
  readonly bytes: number;
  /** Bound in place (true) or copied through the pool (false). */
  readonly direct: boolean;
}

/** The run's sizes: given, else read off the shapes of q (B, Nq) and k (Nk). */
export function deviceRunSizes(plan: HostPlan, args: DeviceRunArgs): SizeEnv {
  const axis = (tensor: 'q' | 'k', dim: string): number | undefined => {
    const spec = plan.inputs.find((i) => i.name === tensor);
    const shape = args[tensor]?.shape;
    const index = spec?.dims.indexOf(dim) ?? -1;
    return shape && index >= 0 ? shape[index] : undefined;
  };
  const needed = (value: number | undefined, what: string, tensor: string, dim: string) => {
    if (value !== undefined) return value;
    throw new Error(
      `${what} is not given and tensor '${tensor}' has no shape to read it from (axis ${dim}); ` +
        `pass ${what}, or each tensor's shape`,
    );
  };
  return {
    batch: args.batch ?? axis('q', 'B') ?? 1,
    seqQ: needed(args.seqQ ?? axis('q', 'Nq'), 'seqQ', 'q', 'Nq'),
    seqK: needed(args.seqK ?? axis('k', 'Nk'), 'seqK', 'k', 'Nk'),
  };
}

const USAGE_NAMES: readonly [number, string][] = [
  [0x0001, 'MAP_READ'],
  [0x0002, 'MAP_WRITE'],
  [0x0004, 'COPY_SRC'],
  [0x0008, 'COPY_DST'],
  [0x0010, 'INDEX'],
  [0x0020, 'VERTEX'],
  [0x0040, 'UNIFORM'],
  [0x0080, 'STORAGE'],
  [0x0100, 'INDIRECT'],
  [0x0200, 'QUERY_RESOLVE'],
];

/** A buffer's usage flags by name: `STORAGE | COPY_SRC`. */
export function usageText(usage: number): string {
  const names = USAGE_NAMES.filter(([bit]) => usage & bit).map(([, n]) => n);
  return names.length > 0 ? names.join(' | ') : 'none';
}

/**
 * Whether a tensor can be bound in place (null), else why it is copied: its array must have
 * the plan buffer to itself, at offset 0, and fill whole 16-byte vectors (kernels read vec4
 * rows, so a partial last vector would fall outside a binding of exactly the tensor's bytes).
 */
function whyCopied(plan: HostPlan, array: PlanArray, sizes: SizeEnv): string | null {
  const shared = plan.arrays.some((a) => a.buffer === array.buffer && a.name !== array.name);
  const spec = plan.buffers.find((b) => b.name === array.buffer);
  const words = evalSize(array.length, sizes);
  if (shared || spec === undefined || evalSize(array.offset, sizes) !== 0) {
    return `this plan packs '${array.name}' with other arrays in one binding (the device has few storage bindings)`;
  }
  if (words % 4 !== 0 || bufferBytes(spec.size, sizes) !== words * 4) {
    return `its ${words} words do not fill whole 16-byte vectors, which the kernels read and write`;
  }
  return null;
}

/** Every check that needs no device work, each error naming the tensor and both values. */
export function checkDeviceTensors(
  plan: HostPlan,
  args: DeviceRunArgs,
  sizes: SizeEnv,
  limits: Pick<GPUSupportedLimits, 'minStorageBufferOffsetAlignment'>,
  /**
   * Tensors neither wanted nor checked here: those a KV cache binds itself (its stores) and
   * inputs no kernel of its run reads (cached-run-plan.ts).
   */
  prebound: ReadonlySet<TensorName> = new Set(),
): BoundTensor[] {
  const lseOutput = plan.outputs.find((o) => o.name === 'lse');
  const wanted = new Set<string>([
    ...plan.inputs.map((i) => i.name),
    'o',
    ...(lseOutput ? ['lse'] : []),
  ]);
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined || key in { batch: 1, seqQ: 1, seqK: 1, encoder: 1 } || wanted.has(key))
      continue;
    if (prebound.has(key as TensorName)) continue;
    if (key === 'lse') {
      throw new Error(
        `tensor 'lse': this attention was compiled without the LSE output; compile it with ` +
          `{ lse: true } to get the log-sum-exp of each row`,
      );
    }
    throw new Error(
      `tensor '${key}' is not an input of this attention (it takes ${[...wanted].join(', ')})`,
    );
  }
  const output = plan.outputs.find((o) => o.name === 'o');
  if (!output) throw new Error('plan: no output');
  const specs = [
    ...plan.inputs.map((i) => ({
      name: i.name as TensorName,
      dims: i.dims,
      shape: i.shape,
      storage: i.storage ?? i.dtype,
      written: false,
      array: plan.steps.find((s) => s.kind === 'upload' && s.input === i.name),
    })),
    {
      name: 'o' as TensorName,
      dims: output.dims,
      shape: output.shape,
      storage: output.storage ?? output.dtype,
      written: true,
      array: plan.steps.find((s) => s.kind === 'read-output' && s.output === 'o'),
    },
    ...(lseOutput && args.lse !== undefined
      ? [
          {
            name: 'lse' as TensorName,
            dims: lseOutput.dims,
            shape: lseOutput.shape,
            storage: lseOutput.storage ?? lseOutput.dtype,
            written: true,
            array: plan.steps.find((s) => s.kind === 'read-output' && s.output === 'lse'),
          },
        ]
      : []),
  ];
  const bound: BoundTensor[] = [];
  for (const spec of specs) {
    if (prebound.has(spec.name)) continue;
    const arrayName = spec.array && 'array' in spec.array ? spec.array.array : undefined;
    const array = plan.arrays.find((a) => a.name === arrayName);
    if (!array) throw new Error(`plan: tensor '${spec.name}' has no array`);
    const dims = spec.shape.map((e) => evalSize(e, sizes));
    const shapeText = `[${spec.dims.join(', ')}] = [${dims.join(', ')}]`;
    const tensor = args[spec.name];
    if (tensor === undefined) {
      throw new Error(`tensor '${spec.name}' is missing; expected ${spec.storage} ${shapeText}`);
    }
    const bytes = evalSize(array.length, sizes) * 4;
    const offset = checkTensorRegion(
      { name: spec.name, dims: spec.dims, shape: dims, storage: spec.storage, bytes },
      tensor,
      limits,
    );
    const buffer = tensor.buffer;
    const copied = whyCopied(plan, array, sizes);
    const direct = copied === null;
    const usage = (buffer as GPUBuffer).usage;
    const need = direct
      ? GPUBufferUsage.STORAGE
      : spec.written
        ? GPUBufferUsage.COPY_DST
        : GPUBufferUsage.COPY_SRC;
    if ((usage & need) === 0) {
      const why = direct
        ? `it is bound as a storage buffer`
        : `${copied}, so it is ${spec.written ? 'copied into the buffer' : 'copied out of the buffer'} on the GPU`;
      throw new Error(missingUsage(spec.name, usage, need, why));
    }
    bound.push({ name: spec.name, tensor, offset, array, bytes, direct });
  }
  // A kernel may not read and write one range, and an output would overwrite an input mid-run.
  for (const o of bound.filter((b) => b.name === 'o' || b.name === 'lse')) {
    for (const b of bound) {
      if (b === o || b.tensor.buffer !== o.tensor.buffer) continue;
      if (b.offset < o.offset + o.bytes && o.offset < b.offset + b.bytes) {
        throw new Error(
          `tensor '${o.name}' (bytes ${o.offset}..${o.offset + o.bytes}) overlaps tensor '${b.name}' ` +
            `(bytes ${b.offset}..${b.offset + b.bytes}) in the same buffer; the output needs a range of its own`,
        );
      }
    }
  }
  return bound;
}

/** What one tensor of a call must be: its name, axes, shape at the call's sizes, dtype, bytes. */
export interface TensorRegionSpec {
  readonly name: string;
  readonly dims: readonly string[];
  readonly shape: readonly number[];
  readonly storage: string;
  readonly bytes: number;
}

/**
 * The checks of one tensor that need no device work, also used by the KV-cache stores: a
 * buffer, the dtype, the shape (when given), the offset and the buffer's size. Returns the
 * offset; throws naming the tensor, the expected and the actual value.
 */
export function checkTensorRegion(
  spec: TensorRegionSpec,
  tensor: DeviceTensor,
  limits: Pick<GPUSupportedLimits, 'minStorageBufferOffsetAlignment'>,
): number {
  const dims = spec.shape;
  const elements = dims.reduce((a, b) => a * b, 1);
  const shapeText = `[${spec.dims.join(', ')}] = [${dims.join(', ')}]`;
  const buffer = (tensor as { buffer?: unknown } | null)?.buffer;
  if (
    typeof buffer !== 'object' ||
    buffer === null ||
    typeof (buffer as GPUBuffer).size !== 'number' ||
    typeof (buffer as GPUBuffer).usage !== 'number'
  ) {
    throw new Error(
      `tensor '${spec.name}': expected { buffer: GPUBuffer, dtype, offset? }, got ${describe(tensor)}` +
        (buffer === undefined ? '' : ` with buffer ${describe(buffer)}`),
    );
  }
  if (tensor.dtype !== spec.storage) {
    throw new Error(
      `tensor '${spec.name}': dtype is ${String(tensor.dtype)}, expected ${spec.storage}` +
        (spec.storage === 'f16'
          ? ' (this attention has dtype: f16: pass packed halves, two per 4-byte word, low half first)'
          : ''),
    );
  }
  if (tensor.shape !== undefined) {
    const given = tensor.shape;
    if (given.length !== dims.length) {
      throw new Error(
        `tensor '${spec.name}': shape [${given.join(', ')}] has ${given.length} axes, expected ${shapeText}`,
      );
    }
    dims.forEach((d, i) => {
      if (given[i] !== d) {
        const axis = spec.dims[i]!;
        const meaning = SIZE_OF_AXIS[axis];
        throw new Error(
          `tensor '${spec.name}': axis ${axis} is ${given[i]}, expected ${d}` +
            (meaning ? ` (${meaning}=${d})` : '') +
            `; its shape is [${given.join(', ')}], expected ${shapeText}`,
        );
      }
    });
  }
  const offset = tensor.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) {
    throw new Error(`tensor '${spec.name}': offset ${offset} is not a non-negative integer`);
  }
  const align = limits.minStorageBufferOffsetAlignment;
  if (offset % align !== 0) {
    throw new Error(
      `tensor '${spec.name}': offset ${offset} is not a multiple of the device's ` +
        `minStorageBufferOffsetAlignment (${align})`,
    );
  }
  const size = (buffer as GPUBuffer).size;
  if (offset + spec.bytes > size) {
    throw new Error(
      `tensor '${spec.name}': its buffer holds ${size} bytes, but ${spec.storage} ${shapeText} ` +
        `(${elements} elements) needs ${spec.bytes} bytes from offset ${offset}, ${offset + spec.bytes} in all`,
    );
  }
  return offset;
}

/** The error of a buffer whose usage lacks the flag `need`; `why` says what needs it. */
export function missingUsage(name: string, usage: number, need: number, why: string): string {
  return `tensor '${name}': its buffer's usage lacks ${usageText(need)} (it has ${usageText(usage)}); ${why}`;
}

/**
 * The message of a device tensor's buffer the device refused (its validation `error`): a
 * buffer of another GPUDevice, said as such with `where` to find the right one, or `refused`.
 */
export function refusedBuffer(name: string, error: string, refused: string, where = ''): string {
  const foreign = /associated with/.test(error);
  return (
    `tensor '${name}': ` +
    (foreign
      ? `its buffer belongs to another GPUDevice; device tensors must be buffers of the runtime's device${where}`
      : refused) +
    ` (the device said: ${error.split('\n')[0]})`
  );
}

const SIZE_OF_AXIS: Readonly<Record<string, string>> = { B: 'batch', Nq: 'seqQ', Nk: 'seqK' };

function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'null';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}
