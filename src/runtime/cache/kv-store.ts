// A key/value store of a KV cache: one k and one v buffer in the spec's layout with `rows`
// positions per (batch, kv head) instead of seqK (slots.ts says which row holds which
// position), plus the per-key segment ids when the spec has a `segment` mask. It keeps a range
// of the spec's kv heads (all of them, or one head group's: group-stores.ts) and takes those
// heads' rows out of appended tensors that carry every kv head.
// Appending writes each new position's rows into its slot on the GPU (queue.writeBuffer for
// host arrays, copyBufferToBuffer for device tensors), cut into runs where the ring wraps;
// nothing is read back and nothing is allocated after creation.

import type { SlotLayout } from './slots.js';
import { slotRuns } from './slots.js';

/** The shape of what is stored, from the plan. */
export interface StoreShape {
  readonly batch: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly valueDim: number;
  readonly layout: 'bhnd' | 'bnhd';
  /** Bytes of one stored element: 4 (f32) or 2 (f16). */
  readonly element: 2 | 4;
  /** Whether per-key segment ids (u32) are kept too. */
  readonly segments: boolean;
}

/** A source of `count` positions for one tensor: a host array or a device buffer region. */
export type RowSource =
  | { readonly kind: 'host'; readonly data: ArrayBufferView }
  | { readonly kind: 'device'; readonly buffer: GPUBuffer; readonly offset: number };

export interface KvStore {
  readonly k: GPUBuffer;
  readonly v: GPUBuffer;
  readonly segK: GPUBuffer | null;
  /** Bytes held on the GPU (the three buffers as allocated). */
  readonly bytes: number;
  /** Writes positions [start, start + count) of each tensor into their slots. */
  write(
    start: number,
    count: number,
    sources: { k: RowSource; v: RowSource; segK: RowSource | null },
    encoder: GPUCommandEncoder | null,
  ): void;
  destroy(): void;
}

/** The kv heads a store keeps: `count` of them from the appended tensors' head `first`. */
export interface StoreHeads {
  readonly first: number;
  readonly count: number;
}

/** Bytes of one tensor's store, rounded up to whole 16-byte vectors (kernels read vec4s). */
export function storeBytes(
  shape: StoreShape,
  rows: number,
  width: number,
  element: number,
  heads = shape.kvHeads,
) {
  return Math.ceil((shape.batch * heads * rows * width * element) / 16) * 16;
}

export function createKvStore(
  device: GPUDevice,
  label: string,
  shape: StoreShape,
  slots: SlotLayout,
  heads: StoreHeads = { first: 0, count: shape.kvHeads },
): KvStore {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const make = (name: string, size: number) =>
    device.createBuffer({ label: `${label}.${name}`, size: Math.max(16, size), usage });
  const kBytes = storeBytes(shape, slots.rows, shape.headDim, shape.element, heads.count);
  const vBytes = storeBytes(shape, slots.rows, shape.valueDim, shape.element, heads.count);
  const segBytes = shape.segments ? Math.ceil((shape.batch * slots.rows * 4) / 16) * 16 : 0;
  const k = make('k', kBytes);
  const v = make('v', vBytes);
  const segK = shape.segments ? make('seg_k', segBytes) : null;

  /** Copies `bytes` from the source at `from` to `target` at `to`. */
  const copy = (
    source: RowSource,
    from: number,
    target: GPUBuffer,
    to: number,
    bytes: number,
    encoder: GPUCommandEncoder | null,
  ) => {
    if (source.kind === 'host') {
      const data = source.data;
      device.queue.writeBuffer(target, to, data.buffer, data.byteOffset + from, bytes);
    } else {
      if (!encoder) throw new Error('internal error: a device source without an encoder');
      encoder.copyBufferToBuffer(source.buffer, source.offset + from, target, to, bytes);
    }
  };

  return {
    k,
    v,
    segK,
    bytes: kBytes + vBytes + segBytes,
    write(start, count, sources, encoder) {
      const { batch, kvHeads, element } = shape;
      const kept = heads.count;
      const runs = slotRuns(slots, start, count);
      const tensor = (source: RowSource, target: GPUBuffer, width: number) => {
        const row = width * element;
        for (let b = 0; b < batch; b++) {
          if (shape.layout === 'bhnd') {
            // [B, Hkv, N, W]: each (batch, head) is a run of rows.
            for (let h = 0; h < kept; h++) {
              const from = (b * kvHeads + heads.first + h) * count;
              const to = (b * kept + h) * slots.rows;
              for (const r of runs) {
                copy(
                  source,
                  (from + r.from) * row,
                  target,
                  (to + r.row) * row,
                  r.count * row,
                  encoder,
                );
              }
            }
          } else if (kept === kvHeads) {
            // [B, N, Hkv, W]: a position's heads are one row of kvHeads * W.
            const all = kvHeads * row;
            for (const r of runs) {
              const from = (b * count + r.from) * all;
              const to = (b * slots.rows + r.row) * all;
              copy(source, from, target, to, r.count * all, encoder);
            }
          } else {
            // [B, N, Hkv, W] keeping some heads: one copy per position of its kept heads.
            for (const r of runs) {
              for (let n = 0; n < r.count; n++) {
                const from = ((b * count + r.from + n) * kvHeads + heads.first) * row;
                const to = (b * slots.rows + r.row + n) * kept * row;
                copy(source, from, target, to, kept * row, encoder);
              }
            }
          }
        }
      };
      tensor(sources.k, k, shape.headDim);
      tensor(sources.v, v, shape.valueDim);
      if (segK && sources.segK) {
        for (let b = 0; b < batch; b++) {
          for (const r of runs) {
            copy(
              sources.segK,
              (b * count + r.from) * 4,
              segK,
              (b * slots.rows + r.row) * 4,
              r.count * 4,
              encoder,
            );
          }
        }
      }
    },
    destroy() {
      k.destroy();
      v.destroy();
      segK?.destroy();
    },
  };
}
