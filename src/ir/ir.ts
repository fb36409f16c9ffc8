// The attention IR: what lowering produces and every pass rewrites. An attention is a list of
// head groups, each running one *mechanism*; a mechanism is lowered by the fusion pass into a
// *program*, an ordered list of kernel steps over named buffers. Only the softmax family exists
// today; kernelized, low-rank and routed mechanisms will be new `Mechanism` and `Step` variants
// (e.g. a feature-map step and a chunked-state scan), not a rework of this shape.
// Nodes are readonly tagged unions; every switch over `kind` ends in `unreachable`.

import type { Span } from '../syntax/span.js';

export type Layout = 'bhnd' | 'bnhd';
export type DType = 'f32' | 'f16';

/**
 * A mask in canonical vocabulary. `band` is the one relative-offset primitive:
 * `lo <= j - p <= hi` (`null` = unbounded), so `causal` is `band(null, 0)` and `window(l, r)` is
 * `band(-l, r)`; that makes merging windows with each other and with `causal` plain interval work.
 */
export type Mask =
  | { readonly kind: 'all'; readonly span: Span }
  | { readonly kind: 'none'; readonly span: Span }
  | {
      readonly kind: 'band';
      readonly lo: number | null;
      readonly hi: number | null;
      readonly span: Span;
    }
  | {
      readonly kind: 'dilated';
      readonly width: number;
      readonly dilation: number;
      readonly span: Span;
    }
  | { readonly kind: 'stride'; readonly step: number; readonly span: Span }
  | {
      readonly kind: 'global';
      readonly first: number;
      readonly positions: readonly number[];
      readonly span: Span;
    }
  | { readonly kind: 'sink'; readonly count: number; readonly span: Span }
  | { readonly kind: 'blocks'; readonly size: number; readonly span: Span }
  | {
      readonly kind: 'random';
      readonly count: number;
      readonly block: number;
      readonly seed: number;
      readonly span: Span;
    }
  | { readonly kind: 'segment'; readonly span: Span }
  | { readonly kind: 'union'; readonly terms: readonly Mask[]; readonly span: Span }
  | { readonly kind: 'intersect'; readonly terms: readonly Mask[]; readonly span: Span };

export type MaskKind = Mask['kind'];
export type MaskLeaf = Exclude<Mask, { kind: 'union' | 'intersect' }>;

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
  | { readonly kind: 'segment-ranges'; readonly table: string };

/** The kernel shape chosen for a device profile (see docs/compiler.md, "Kernel variants"). */
export type KernelVariant =
  /** One query row per invocation, K/V read straight from storage: best on CPU-like adapters. */
  | 'rowwise'
  /** K/V tiles staged in workgroup memory, shared by the workgroup's query rows: GPU-shaped. */
  | 'tiled';

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

export type Mechanism = SoftmaxMechanism;

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
    };

/** One kernel-level step of a group's program, in execution order. */
export type Step =
  /** Host draws `random` key blocks per query block (shared generator with the reference). */
  | { readonly kind: 'draw-random-blocks'; readonly table: string }
  /** Device reduces `seg_q`/`seg_k` to per-tile [min, max]. */
  | { readonly kind: 'segment-tile-ranges'; readonly table: string }
  /** Score, mask, modifiers, online softmax and the value product, one pass over K/V. */
  | {
      readonly kind: 'fused-softmax';
      readonly score: Score;
      readonly mask: Mask;
      readonly plan: BlockPlan;
    };

export interface Group {
  readonly name: string;
  readonly span: Span;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headOffset: number;
  readonly kvHeadOffset: number;
  readonly mechanism: Mechanism;
  /** Empty until `fuseSoftmax`; afterwards what codegen emits, in order. */
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
}

/** Exhaustiveness check for `switch` statements over IR kinds. */
export function unreachable(value: never): never {
  throw new Error(`internal error: unexpected IR node ${JSON.stringify(value)}`);
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
