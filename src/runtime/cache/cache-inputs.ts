// The tensors a KV-cache store takes: host arrays (uploaded into the store's own staging
// buffers, which grow by doubling) or device tensors `{ buffer, offset, dtype, shape }` bound
// in place, checked as runOnDevice checks them (device-tensor-checks.ts: dtype, shape,
// offset, size, usage) and probed once per buffer for its device. Shapes are the spec's
// (`plan.inputs`, `plan.outputs`) at the call's sizes: `seqK` = the appended tokens, `seqQ` =
// the query rows.

import type { HostPlan, SizeEnv } from '../../codegen/plan.js';
import { evalSize } from '../../codegen/plan.js';
import type { DeviceTensor } from '../device-tensor-args.js';
import { checkTensorRegion, missingUsage, refusedBuffer } from '../device-tensor-checks.js';
import { withErrorScopes } from '../device-errors.js';
import { packHalves } from '../f16.js';

/** A float tensor as the caller has it: on the host, or a region of a device buffer. */
export type CacheInput = Float32Array | DeviceTensor;

export type CacheTensorName = 'q' | 'k' | 'v' | 'o';

/** Where a kernel finds one tensor of a call. */
export interface PlacedTensor {
  readonly name: CacheTensorName;
  readonly binding: GPUBufferBinding;
  /** A host array, written into `binding` when the call is recorded. */
  readonly upload: Uint32Array | Float32Array | null;
}

/** Buffers each device has accepted in a probe (see `CacheInputs.checkDevice`). */
const probed = new WeakMap<GPUDevice, WeakSet<GPUBuffer>>();

export class CacheInputs {
  private readonly staging = new Map<CacheTensorName, GPUBuffer>();
  /** Outgrown staging buffers: work recorded with them may not be submitted yet. */
  private readonly retired: GPUBuffer[] = [];
  private probeLayout: GPUBindGroupLayout | null = null;

  constructor(
    private readonly device: GPUDevice,
    private readonly plan: HostPlan,
    private readonly owner: string,
  ) {}

  /** Bytes of the staging buffers (host-array inputs). */
  get bytes(): number {
    let total = 0;
    for (const b of this.staging.values()) total += b.size;
    return total;
  }

  /**
   * Checks one tensor against the spec's shape at `sizes` and says where it goes. A host
   * array's length must be the shape's; a device tensor must be bound in place (STORAGE).
   */
  place(name: CacheTensorName, tensor: CacheInput | undefined, sizes: SizeEnv): PlacedTensor {
    const spec =
      name === 'o'
        ? this.plan.outputs.find((o) => o.name === 'o')
        : this.plan.inputs.find((i) => i.name === name);
    if (!spec) throw new Error(`plan: no tensor '${name}'`);
    const storage = spec.storage ?? spec.dtype;
    const shape = spec.shape.map((e) => evalSize(e, sizes));
    const elements = shape.reduce((a, b) => a * b, 1);
    const shapeText = `[${spec.dims.join(', ')}] = [${shape.join(', ')}]`;
    const bytes = (storage === 'f16' ? Math.ceil(elements / 2) : elements) * 4;
    if (tensor === undefined || tensor === null) {
      throw new Error(
        `${this.owner}: tensor '${name}' is missing; expected ${storage} ${shapeText}`,
      );
    }
    if (tensor instanceof Float32Array) {
      if (name === 'o') {
        throw new Error(
          `${this.owner}: tensor 'o' must be a device tensor { buffer, offset?, dtype } (the store ` +
            'writes its output on the GPU and reads nothing back)',
        );
      }
      if (tensor.length !== elements) {
        throw new Error(
          `${this.owner}: tensor '${name}' has ${tensor.length} elements, expected ${shapeText} ` +
            `(${elements} elements)`,
        );
      }
      const data = storage === 'f16' ? packHalves(tensor, name) : tensor;
      return {
        name,
        binding: { buffer: this.stagingBuffer(name, bytes), offset: 0, size: bytes },
        upload: data,
      };
    }
    const offset = checkTensorRegion(
      { name, dims: spec.dims, shape, storage, bytes },
      tensor,
      this.device.limits,
    );
    if ((tensor.buffer.usage & GPUBufferUsage.STORAGE) === 0) {
      throw new Error(
        missingUsage(
          name,
          tensor.buffer.usage,
          GPUBufferUsage.STORAGE,
          'it is bound as a storage buffer',
        ),
      );
    }
    return { name, binding: { buffer: tensor.buffer, offset, size: bytes }, upload: null };
  }

  /**
   * WebGPU gives a buffer no way to name its device, so a buffer not seen before is bound
   * once in a bind group that is never used: one of another device fails that validation.
   */
  async checkDevice(tensors: readonly PlacedTensor[]): Promise<void> {
    let known = probed.get(this.device);
    if (!known) {
      known = new WeakSet();
      probed.set(this.device, known);
    }
    const fresh = tensors.filter((t) => t.upload === null && !known.has(t.binding.buffer));
    if (fresh.length === 0) return;
    this.probeLayout ??= this.device.createBindGroupLayout({
      label: `${this.owner}.probe`,
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } },
      ],
    });
    const layout = this.probeLayout;
    const verdicts = fresh.map((t) =>
      withErrorScopes(this.device, () =>
        this.device.createBindGroup({
          layout,
          entries: [{ binding: 0, resource: { buffer: t.binding.buffer, offset: 0, size: 4 } }],
        }),
      ).error.then((error) => ({ t, error })),
    );
    for (const { t, error } of await Promise.all(verdicts)) {
      if (error === null) {
        known.add(t.binding.buffer);
        continue;
      }
      throw new Error(
        `${this.owner}: ${refusedBuffer(t.name, error, 'the device refused its buffer')}`,
      );
    }
  }

  /** Writes the host arrays of a call into their staging buffers. */
  upload(tensors: readonly PlacedTensor[]): void {
    for (const t of tensors) {
      if (t.upload === null) continue;
      const data = t.upload;
      this.device.queue.writeBuffer(
        t.binding.buffer,
        0,
        data.buffer,
        data.byteOffset,
        data.byteLength,
      );
    }
  }

  destroy(): void {
    for (const b of [...this.staging.values(), ...this.retired]) b.destroy();
    this.staging.clear();
    this.retired.length = 0;
  }

  private stagingBuffer(name: CacheTensorName, bytes: number): GPUBuffer {
    const existing = this.staging.get(name);
    if (existing && existing.size >= bytes) return existing;
    const size = Math.max(16, bytes, existing ? existing.size * 2 : 0);
    const buffer = this.device.createBuffer({
      label: `${this.owner}.${name}`,
      size: Math.ceil(size / 16) * 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    if (existing) this.retired.push(existing);
    this.staging.set(name, buffer);
    return buffer;
  }
}
