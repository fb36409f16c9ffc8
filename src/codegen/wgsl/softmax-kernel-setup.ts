// What the fused softmax kernels (kernels/softmax.ts: rowwise and tiled;
// kernels/softmax-subgroup.ts) derive alike from a fused step before building their kernel:
// the mask's leaves and the codegen context of its random leaves, where the score scale
// folds, and the uniforms every variant declares, in the order the Params struct lists them.

import type { Attention, BlockPlan, Group, Mask, Score } from '../../ir/ir.js';
import { maskLeaves } from '../../ir/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import type { MaskCodegenContext } from '../kernels/mask-exprs.js';
import type { RoutedRowsArrays } from './emit-head-routing.js';
import type { BufferSlot } from '../../kernel/ir.js';

export type Uniform = { name: string; value: SizeExpr };

/** What a fused softmax kernel is built from: the step's score, mask and block plan. */
export type FusedStep = { readonly score: Score; readonly mask: Mask; readonly plan: BlockPlan };

export interface SoftmaxBindings {
  /** WGSL variable and binding of q, k, v (possibly one packed buffer), o and aux. */
  readonly q: BufferSlot;
  readonly k: BufferSlot;
  readonly v: BufferSlot;
  readonly o: BufferSlot;
  readonly aux: BufferSlot | null;
  /** The LSE output (compile option `lse`), else absent. */
  readonly lse?: LseOutput | null;
}

/** Word offsets of each array the kernel reads (from the plan's layout). */
export interface SoftmaxArrays {
  readonly q: SizeExpr;
  readonly k: SizeExpr;
  readonly v: SizeExpr;
  readonly o: SizeExpr;
  readonly segQ: SizeExpr | null;
  readonly segK: SizeExpr | null;
  readonly segRanges: SizeExpr | null;
  /** Per random leaf (leaf order). */
  readonly random: readonly SizeExpr[];
  /** Head routing: walk kept-row lists instead of query tiles (emit-head-routing.ts). */
  readonly headRouting?: RoutedRowsArrays | null;
}

/** What of the target profile the softmax emitters use beyond the block plan. */
export interface KernelTarget {
  /** dtype f16 rows declared as `vec4<f16>` (the profile has `shader-f16`). */
  readonly nativeF16: boolean;
}

type RandomLeaf = Extract<Mask, { kind: 'random' }>;

/** Word offsets the shared uniforms point at (SoftmaxArrays less the head routing's). */
export type SetupArrays = Omit<SoftmaxArrays, 'headRouting'>;

export interface SoftmaxKernelSetup {
  readonly leaves: ReturnType<typeof maskLeaves>;
  readonly randomLeaves: readonly RandomLeaf[];
  readonly hasSegment: boolean;
  readonly context: MaskCodegenContext;
  /** softcap or alibi: the natural score is needed, so only the scale folds into q. */
  readonly modified: boolean;
  /** What q is multiplied by once per row. */
  readonly qFactor: number;
  /** Sizes, tile counts, tensor bases, then the segment tables' bases. */
  readonly uniforms: Uniform[];
  /** Per random leaf: its table's base and drawn blocks per query block (after any others). */
  readonly randomUniforms: readonly Uniform[];
}

export function softmaxKernelSetup(
  group: Group,
  step: FusedStep,
  arrays: SetupArrays,
  unitWords: number,
): SoftmaxKernelSetup {
  const { plan, score, mask } = step;
  const leaves = maskLeaves(mask);
  const randomLeaves = leaves.filter((l): l is RandomLeaf => l.kind === 'random');
  const randomOf = new Map<Mask, number>(randomLeaves.map((leaf, n) => [leaf, n]));
  const hasSegment = leaves.some((l) => l.kind === 'segment');
  const modified = score.softcap !== null || score.bias !== null;
  // Without modifiers the scale and log2(e) fold into q once per row; with them the natural
  // score is needed, so only the scale folds.
  const qFactor = modified ? score.scale : score.scale * Math.LOG2E;
  const uniforms: Uniform[] = [
    { name: 'batch', value: 'batch' },
    { name: 'seqQ', value: 'seqQ' },
    { name: 'seqK', value: 'seqK' },
    { name: 'qTiles', value: size.ceilDiv('seqQ', plan.queryTile) },
    { name: 'kTiles', value: size.ceilDiv('seqK', plan.keyTile) },
    { name: 'total', value: size.mul('batch', group.heads, size.ceilDiv('seqQ', plan.queryTile)) },
    { name: 'qBase', value: size.ceilDiv(arrays.q, unitWords) },
    { name: 'kBase', value: size.ceilDiv(arrays.k, unitWords) },
    { name: 'vBase', value: size.ceilDiv(arrays.v, unitWords) },
    { name: 'oBase', value: size.ceilDiv(arrays.o, unitWords) },
  ];
  if (hasSegment) {
    uniforms.push(
      { name: 'segQBase', value: need(arrays.segQ) },
      { name: 'segKBase', value: need(arrays.segK) },
      { name: 'segRangesBase', value: need(arrays.segRanges) },
    );
  }
  const randomUniforms = randomLeaves.flatMap((leaf, n): Uniform[] => [
    { name: `random${n}Base`, value: need(arrays.random[n]) },
    { name: `random${n}PerBlock`, value: size.min(leaf.count, size.ceilDiv('seqK', leaf.block)) },
  ]);
  return {
    leaves,
    randomLeaves,
    hasSegment,
    context: { rules: plan.rules, randomOf },
    modified,
    qFactor,
    uniforms,
    randomUniforms,
  };
}

/**
 * Where key position j's k/v row lies (codegen/plan.ts's cache symbols): row stride `kvRows`
 * per (batch, kv head), and `keySlot(j)` (kernel/blocks/layout.ts) the row of position j,
 * the identity in a plain run.
 * Kernels that address keys so declare these uniforms last, and a KV cache runs only kernels
 * that declare them (src/runtime/cache/kv-cache.ts).
 */
export const KEY_SLOT_UNIFORMS: readonly Uniform[] = [
  { name: 'kvRows', value: 'kvRows' },
  { name: 'ringPrefix', value: 'ringPrefix' },
  { name: 'ringSlots', value: 'ringSlots' },
];

/**
 * KEY_SLOT_UNIFORMS, and in a spec of several head groups the kv heads of the k/v arrays the
 * kernel reads (`keyHeadsOf`, kernel/blocks/layout.ts): `kvHeads` of them with the group's
 * first at `kvHead0`. A plain run (`kvGroupStores` = 0) reads every kv head; a KV cache that
 * keeps each group's kv heads in a store of their own sets it to 1 for this group's kernels.
 * A spec of one group keeps its exact kernel text.
 */
export function keySlotUniforms(attention: Attention, group: Group): Uniform[] {
  return keySlotUniformsOf({
    groups: attention.groups.length,
    totalKvHeads: attention.kvHeads,
    groupKvHeads: group.kvHeads,
    kvHeadOffset: group.kvHeadOffset,
  });
}

/** `keySlotUniforms` from the counts alone (route kernels know no IR group). */
export function keySlotUniformsOf(heads: {
  readonly groups: number;
  readonly totalKvHeads: number;
  readonly groupKvHeads: number;
  readonly kvHeadOffset: number;
}): Uniform[] {
  if (heads.groups < 2) return [...KEY_SLOT_UNIFORMS];
  const apart = heads.totalKvHeads - heads.groupKvHeads;
  return [
    ...KEY_SLOT_UNIFORMS,
    { name: 'kvHeads', value: size.sub(heads.totalKvHeads, size.mul('kvGroupStores', apart)) },
    { name: 'kvHead0', value: size.mul('kvGroupStores', heads.kvHeadOffset) },
  ];
}

function need(x: SizeExpr | null | undefined): SizeExpr {
  if (x === null || x === undefined)
    throw new Error('internal error: table array missing from layout');
  return x;
}

/**
 * The optional log-sum-exp output (compile option `lse`): where each softmax kernel writes
 * `log sum exp(s)` of its rows, so outputs over disjoint key ranges can be merged.
 */
export interface LseOutput {
  readonly binding: BufferSlot;
  /** Word offset of the `[B, H, Nq]` f32 array in its buffer. */
  readonly offset: SizeExpr;
}

/** The LSE store's uniforms, declared last so kernels without it keep their exact text. */
export function lseUniforms(lse: LseOutput | null | undefined): Uniform[] {
  if (!lse) return [];
  return [
    { name: 'lseBase', value: lse.offset },
    // The bits of -Infinity, for rows with no allowed key: a WGSL constant may not be
    // infinite, a value read from a uniform may.
    { name: 'lseEmpty', value: 0xff800000 },
  ];
}
