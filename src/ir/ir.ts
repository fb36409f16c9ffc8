// The attention IR: what lowering produces and every pass rewrites. An attention is a list of
// head groups, each running one *mechanism*; a mechanism is lowered by the fusion pass into a
// *program*, an ordered list of kernel steps over named buffers. Two families exist: softmax
// (mask + block plan, one fused step) and linear (a feature map, per-chunk states, a scan over
// them and an output step); low-rank and routed mechanisms will be further `Mechanism` and
// `Step` variants, not a rework of this shape.
// Nodes are readonly tagged unions; every switch over `kind` ends in `unreachable`.

import type { Span } from '../base/span.js';
import type { LowRankMechanism, LowRankOp } from './lowrank-ir.js';
import type { Mask, MaskKind, MaskLeaf, Routing } from './mask-ir.js';

export type Layout = 'bhnd' | 'bnhd';
export type DType = 'f32' | 'f16';

export type { Mask, MaskKind, MaskLeaf, Routing } from './mask-ir.js';

/** Score modifiers in the order language.md applies them: scale, then softcap, then bias. */
export interface Score {
  readonly scale: number;
  readonly softcap: number | null;
  readonly bias: 'alibi' | null;
}

/** How one term of the mask classifies a (query tile, key tile) pair. */
export type TileRule =
  /** A closed form in the tile bounds: no memory, no table. */
  | { readonly kind: 'closed-form'; readonly primitive: MaskKind }
  /** A compact table of r key blocks per query block, drawn on the host (`random`). */
  | { readonly kind: 'random-table'; readonly table: string }
  /** Per-tile [min, max] of the run-time segment ids, computed on the device (`segment`). */
  | { readonly kind: 'segment-ranges'; readonly table: string }
  /** Routed leaf: per-key routing tables computed on the device by a `route` step. */
  | { readonly kind: 'routing'; readonly table: string };

/** The kernel shape chosen for a device profile (see docs/compiler.md, "Kernel variants"). */
export type KernelVariant =
  /** One query row per invocation, K/V read straight from storage: best on CPU-like adapters. */
  | 'rowwise'
  /** K/V tiles staged in workgroup memory, shared by the workgroup's query rows: GPU-shaped. */
  | 'tiled'
  /**
   * Like `tiled`, but the lanes of a subgroup share each query row (strided slices of D and Dv,
   * scores reduced with `subgroupAdd`); needs the `subgroups` feature (codegen/kernels/softmax-subgroup.ts).
   */
  | 'subgroup';

export interface BlockPlan {
  readonly variant: KernelVariant;
  /** Query rows per tile (= workgroup size: one row per invocation). */
  readonly queryTile: number;
  readonly keyTile: number;
  /** Elements per vector load: 4 when head_dim and value_dim allow vec4, else 1. */
  readonly vectorWidth: 1 | 4;
  /** One rule per mask leaf, in depth-first order. */
  readonly rules: readonly TileRule[];
}

/** Softmax attention: `o_p = sum_{j in A(p)} softmax_j(s_pj) v_j`. */
export interface SoftmaxMechanism {
  readonly kind: 'softmax';
  readonly score: Score;
  readonly mask: Mask;
  /** Set by `planBlocks`. */
  readonly plan: BlockPlan | null;
  readonly span: Span;
}

/** A feature map of kernelized attention (language.md section 6). */
export type FeatureMap =
  | { readonly kind: 'elu1' }
  | { readonly kind: 'relu' }
  /** FAVOR+: `exp(W x' - |x'|^2 / 2) / sqrt(m)`, `x' = x D^(-1/4)`, W `[m, D]` from the generator. */
  | { readonly kind: 'favor'; readonly features: number; readonly seed: number };

/**
 * Kernelized (linear) attention:
 * `o_p = phi(q_p)·S / (phi(q_p)·z + 1e-6)`, `S = sum_j phi(k_j) v_j^T`, `z = sum_j phi(k_j)`
 * over every key (`causal: false`) or the keys `j <= p` (`causal: true`). The checker allows
 * no other mask, so lowering folds the mask into `causal`; `mask` says the same as an IR mask
 * (`full` or `causal`) and `plan` is always null, so code that reads any mechanism's mask or
 * plan (`attnc explain`) sees what it means.
 */
export interface LinearMechanism {
  readonly kind: 'linear';
  readonly featureMap: FeatureMap;
  readonly causal: boolean;
  readonly mask: Mask;
  readonly plan: null;
  readonly span: Span;
}

export type Mechanism = SoftmaxMechanism | LinearMechanism | LowRankMechanism;

/**
 * How a linear group's kernels cut the keys (chosen by `fuseLinear` from the profile). Keys are
 * reduced to states in slots: one slot per chunk of `chunk` keys when causal (the exclusive
 * prefix over chunks is the state before the chunk), at most `maxSlots` slots of
 * `max(chunk, ceil(Nk / maxSlots))` keys otherwise (summed into slot 0).
 */
export interface LinearPlan {
  /** Keys staged per round, causal chunk length and query rows per output workgroup. */
  readonly chunk: number;
  /** Features of phi computed per round (phi(k) of a chunk is staged `featureBlock` at a time). */
  readonly featureBlock: number;
  /** Non-causal only: the most partial states per (batch, kv head). */
  readonly maxSlots: number;
  /**
   * Elements per vector load and accumulator: 4 when head_dim, value_dim, the features and the
   * feature block allow it, else 1.
   */
  readonly vectorWidth: 1 | 4;
}

/** A run-time table that steps fill and read; its size is symbolic in the run-time sizes. */
export type Table =
  | {
      readonly kind: 'random-blocks';
      readonly name: string;
      readonly count: number;
      readonly block: number;
      readonly seed: number;
    }
  | {
      readonly kind: 'segment-ranges';
      readonly name: string;
      readonly queryTile: number;
      readonly keyTile: number;
    }
  /** Key-side routing data of one routed leaf (block means, or key buckets + bucket lists). */
  | { readonly kind: 'routing'; readonly name: string; readonly routing: Routing }
  /** `gaussianMatrix(seed, rows, cols)` f32, drawn on the host: FAVOR+'s W. */
  | {
      readonly kind: 'gaussian';
      readonly name: string;
      readonly rows: number;
      readonly cols: number;
      readonly seed: number;
    }
  /**
   * Linear attention states, f32, per (batch, kv head of the group, slot): `S` (features x
   * value_dim, row-major) then `z` (features). Never phi(K) itself.
   */
  | {
      readonly kind: 'linear-states';
      readonly name: string;
      readonly features: number;
      readonly valueDim: number;
      readonly causal: boolean;
      readonly plan: LinearPlan;
    };

/** One kernel-level step of a group's program, in execution order. */
export type Step =
  /** A kernel of a low-rank program (ir/lowrank-ir.ts, codegen/plan-lowrank.ts). */
  | { readonly kind: 'lowrank'; readonly op: LowRankOp }
  /** Host draws `random` key blocks per query block (shared generator with the reference). */
  | { readonly kind: 'draw-random-blocks'; readonly table: string }
  /** Device reduces `seg_q`/`seg_k` to per-tile [min, max]. */
  | { readonly kind: 'segment-tile-ranges'; readonly table: string }
  /** Device computes a routed leaf's key-side table (codegen/routing/emit-route.ts). */
  | { readonly kind: 'route'; readonly table: string }
  /** Score, mask, modifiers, online softmax and the value product, one pass over K/V. */
  | {
      readonly kind: 'fused-softmax';
      readonly score: Score;
      readonly mask: Mask;
      readonly plan: BlockPlan;
    }
  /** Host fills a `gaussian` table (FAVOR+'s W). */
  | { readonly kind: 'draw-gaussian'; readonly table: string }
  /** Device: `phi(k)^T v` and `sum phi(k)` of each slot's keys, phi applied on the fly. */
  | {
      readonly kind: 'linear-chunk-states';
      readonly featureMap: FeatureMap;
      readonly states: string;
      /** The `gaussian` table of FAVOR+, else null. */
      readonly weights: string | null;
    }
  /**
   * Device, over slots: causal, an exclusive prefix in place (slot c becomes the state of the
   * keys before chunk c); otherwise their sum into slot 0.
   */
  | { readonly kind: 'linear-scan'; readonly states: string; readonly causal: boolean }
  /**
   * Device: `o = phi(q)·S / (phi(q)·z + 1e-6)`; causal adds the keys of the query's own chunk
   * up to its position exactly (so it also reads k and v).
   */
  | {
      readonly kind: 'linear-output';
      readonly featureMap: FeatureMap;
      readonly causal: boolean;
      readonly states: string;
      readonly weights: string | null;
    };

export interface Group {
  readonly name: string;
  readonly span: Span;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headOffset: number;
  readonly kvHeadOffset: number;
  readonly mechanism: Mechanism;
  /** Empty until the mechanism's fusion pass; afterwards what codegen emits, in order. */
  readonly tables: readonly Table[];
  readonly program: readonly Step[];
}

export interface Attention {
  readonly kind: 'attention';
  readonly name: string;
  readonly span: Span;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly valueDim: number;
  readonly layout: Layout;
  readonly dtype: DType;
  readonly maxSeq: number | null;
  readonly groups: readonly Group[];
  /** `head_routing: top(k)` over all heads, across groups (mixture of heads, language.md 8). */
  readonly headRouting?: HeadRouting;
}

/**
 * Mixture of heads: a device step picks each query row's `k` heads from the run-time `router`
 * logits and compacts the kept rows per head, so every fused step walks only kept rows
 * (codegen/wgsl/emit-head-routing.ts).
 */
export interface HeadRouting {
  readonly k: number;
  readonly span: Span;
}

/** Exhaustiveness check for `switch` statements over IR kinds. */
export function unreachable(value: never): never {
  throw new Error(`internal error: unexpected IR node ${JSON.stringify(value)}`);
}

/** Width of phi(x) for head dim `headDim`: D for the elementwise maps, m for FAVOR+. */
export function featureDim(map: FeatureMap, headDim: number): number {
  return map.kind === 'favor' ? map.features : headDim;
}

/** Leaves of a mask, depth first (the order `BlockPlan.rules` follows). */
export function maskLeaves(mask: Mask): MaskLeaf[] {
  switch (mask.kind) {
    case 'union':
    case 'intersect':
      return mask.terms.flatMap(maskLeaves);
    default:
      return [mask];
  }
}
