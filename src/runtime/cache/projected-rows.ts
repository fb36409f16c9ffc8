// The KV-cache store of linformer groups (`lowrank: linformer(r)` with `max_seq`): instead of
// keys and values it keeps, per (batch, kv head), K' = sum over appended positions j of
// E[:, j] k_j^T (r x D) and V' = sum F[:, j] v_j^T (r x Dv), f32, on the GPU: the rows a plain
// run projects from all its keys, updated by each append from the new keys only, so memory
// does not grow with the context. E and F `[Hkv, r, max_seq]` are given once, to createCache
// (host arrays or device tensors, projections.ts), and kept on the GPU after the appended count
// (the `ef` buffer, laid out as the plan entry's `ef` says: codegen/kernels/projected-rows.ts),
// which the project kernel reads its first column from: a decode step writes no uniform. Only
// this store's kernels read `ef`: a hybrid's softmax groups run without E and F. `attend` runs
// the queries against the rows; linformer is non-causal, so every query sees every key
// appended so far, its own chunk's included: a plain run with Nq = the queries and Nk = the
// cache's length.
//
// One object serves every linformer group of a plan (they share E and F and the count); each
// group has its rows and its kernels (`HostPlan.cacheKernels`, kind 'projected').

import type { HostPlan, PlanProjectedKernels, SizeEnv } from '../../codegen/plan.js';
import type { DeviceTensor } from '../device-tensor-args.js';
import { assertDeviceUsable } from '../device-errors.js';
import { GrowingScratch } from './growing-scratch.js';
import { recordStorePass } from './store-pass.js';
import { CacheInputs, type CacheInput, type PlacedTensor } from './cache-inputs.js';
import { StoreKernels } from './store-kernels.js';
import { UploadClaims } from './upload-claims.js';
import { writeProjections, type CheckedProjections } from './projections.js';

export interface ProjectedRowsOptions {
  readonly batch: number;
  /** `E` and `F` `[Hkv, r, max_seq]` f32, checked (projections.ts). */
  readonly projections: CheckedProjections;
}

interface GroupRows {
  readonly entry: PlanProjectedKernels;
  /** K', V' `[B, Hkv_g, r, D + Dv]` f32. */
  readonly rows: GPUBuffer;
  readonly rowsBytes: number;
}

/** The linformer groups of a plan that a KV cache keeps projected rows for (empty: none). */
export function projectedStoresOf(plan: HostPlan): readonly PlanProjectedKernels[] {
  return (plan.cacheKernels ?? []).filter((s): s is PlanProjectedKernels => s.kind === 'projected');
}

/** Throws before anything is written when `count` more positions would pass max_seq. */
export function checkProjectedRoom(
  entries: readonly PlanProjectedKernels[],
  length: number,
  count: number,
): void {
  const entry = entries[0];
  if (!entry || length + count <= entry.maxSeq) return;
  throw new Error(
    `append: ${count} new position${count === 1 ? '' : 's'} at length ${length} would pass ` +
      `max_seq ${entry.maxSeq}: linformer group '${entry.group}' projects position j with ` +
      `column j of E and F, which have max_seq columns; nothing was written`,
  );
}

export class ProjectedRows {
  private readonly name = 'projected rows of linformer';
  private readonly inputs: CacheInputs;
  private readonly claims: UploadClaims;
  private readonly scratch: GrowingScratch<'partial'>;
  private appended = 0;
  private destroyed = false;

  private constructor(
    private readonly device: GPUDevice,
    plan: HostPlan,
    private readonly groups: readonly GroupRows[],
    private readonly kernels: StoreKernels,
    private readonly ef: GPUBuffer,
    readonly batch: number,
  ) {
    this.inputs = new CacheInputs(device, plan, this.name);
    this.scratch = new GrowingScratch(device, this.name);
    this.claims = new UploadClaims(this.name);
  }

  /**
   * The store of every linformer group of `plan`; E and F are written into it at once (before
   * this resolves), and it resolves once the device took them and the kernels.
   */
  static async create(
    device: GPUDevice,
    plan: HostPlan,
    options: ProjectedRowsOptions,
  ): Promise<ProjectedRows> {
    const entries = projectedStoresOf(plan);
    const first = entries[0];
    if (!first) throw new Error('projected rows: the plan has no linformer cache kernels');
    const name = 'projected rows of linformer';
    assertDeviceUsable(device, name);
    const layout = first.ef;
    // Only this store's kernels read E and F (a hybrid's other groups never get them).
    const ef = device.createBuffer({
      label: `${name}.ef`,
      size: Math.ceil((layout.words * 4) / 16) * 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    const written = writeProjections(device, ef, layout, first.group, options.projections);
    const groups = entries.map((entry) => {
      const rowsBytes =
        options.batch * entry.kvHeads * entry.rank * (entry.headDim + entry.valueDim) * 4;
      const rows = device.createBuffer({
        label: `${name}.${entry.group}.rows`,
        size: Math.ceil(rowsBytes / 16) * 16,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      });
      return { entry, rows, rowsBytes };
    });
    const buffers = [ef, ...groups.map((g) => g.rows)];
    written.catch(() => undefined); // awaited below, once the kernels exist
    let kernels: StoreKernels | null = null;
    try {
      kernels = await StoreKernels.create(
        device,
        name,
        entries.flatMap((e) => Object.values(e.kernels)),
      );
      await written;
    } catch (error) {
      kernels?.destroy();
      buffers.forEach((b) => b.destroy());
      throw error;
    }
    return new ProjectedRows(device, plan, groups, kernels, ef, options.batch);
  }

  /** Positions appended since the start or the last reset. */
  get length(): number {
    return this.appended;
  }

  /** Device bytes: the rows, E and F with the count, the scratch of one append, staging. */
  get bytes(): number {
    const rows = this.groups.reduce((n, g) => n + g.rows.size, 0);
    return rows + this.ef.size + this.scratch.bytes + this.inputs.bytes;
  }

  /** K', V' of a group `[B, Hkv_g, r, D + Dv]` f32, for reading (tests, debugging). */
  rowsOf(group: string): GPUBuffer {
    const found = this.groups.find((g) => g.entry.group === group);
    if (!found) throw new Error(`${this.name}: no group '${group}'`);
    return found.rows;
  }

  /**
   * Adds `count` positions: k `[B, Hkv, T, D]` and v `[B, Hkv, T, Dv]` (the spec's layout and
   * dtype), host arrays or device tensors, projected with the E, F columns at their positions.
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
    checkProjectedRoom(
      this.groups.map((g) => g.entry),
      this.appended,
      count,
    );
    const sizes: SizeEnv = { batch: this.batch, seqQ: 1, seqK: count };
    const placed = [this.inputs.place('k', k, sizes), this.inputs.place('v', v, sizes)];
    for (const { entry } of this.groups) {
      const what = `a chunk of ${count} tokens`;
      this.kernels.checkLoopBudget(entry.kernels.project.name, sizes, what);
      this.kernels.checkLoopBudget(entry.kernels.reduce.name, sizes, what);
    }
    await this.inputs.checkDevice(placed);
    this.claims.claim(encoder, placed);
    const partialBytes = Math.max(
      ...this.groups.map(({ entry: e, rowsBytes }) => Math.ceil(count / e.chunk) * rowsBytes),
    );
    const [kT, vT] = placed as [PlacedTensor, PlacedTensor];
    await this.record(encoder, `appending ${count} tokens`, placed, (pass) => {
      const partial = { buffer: this.scratch.get('partial', partialBytes) };
      const ef = { buffer: this.ef };
      for (const { entry, rows } of this.groups) {
        const { project, reduce } = entry.kernels;
        const bind = { k: kT.binding, v: vT.binding, ef, partial };
        this.kernels.dispatch(pass, project.name, sizes, bind, 'workgroups');
        this.kernels.dispatch(
          pass,
          reduce.name,
          sizes,
          { partial, rows: { buffer: rows } },
          'workgroups',
        );
      }
      // The count moves once all groups read it (every group shares E, F and the count).
      this.kernels.dispatch(pass, this.groups[0]!.entry.kernels.advance.name, sizes, { ef });
    });
    this.appended += count;
  }

  /**
   * Each of `rows` query rows (q `[B, H, rows, D]`, host or device) against the rows of every
   * key appended so far, written to its group's heads of o (a device tensor `[B, H, rows, Dv]`).
   */
  async attend(
    encoder: GPUCommandEncoder | null | undefined,
    q: CacheInput,
    o: DeviceTensor,
    rows: number,
  ): Promise<void> {
    this.assertUsable();
    if (this.appended === 0) {
      throw new Error(`${this.name}: attend before any append; append the keys (k, v) first`);
    }
    if (!Number.isInteger(rows) || rows < 1) {
      throw new Error(`${this.name}: attend of ${rows} query rows, not a positive integer`);
    }
    const sizes: SizeEnv = { batch: this.batch, seqQ: rows, seqK: this.appended };
    const placed = [this.inputs.place('q', q, sizes), this.inputs.place('o', o, sizes)];
    for (const { entry } of this.groups) {
      this.kernels.checkLoopBudget(entry.kernels.attend.name, sizes, `${rows} query rows`);
    }
    await this.inputs.checkDevice(placed);
    this.claims.claim(encoder, placed);
    const [qT, oT] = placed as [PlacedTensor, PlacedTensor];
    await this.record(encoder, `attending ${rows} rows`, placed, (pass) => {
      for (const { entry, rows: kept } of this.groups) {
        const bind = { q: qT.binding, rows: { buffer: kept }, o: oT.binding };
        this.kernels.dispatch(pass, entry.kernels.attend.name, sizes, bind, 'workgroups');
      }
    });
  }

  /** Starts over: the rows and the count zeroed on the GPU (submitted at once). */
  reset(): void {
    this.assertUsable();
    const encoder = this.device.createCommandEncoder({ label: `${this.name}.reset` });
    for (const g of this.groups) encoder.clearBuffer(g.rows);
    encoder.clearBuffer(this.ef, 0, 16);
    this.device.queue.submit([encoder.finish()]);
    this.appended = 0;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of [this.ef, ...this.groups.map((g) => g.rows)]) b.destroy();
    this.scratch.destroy();
    this.inputs.destroy();
    this.kernels.destroy();
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
