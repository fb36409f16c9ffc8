// The shapes the linear-attention kernels of a group are specialized for, and the sizes the
// host and the kernels agree on: state slots, vector units, offsets. No WGSL here.

import type { Attention, FeatureMap, Group, LinearPlan } from '../ir/ir.js';
import type { SizeExpr } from './plan.js';
import { size } from './plan.js';
import { wordCodec } from '../kernel/blocks/row-codec.js';
import type { BufferSlot } from '../kernel/ir.js';

/** A storage binding: WGSL variable name and binding number (q/k/v may share one). */
export type LinearBinding = BufferSlot;

/** The shapes every linear kernel of a group is specialized for. */
export interface LinearShape {
  readonly attention: Attention;
  readonly group: Group;
  readonly map: FeatureMap;
  readonly plan: LinearPlan;
  readonly causal: boolean;
}

export type Uniforms = { name: string; value: SizeExpr }[];

/** Words of one state slot: S (features x value_dim) then z (features). */
export function slotWords(features: number, valueDim: number): number {
  return features * (valueDim + 1);
}

/** A word offset (multiple of 4) in units of the plan's vectors, for f32 arrays. */
export function inVectors(words: SizeExpr, plan: LinearPlan): SizeExpr {
  return plan.vectorWidth === 1 ? words : size.ceilDiv(words, plan.vectorWidth);
}

/** Offset uniform of a tensor, in its binding's elements: vectors under f32, words under f16. */
export function tensorBase(shape: LinearShape, words: SizeExpr): SizeExpr {
  const unit = wordCodec(shape.attention.dtype, shape.plan.vectorWidth).unitWords;
  return unit === 1 ? words : size.ceilDiv(words, unit);
}

/**
 * FW again, as a run-time uniform, for the feature loops (phi blocks and the state rows).
 * Mesa fully unrolls a loop with a constant bound, and the unrolled feature loops of a
 * linear output kernel kept llvmpipe's LLVM compiling for over ten minutes (cold cache);
 * with this bound each kernel compiles in seconds. The loops inside stay unrolled.
 */
export function featureRowsUniform(plan: LinearShape['plan']): { name: string; value: number } {
  return { name: 'featureRows', value: plan.featureBlock / plan.vectorWidth };
}

/** Slots per (batch, kv head) and keys per slot, as run-time sizes (see `LinearPlan`). */
export function linearSlots(shape: LinearShape): { slots: SizeExpr; keysPerSlot: SizeExpr } {
  const { chunk, maxSlots } = shape.plan;
  if (shape.causal) return { slots: size.ceilDiv('seqK', chunk), keysPerSlot: chunk };
  const keysPerSlot = size.max(chunk, size.ceilDiv('seqK', maxSlots));
  return { slots: size.ceilDiv('seqK', keysPerSlot), keysPerSlot };
}
