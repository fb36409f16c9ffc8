// The arguments of a device-tensor run (`runOnDevice`): a caller-owned buffer region per
// tensor, plus the optional sizes and encoder. Apart from device-tensors.ts, which runs them,
// so that device-tensor-checks.ts, which checks them, imports only their types.

import type { InputName, TensorDType } from '../codegen/plan.js';

/** A tensor that lives on the device: a region of a `GPUBuffer`, in the spec's layout. */
export interface DeviceTensor {
  readonly buffer: GPUBuffer;
  /** Bytes from the start of `buffer` (default 0); a multiple of minStorageBufferOffsetAlignment. */
  readonly offset?: number;
  /**
   * How the elements are stored: `f32`, `u32` (seg_q, seg_k), or `f16` for the float tensors
   * of a `dtype: f16` attention (two halves per 4-byte word, low half first).
   */
  readonly dtype: TensorDType;
  /** Optional; when given, checked axis by axis against the spec's shape at the call's sizes. */
  readonly shape?: readonly number[];
}

export type TensorName = InputName | 'o' | 'lse';

export type DeviceTensors = { readonly [name in 'q' | 'k' | 'v' | 'o']: DeviceTensor } & {
  readonly [name in Exclude<InputName, 'q' | 'k' | 'v'>]?: DeviceTensor;
} & {
  /**
   * The log-sum-exp of every query row, `[B, H, Nq]` f32, of a module compiled with
   * `{ lse: true }`. Optional there (without it the rows' LSE goes to scratch).
   */
  readonly lse?: DeviceTensor;
};

export interface DeviceRunOptions {
  /** Default: axis B of q's shape, else 1. */
  readonly batch?: number;
  /** Default: axis Nq of q's shape. */
  readonly seqQ?: number;
  /** Default: axis Nk of k's shape. */
  readonly seqK?: number;
  /**
   * Record into this encoder and do not submit (the caller submits). Without one, the run is
   * submitted at once. Either way nothing is read back.
   */
  readonly encoder?: GPUCommandEncoder;
}

export type DeviceRunArgs = DeviceTensors & DeviceRunOptions;
