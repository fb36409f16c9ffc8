// Mask evaluation (language.md sections 4 and 5): the allowed set of one query row,
// materialized as a boolean per key. Every term of a union or intersection is evaluated
// on its own and then combined, which is exactly "the union is taken after each side is
// evaluated"; `causal: true` intersects the whole result.

import type { CheckedGroup, MaskNode } from '../check/checked.js';
import { randomBlocks } from '../random/index.js';
import { clusterOf, keyBlockMeans, lshBucket, lshProjection, topkBlocks } from './data-masks.js';
import type { Matrix } from './linalg.js';

/** The primitives whose `allowed(p, j)` depends on positions alone. */
export type PositionalMask = Extract<
  MaskNode,
  {
    kind:
      'full' | 'causal' | 'window' | 'dilated' | 'stride' | 'global' | 'sink' | 'blocks' | 'random';
  }
>;

/** What one (batch, head) offers to the mask: sizes, and the data that data-dependent masks read. */
export interface MaskContext {
  readonly seqQ: number;
  readonly seqK: number;
  /** This head's query rows `[Nq][D]` (topk, cluster, lsh). */
  readonly q?: Matrix;
  /** This head's kv head's key rows `[Nk][D]` (topk, cluster, lsh). */
  readonly k?: Matrix;
  /** This head's kv head's centroids `[c][D]` (cluster). */
  readonly centroids?: Matrix;
  /** This batch's `seg_q` `[Nq]` and `seg_k` `[Nk]` (segment). */
  readonly segQ?: ArrayLike<number>;
  readonly segK?: ArrayLike<number>;
}

/** `allowed(p, j)` of a positional primitive; `seqK` fixes the number of key blocks of `random`. */
export function allowedPositional(
  mask: PositionalMask,
  p: number,
  j: number,
  seqK: number,
): boolean {
  switch (mask.kind) {
    case 'full':
      return true;
    case 'causal':
      return j <= p;
    case 'window':
      return -mask.left <= j - p && j - p <= mask.right;
    case 'dilated':
      return Math.abs(p - j) <= mask.width * mask.dilation && (p - j) % mask.dilation === 0;
    case 'stride':
      return (p - j) % mask.step === 0;
    case 'global':
      return inGlobalSet(mask, j) || inGlobalSet(mask, p);
    case 'sink':
      return j < mask.count;
    case 'blocks':
      return Math.floor(p / mask.size) === Math.floor(j / mask.size);
    case 'random': {
      const keyBlocks = Math.ceil(seqK / mask.block);
      const drawn = randomBlocks(mask.seed, Math.floor(p / mask.block), mask.count, keyBlocks);
      return drawn.includes(Math.floor(j / mask.block));
    }
    default:
      return unreachable(mask);
  }
}

function inGlobalSet(mask: Extract<MaskNode, { kind: 'global' }>, position: number): boolean {
  return position < mask.first || mask.positions.includes(position);
}

/** The language's names of the context's run-time inputs, for error messages. */
const INPUT_NAMES: Partial<Record<keyof MaskContext, string>> = { segQ: 'seg_q', segK: 'seg_k' };

/**
 * Evaluates masks row by row for one (batch, head). Key-side work of the data-dependent
 * primitives (block means, key clusters, key buckets) is cached per mask node, so a whole
 * head costs O(N^2) rather than O(N^3).
 */
export class MaskEvaluator {
  private readonly cache = new Map<MaskNode, unknown>();

  constructor(private readonly context: MaskContext) {}

  /** Allowed keys of query row `i` (position `p = i + Nk - Nq`) under `mask`, then `causal`. */
  row(mask: MaskNode, causal: boolean, i: number): boolean[] {
    const p = i + this.context.seqK - this.context.seqQ;
    const allowed = this.evaluate(mask, causal, i, p);
    return causal ? allowed.map((a, j) => a && j <= p) : allowed;
  }

  /**
   * `causalScope` is true when the node sits under an intersection with `causal` (or under
   * `causal: true`): there `topk` only chooses among earlier blocks, as MoBA does.
   */
  private evaluate(mask: MaskNode, causalScope: boolean, i: number, p: number): boolean[] {
    const { seqK } = this.context;
    switch (mask.kind) {
      case 'union': {
        const rows = mask.terms.map((t) => this.evaluate(t, causalScope, i, p));
        return range(seqK).map((j) => rows.some((r) => r[j] === true));
      }
      case 'intersect': {
        const scope = causalScope || mask.terms.some((t) => t.kind === 'causal');
        const rows = mask.terms.map((t) => this.evaluate(t, scope, i, p));
        return range(seqK).map((j) => rows.every((r) => r[j] === true));
      }
      case 'segment': {
        const segQ = this.need('segQ', mask);
        const segK = this.need('segK', mask);
        return range(seqK).map((j) => segQ[i] === segK[j]);
      }
      case 'topk': {
        const means = this.cached(mask, () =>
          keyBlockMeans(this.need('k', mask), mask.block, this.headDim(mask)),
        );
        const query = this.need('q', mask)[i] as Float64Array;
        const chosen = topkBlocks(query, means, Math.floor(p / mask.block), mask.k, causalScope);
        return range(seqK).map((j) => chosen.has(Math.floor(j / mask.block)));
      }
      case 'cluster': {
        const centroids = this.need('centroids', mask).slice(0, mask.count);
        const keyClusters = this.cached(mask, () =>
          this.need('k', mask).map((key) => clusterOf(key, centroids)),
        );
        const own = clusterOf(this.need('q', mask)[i] as Float64Array, centroids);
        return range(seqK).map((j) => keyClusters[j] === own);
      }
      case 'lsh': {
        const hashing = this.cached(mask, () => {
          const projection = lshProjection(mask.seed, this.headDim(mask), mask.buckets);
          const keys = this.need('k', mask).map((key) => lshBucket(key, projection, mask.buckets));
          return { projection, keys };
        });
        const own = lshBucket(
          this.need('q', mask)[i] as Float64Array,
          hashing.projection,
          mask.buckets,
        );
        return range(seqK).map((j) => hashing.keys[j] === own);
      }
      case 'random': {
        const byQueryBlock = this.cached(mask, () => new Map<number, Set<number>>());
        const queryBlock = Math.floor(p / mask.block);
        const keyBlocks = Math.ceil(seqK / mask.block);
        const chosen =
          byQueryBlock.get(queryBlock) ??
          new Set(randomBlocks(mask.seed, queryBlock, mask.count, keyBlocks));
        byQueryBlock.set(queryBlock, chosen);
        return range(seqK).map((j) => chosen.has(Math.floor(j / mask.block)));
      }
      case 'full':
      case 'causal':
      case 'window':
      case 'dilated':
      case 'stride':
      case 'global':
      case 'sink':
      case 'blocks':
        return range(seqK).map((j) => allowedPositional(mask, p, j, seqK));
      default:
        return unreachable(mask);
    }
  }

  private cached<T>(mask: MaskNode, compute: () => T): T {
    if (!this.cache.has(mask)) this.cache.set(mask, compute());
    return this.cache.get(mask) as T;
  }

  private need<K extends keyof MaskContext>(name: K, mask: MaskNode): NonNullable<MaskContext[K]> {
    const value = this.context[name];
    if (value === undefined) {
      const input = INPUT_NAMES[name] ?? name;
      throw new Error(`reference: mask '${mask.kind}' needs '${input}', which was not given`);
    }
    return value as NonNullable<MaskContext[K]>;
  }

  private headDim(mask: MaskNode): number {
    const first = this.need('k', mask)[0] ?? this.need('q', mask)[0];
    if (first === undefined)
      throw new Error(`reference: mask '${mask.kind}' needs at least one key row`);
    return first.length;
  }
}

/** Per-head inputs of `maskGrid`, each row-major for one batch entry and one head. */
export interface MaskGridInputs {
  readonly headDim?: number;
  /** `[Nq, D]` */
  readonly q?: Float32Array;
  /** `[Nk, D]` */
  readonly k?: Float32Array;
  /** `[c, D]` */
  readonly centroids?: Float32Array;
  /** `[Nq]` */
  readonly seg_q?: Uint32Array;
  /** `[Nk]` */
  readonly seg_k?: Uint32Array;
}

/**
 * The allowed set of one head of `group` as a grid `[Nq][Nk]` (`true` = attends), for
 * drawing small masks. Positional masks need no inputs; data-dependent ones read `inputs`.
 */
export function maskGrid(
  group: CheckedGroup,
  seqQ: number,
  seqK: number,
  inputs: MaskGridInputs = {},
): boolean[][] {
  if (!Number.isInteger(seqQ) || !Number.isInteger(seqK) || seqQ < 1 || seqQ > seqK) {
    throw new Error(
      `maskGrid: need integers 1 <= seqQ <= seqK, got seqQ = ${seqQ}, seqK = ${seqK}`,
    );
  }
  const width = inputs.headDim;
  const rowsOf = (
    name: string,
    data: Float32Array | undefined,
    count: number,
  ): Matrix | undefined => {
    if (data === undefined) return undefined;
    if (width === undefined) throw new Error(`maskGrid: input '${name}' needs headDim`);
    if (data.length !== count * width) {
      throw new Error(
        `maskGrid: input '${name}' has ${data.length} elements, expected ${count} x ${width}`,
      );
    }
    return range(count).map((n) => Float64Array.from(data.subarray(n * width, (n + 1) * width)));
  };
  const context: MaskContext = {
    seqQ,
    seqK,
    q: rowsOf('q', inputs.q, seqQ),
    k: rowsOf('k', inputs.k, seqK),
    centroids:
      inputs.centroids === undefined || width === undefined
        ? undefined
        : rowsOf('centroids', inputs.centroids, inputs.centroids.length / width),
    segQ: inputs.seg_q,
    segK: inputs.seg_k,
  };
  const evaluator = new MaskEvaluator(context);
  return range(seqQ).map((i) => evaluator.row(group.mask, group.causal, i));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
