// The KV-cache store of a causal kernelized head group: instead of keys and values it keeps
// the recurrent state S = sum phi(k) v^T (features x value_dim) and z = sum phi(k) (features)
// per (batch, kv head), f32, on the GPU: O(1) memory and O(1) work per token in the context
// length. Its kernels come compiled with the plan (`HostPlan.cacheKernels`, built by
// src/codegen/cache-kernels.ts); the cache object plugs one store in per such group.
//
// `append` stages the new tokens' phi(k) and v (the *pending* chunk) after folding the chunk
// before it into S and z; `attend` runs the queries of the pending chunk against the state
// before it plus the chunk's causal part, so query t of a chunk of T reads exactly the keys
// up to its own position, as the reference's causal prefix does. Memory besides the state: the
// pending chunk (its tokens' phi(k) and v) and the queries' phi, both the size of one call.

import type { HostPlan, PlanCacheKernels, SizeEnv } from '../../codegen/plan.js';
import { gaussianMatrix } from '../../random/index.js';
import type { DeviceTensor } from '../device-tensor-args.js';
import { assertDeviceUsable } from '../device-errors.js';
import { GrowingScratch } from './growing-scratch.js';
import { recordStorePass } from './store-pass.js';
import { CacheInputs, type CacheInput, type PlacedTensor } from './cache-inputs.js';
import { StoreKernels } from './store-kernels.js';
import { UploadClaims } from './upload-claims.js';

export type RecurrentStore = PlanCacheKernels & { readonly kind: 'recurrent' };

export interface RecurrentStateOptions {
  /** Batch entries the state keeps (the caller's tensors' axis B). */
  readonly batch: number;
}

/** Bytes of S and z of every (batch, kv head), f32. */
function summaryBytes(store: RecurrentStore, batch: number): number {
  return batch * store.kvHeads * store.features * (store.valueDim + 1) * 4;
}

/** Bytes of a store's state buffer: S and z, then FAVOR+'s W, in whole 16-byte units. */
export function stateBufferBytes(store: RecurrentStore, batch: number): number {
  const weights = store.gaussian ? store.gaussian.rows * store.gaussian.cols * 4 : 0;
  return Math.ceil((summaryBytes(store, batch) + weights) / 16) * 16;
}

/** The chunk appended last, staged but not yet folded into the state. */
interface PendingChunk {
  readonly count: number;
  readonly buffer: GPUBuffer;
}

/** The recurrent-state store of one head group; see the module comment. */
export class RecurrentState {
  readonly group: string;
  readonly batch: number;
  private readonly name: string;
  private readonly state: GPUBuffer;
  /** Bytes of S and z of every (batch, kv head); FAVOR+'s W follows them in `state`. */
  readonly stateBytes: number;
  private readonly inputs: CacheInputs;
  /**
   * The pending chunk and the queries' phi. The pending chunk is read by the fold recorded
   * before the next stage, so a grown chunk buffer keeps the old one alive (GrowingScratch).
   */
  private readonly scratch: GrowingScratch<'chunk' | 'qphi'>;
  private pending: PendingChunk | null = null;
  private folded = 0;
  private readonly claims: UploadClaims;
  private destroyed = false;

  private constructor(
    private readonly device: GPUDevice,
    plan: HostPlan,
    private readonly store: RecurrentStore,
    private readonly kernels: StoreKernels,
    batch: number,
    name: string,
  ) {
    this.group = store.group;
    this.batch = batch;
    this.name = name;
    this.inputs = new CacheInputs(device, plan, name);
    this.scratch = new GrowingScratch(device, name);
    this.claims = new UploadClaims(name);
    this.stateBytes = summaryBytes(store, batch);
    this.state = device.createBuffer({
      label: `${name}.state`,
      size: stateBufferBytes(store, batch),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    if (store.gaussian) {
      const { seed, rows, cols } = store.gaussian;
      device.queue.writeBuffer(this.state, this.stateBytes, gaussianMatrix(seed, rows, cols));
    }
  }

  /**
   * The store of head group `group` of a compiled plan, for `batch` entries; resolves once the
   * device accepted its kernels. Throws when the plan has no recurrent state for that group.
   */
  static async create(
    device: GPUDevice,
    plan: HostPlan,
    group: string,
    options: RecurrentStateOptions,
  ): Promise<RecurrentState> {
    const name = `recurrent state of group '${group}'`;
    const store = plan.cacheKernels?.find((s) => s.group === group);
    if (!store || store.kind !== 'recurrent') {
      const have = (plan.cacheKernels ?? []).map((s) => `'${s.group}'`).join(', ') || 'none';
      throw new Error(
        `${name}: the plan has no recurrent-state kernels for it (groups with them: ${have}); ` +
          'they are compiled for causal kernelized groups (kernel: elu1, relu or favor(m) with ' +
          'causal: true) without head_routing, and under dtype: f16 an even value_dim',
      );
    }
    if (!Number.isInteger(options.batch) || options.batch < 1) {
      throw new Error(`${name}: batch ${options.batch} is not a positive integer`);
    }
    assertDeviceUsable(device, name);
    const kernels = await StoreKernels.create(device, name, Object.values(store.kernels));
    return new RecurrentState(device, plan, store, kernels, options.batch, name);
  }

  /** Tokens seen since the start or the last reset (folded and pending). */
  get length(): number {
    return this.folded + (this.pending?.count ?? 0);
  }

  /** Device bytes the store holds: the state (and W), the scratch of one call, staging. */
  get bytes(): number {
    return this.state.size + this.scratch.bytes + this.inputs.bytes;
  }

  /**
   * Adds `count` new tokens: their k `[B, Hkv, T, D]` and v `[B, Hkv, T, Dv]` (the spec's
   * layout and dtype; T = count), host arrays or device tensors. Recorded into `encoder`, or
   * submitted at once without one.
   */
  async append(
    encoder: GPUCommandEncoder | null | undefined,
    k: CacheInput,
    v: CacheInput,
    count: number,
  ): Promise<void> {
    this.assertUsable();
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`${this.name}: append count ${count} is not a positive integer`);
    }
    const sizes: SizeEnv = { batch: this.batch, seqQ: 1, seqK: count };
    const placed = [this.inputs.place('k', k, sizes), this.inputs.place('v', v, sizes)];
    const { stageKeys, fold } = this.store.kernels;
    this.kernels.checkLoopBudget(stageKeys.name, sizes, `a chunk of ${count} tokens`);
    const pending = this.pending;
    const foldSizes: SizeEnv | null = pending && { ...sizes, seqK: pending.count };
    if (foldSizes) this.kernels.checkLoopBudget(fold.name, foldSizes, 'the pending chunk');
    await this.inputs.checkDevice(placed);
    this.claims.claim(encoder, placed);
    const chunkBytes = this.batch * this.store.kvHeads * count * this.chunkWords() * 4;
    await this.record(encoder, `appending ${count} tokens`, placed, (pass) => {
      if (pending && foldSizes) {
        this.kernels.dispatch(pass, fold.name, foldSizes, {
          chunk: { buffer: pending.buffer },
          state: { buffer: this.state, offset: 0, size: this.stateBytes },
        });
      }
      const chunk = this.scratch.get('chunk', chunkBytes);
      const [kT, vT] = placed as [PlacedTensor, PlacedTensor];
      this.kernels.dispatch(pass, stageKeys.name, sizes, {
        k: kT.binding,
        v: vT.binding,
        state: { buffer: this.state },
        chunk: { buffer: chunk },
      });
      this.folded += pending?.count ?? 0;
      this.pending = { count, buffer: chunk };
    });
  }

  /**
   * The output of the last `rows` tokens of the chunk appended last, each against the state
   * as of its own position: q `[B, H, rows, D]` (host or device), o `[B, H, rows, Dv]` (a
   * device tensor; only this group's heads are written).
   */
  async attend(
    encoder: GPUCommandEncoder | null | undefined,
    q: CacheInput,
    o: DeviceTensor,
    rows: number,
  ): Promise<void> {
    this.assertUsable();
    const pending = this.pending;
    if (pending === null) {
      throw new Error(
        `${this.name}: attend before any append; append the queries' own tokens (k, v) first`,
      );
    }
    if (!Number.isInteger(rows) || rows < 1 || rows > pending.count) {
      throw new Error(
        `${this.name}: attend of ${rows} query rows, but the chunk appended last has ` +
          `${pending.count} token${pending.count === 1 ? '' : 's'}; queries are the last rows ` +
          `of that chunk, so 1 <= rows <= ${pending.count}`,
      );
    }
    const sizes: SizeEnv = { batch: this.batch, seqQ: rows, seqK: pending.count };
    const placed = [this.inputs.place('q', q, sizes), this.inputs.place('o', o, sizes)];
    const { stageQueries, attend } = this.store.kernels;
    this.kernels.checkLoopBudget(stageQueries.name, sizes, `${rows} query rows`);
    this.kernels.checkLoopBudget(
      attend.name,
      sizes,
      `${rows} query rows over a chunk of ${pending.count} tokens`,
    );
    await this.inputs.checkDevice(placed);
    this.claims.claim(encoder, placed);
    const qphiBytes = this.batch * this.store.heads * rows * this.store.features * 4;
    await this.record(encoder, `attending ${rows} rows`, placed, (pass) => {
      const qphi = this.scratch.get('qphi', qphiBytes);
      const [qT, oT] = placed as [PlacedTensor, PlacedTensor];
      this.kernels.dispatch(pass, stageQueries.name, sizes, {
        q: qT.binding,
        state: { buffer: this.state },
        qphi: { buffer: qphi },
      });
      this.kernels.dispatch(pass, attend.name, sizes, {
        state: { buffer: this.state },
        chunk: { buffer: pending.buffer },
        qphi: { buffer: qphi },
        o: oT.binding,
      });
    });
  }

  /**
   * Starts over: S and z are zeroed on the GPU (recorded into `encoder`, or submitted at once)
   * and the pending chunk is dropped.
   */
  reset(encoder?: GPUCommandEncoder | null): void {
    this.assertUsable();
    const own = encoder ?? this.device.createCommandEncoder({ label: `${this.name}.reset` });
    own.clearBuffer(this.state, 0, this.stateBytes);
    if (!encoder) this.device.queue.submit([own.finish()]);
    this.pending = null;
    this.folded = 0;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.state.destroy();
    this.scratch.destroy();
    this.inputs.destroy();
    this.kernels.destroy();
  }

  /** Words of one staged token: phi(k), then v. */
  private chunkWords(): number {
    return this.store.features + this.store.valueDim;
  }

  private assertUsable(): void {
    if (this.destroyed) throw new Error(`${this.name} was destroyed (its destroy() was called)`);
    assertDeviceUsable(this.device, this.name);
  }

  private record(
    encoder: GPUCommandEncoder | null | undefined,
    what: string,
    placed: readonly PlacedTensor[],
    body: (pass: GPUComputePassEncoder) => void,
  ): Promise<void> {
    return recordStorePass(this.device, this.name, this.inputs, encoder, what, placed, body);
  }
}
