// The host plan: everything the runtime needs to run a compiled attention, as plain JSON
// (`attnc compile` writes it to disk). Sizes are symbolic in the run-time sizes `batch`,
// `seqQ`, `seqK`, so one compiled module serves every N. Arrays are regions of buffers, so
// codegen may pack several into one binding when the device has few storage bindings
// (compatibility mode allows 4 per stage). Steps run in order; the runtime interprets them
// and never builds WGSL.

import type { CacheMemory, CacheSideTable, CacheStore } from '../base/kv-cache-shape.js';

export type SizeSymbol = 'batch' | 'seqQ' | 'seqK' | CacheSizeSymbol;

/**
 * Where the keys live when a KV cache runs the kernels (src/runtime/cache): `kvRows` rows per
 * (batch, kv head) in the k/v buffers (the row stride), and key position j at row
 * `j < ringPrefix ? j : ringPrefix + (j - ringPrefix) % ringSlots`. A plain run leaves them
 * out: rows = seqK, no prefix, and a ring too long to wrap (see `cacheSizeDefault`).
 * `kvGroupStores` is 1 when the k/v arrays hold only the kernel's head group's kv heads (a
 * KV cache's store per group, in a spec of several groups), 0 when they hold every kv head.
 */
export type CacheSizeSymbol = 'kvRows' | 'ringPrefix' | 'ringSlots' | 'kvGroupStores';

/** The run-time sizes; the cache symbols are given only by a KV cache's runs. */
export type SizeEnv = Readonly<Record<'batch' | 'seqQ' | 'seqK', number>> &
  Readonly<Partial<Record<CacheSizeSymbol, number>>>;

/** A cache symbol's value in a run without a cache: keys stored at their own positions. */
export function cacheSizeDefault(symbol: CacheSizeSymbol, env: SizeEnv): number {
  switch (symbol) {
    case 'kvRows':
      return env.seqK;
    case 'ringPrefix':
      return 0;
    case 'ringSlots':
      // j % (2^32 - 1) = j for every u32 position a kernel can see.
      return 0xffffffff;
    case 'kvGroupStores':
      return 0;
  }
}

/** An integer expression over the run-time sizes. */
export type SizeExpr =
  | number
  | SizeSymbol
  | {
      readonly op: 'add' | 'sub' | 'mul' | 'min' | 'max' | 'ceilDiv';
      readonly args: readonly SizeExpr[];
    };

// Evaluated on every run (a decode step evaluates a few hundred of these), so it walks the
// tree without allocating.
export function evalSize(expr: SizeExpr, env: SizeEnv): number {
  if (typeof expr === 'number') return expr;
  if (typeof expr === 'string') return env[expr] ?? cacheSizeDefault(expr as CacheSizeSymbol, env);
  const args = expr.args;
  switch (expr.op) {
    case 'add': {
      let sum = 0;
      for (const a of args) sum += evalSize(a, env);
      return sum;
    }
    case 'mul': {
      let product = 1;
      for (const a of args) product *= evalSize(a, env);
      return product;
    }
    case 'min': {
      let least = Infinity;
      for (const a of args) least = Math.min(least, evalSize(a, env));
      return least;
    }
    case 'max': {
      let most = -Infinity;
      for (const a of args) most = Math.max(most, evalSize(a, env));
      return most;
    }
    case 'sub':
      return evalSize(args[0] ?? 0, env) - evalSize(args[1] ?? 0, env);
    case 'ceilDiv':
      return Math.ceil(evalSize(args[0] ?? 0, env) / evalSize(args[1] ?? 0, env));
  }
}

export const size = {
  add: (...args: SizeExpr[]): SizeExpr => ({ op: 'add', args }),
  sub: (a: SizeExpr, b: SizeExpr): SizeExpr => ({ op: 'sub', args: [a, b] }),
  mul: (...args: SizeExpr[]): SizeExpr => ({ op: 'mul', args }),
  min: (...args: SizeExpr[]): SizeExpr => ({ op: 'min', args }),
  max: (...args: SizeExpr[]): SizeExpr => ({ op: 'max', args }),
  ceilDiv: (a: SizeExpr, b: SizeExpr): SizeExpr => ({ op: 'ceilDiv', args: [a, b] }),
  /** Rounds up to a multiple of `m` (16-byte alignment of vec4 regions). */
  alignUp: (a: SizeExpr, m: number): SizeExpr => ({
    op: 'mul',
    args: [{ op: 'ceilDiv', args: [a, m] }, m],
  }),
};

/** Run-time input names are part of the language (language.md section 2). */
export type InputName = 'q' | 'k' | 'v' | 'seg_q' | 'seg_k' | 'E' | 'F' | 'centroids' | 'router';

/** A run-time input the caller passes, with its shape (`dims` name each axis for errors). */
/**
 * `f16` tensors are passed and returned as Float32Array; the runtime rounds them to binary16
 * (ties to even) and stores two per u32 word, low half first.
 */
export type TensorDType = 'f32' | 'f16' | 'u32';

export interface PlanInput {
  readonly name: InputName;
  /** The typed array the caller passes: Float32Array for `f32`, Uint32Array for `u32`. */
  readonly dtype: 'f32' | 'u32';
  /**
   * How it is stored on the device: `f16` for the float tensors of a `dtype: f16` attention.
   * Absent means the same as `dtype` (plans written before f16 existed).
   */
  readonly storage?: TensorDType;
  readonly dims: readonly string[];
  readonly shape: readonly SizeExpr[];
}

/**
 * `o`, and with the compile option `lse` the log-sum-exp of every query row: `lse` `[B, H, Nq]`
 * f32, natural log, -Infinity for a row with no allowed key (docs/runtime.md).
 */
export type OutputName = 'o' | 'lse';

export interface PlanOutput {
  readonly name: OutputName;
  /** Returned as a Float32Array. */
  readonly dtype: 'f32';
  /** Absent means `f32`. */
  readonly storage?: 'f32' | 'f16';
  readonly dims: readonly string[];
  readonly shape: readonly SizeExpr[];
  readonly array: string;
}

export interface PlanBuffer {
  readonly name: string;
  readonly kind: 'storage' | 'uniform';
  /** Bytes; the runtime rounds up to a multiple of 16. */
  readonly size: SizeExpr;
}

/** A region of a buffer, in 4-byte words. */
export interface PlanArray {
  readonly name: string;
  readonly buffer: string;
  readonly offset: SizeExpr;
  readonly length: SizeExpr;
  readonly element: TensorDType;
}

export interface PlanBinding {
  readonly binding: number;
  readonly buffer: string;
  readonly type: 'uniform' | 'read-only-storage' | 'storage';
}

export interface PlanKernel {
  readonly name: string;
  readonly entryPoint: string;
  readonly wgsl: string;
  readonly workgroupSize: number;
  readonly bindings: readonly PlanBinding[];
  /** The u32 fields of its `Params` uniform, in declaration order. */
  readonly uniforms: readonly { readonly name: string; readonly value: SizeExpr }[];
  /** Buffer that holds the uniform values. */
  readonly uniformBuffer: string;
  /**
   * An upper bound of the loop iterations one invocation runs at the run-time sizes. A device
   * that ends loops after a fixed budget (llvmpipe: 65,535 per invocation) refuses a run over
   * it instead of computing a wrong answer. Absent: not known, not checked.
   */
  readonly loopIterations?: SizeExpr;
}

/**
 * A condition on the run-time sizes: `size` within [`min`, `max`] (either may be absent). A
 * step with a `when` runs only where it holds, so one plan carries alternative paths (the
 * fused softmax for many query rows, the split-K decode kernels for few: compile.ts).
 */
export interface PlanCondition {
  readonly size: SizeExpr;
  readonly min?: number;
  readonly max?: number;
}

export function holds(condition: PlanCondition | undefined, env: SizeEnv): boolean {
  if (condition === undefined) return true;
  const value = evalSize(condition.size, env);
  return (
    (condition.min === undefined || value >= condition.min) &&
    (condition.max === undefined || value <= condition.max)
  );
}

export type PlanStep =
  /** Copy a caller's input into its array. */
  | { readonly kind: 'upload'; readonly input: InputName; readonly array: string }
  /** Fill an array with `random` key blocks from src/random (`randomBlocks`), `perBlock` a u32 row each. */
  | {
      readonly kind: 'fill-random-blocks';
      readonly array: string;
      readonly seed: number;
      readonly count: number;
      readonly block: number;
    }
  /**
   * Fill an array with `gaussianMatrix(seed, rows, cols)` from src/random, row-major f32: the
   * FAVOR+ feature matrix W and the LSH rotation R, the same numbers the reference draws.
   */
  | {
      readonly kind: 'fill-gaussian';
      readonly array: string;
      readonly seed: number;
      readonly rows: number;
      readonly cols: number;
    }
  /** Evaluate a kernel's uniform fields and write them. */
  | { readonly kind: 'write-uniforms'; readonly kernel: string; readonly when?: PlanCondition }
  | {
      readonly kind: 'dispatch';
      readonly kernel: string;
      readonly workgroups: readonly [SizeExpr, SizeExpr, SizeExpr];
      /** Runs only where it holds; absent: always. */
      readonly when?: PlanCondition;
    }
  | { readonly kind: 'read-output'; readonly output: OutputName; readonly array: string };

/**
 * The kernels of one head group's KV-cache store (src/runtime/cache/), compiled with the plan
 * so that the runtime never builds WGSL. Their uniforms are over `batch`, `seqK` = the tokens
 * of an appended chunk and `seqQ` = the query rows of an attend; their bindings name the
 * store's buffers (`k`, `v`, `q`, `o`: the caller's tensors; `state`, `chunk`, `qphi`: the
 * store's own), and `uniformBuffer` is a name only (the store keeps one per size).
 */
export type PlanCacheKernels = PlanRecurrentKernels | PlanSideTableKernels | PlanProjectedKernels;

/**
 * A causal kernelized group: the recurrent state S = sum phi(k) v^T (features x valueDim) and
 * z = sum phi(k) per (batch, kv head), f32. Kernels: `stageKeys` (phi(k) and v of a chunk into
 * `chunk`), `fold` (the staged chunk into S and z), `stageQueries` (phi(q) into `qphi`),
 * `attend` (each query against S, z and the chunk's causal part, into o).
 */
export interface PlanRecurrentKernels extends PlanCacheKernelsShape {
  readonly kind: 'recurrent';
  readonly heads: number;
  readonly headOffset: number;
  readonly features: number;
  readonly valueDim: number;
  /** FAVOR+'s W, `gaussianMatrix(seed, rows, cols)`, stored after the states in `state`. */
  readonly gaussian: { readonly seed: number; readonly rows: number; readonly cols: number } | null;
  readonly kernels: {
    readonly stageKeys: PlanKernel;
    readonly fold: PlanKernel;
    readonly stageQueries: PlanKernel;
    readonly attend: PlanKernel;
  };
}

/**
 * A linformer group (max_seq): K' = E K and V' = F V `[B, Hkv_g, rank, headDim + valueDim]`
 * f32 over every appended key, with E and F kept in the store's `ef` buffer after the appended
 * count (codegen/kernels/projected-rows.ts). Kernels: `project` (a chunk's k, v times the E, F
 * columns at its positions, by chunks of `chunk` keys, into `partial`), `reduce` (the partials
 * added to `rows`), `advance` (the count in `ef`'s word 0), `attend` (q over the rows, into o).
 * The `total` of project, reduce and attend counts workgroups, advance's invocations.
 */
export interface PlanProjectedKernels extends PlanCacheKernelsShape {
  readonly kind: 'projected';
  readonly heads: number;
  readonly headOffset: number;
  readonly valueDim: number;
  readonly rank: number;
  readonly maxSeq: number;
  readonly chunk: number;
  /** Word offsets in `ef`: E after the count's 256 bytes, F at the next 256 bytes; its words. */
  readonly ef: { readonly e: number; readonly f: number; readonly words: number };
  readonly kernels: {
    readonly project: PlanKernel;
    readonly reduce: PlanKernel;
    readonly advance: PlanKernel;
    readonly attend: PlanKernel;
  };
}

/** Where the group's heads are among the attention's (every store kind has these). */
interface PlanCacheKernelsShape {
  readonly group: string;
  readonly kvHeads: number;
  readonly kvHeadOffset: number;
  readonly headDim: number;
}

/**
 * A routed mask term's side table (codegen/kernels/cache-side-tables.ts), kept next to the
 * keys: `block-means` (topk: per-block key sums and means) or `bucket-ids` (cluster / lsh: each
 * cached key's bucket). `table` is the term's routing table name in the prefill plan. Kernels:
 * `append` (the chunk's keys into the table), `advance` (the count of appended keys, kept on
 * the GPU in the table's first word). Their `seqQ` is the store's capacity.
 */
export type PlanSideTableKernels = PlanCacheKernelsShape & {
  readonly table: string;
  readonly kernels: { readonly append: PlanKernel; readonly advance: PlanKernel };
} & (
    | { readonly kind: 'block-means'; readonly block: number }
    | {
        readonly kind: 'bucket-ids';
        readonly routing: 'cluster' | 'lsh';
        readonly buckets: number;
        /** cluster: centroids per kv head in the `centroids` input `[Hkv, c, D]`. */
        readonly centroidsPerHead: number;
        /** lsh: R `[D, n/2]`, `gaussianMatrix(seed, rows, cols)`. */
        readonly projection: {
          readonly seed: number;
          readonly rows: number;
          readonly cols: number;
        } | null;
      }
  );

/**
 * What a decode loop keeps per head group (src/ir/cache-plan.ts), carried in the plan so a
 * loaded attention, generated modules included, can create its KV cache without the IR. The
 * store, side table and memory types are the IR's own, from base/kv-cache-shape.ts.
 */
export interface PlanCache {
  readonly groups: readonly PlanCacheGroup[];
  /** `head_routing`: heads are chosen per step from that step's router logits. */
  readonly headRouting: boolean;
}

export type PlanCacheGroup =
  | {
      readonly ok: true;
      readonly group: string;
      readonly heads: number;
      readonly kvHeads: number;
      readonly kvHeadOffset: number;
      readonly store: CacheStore;
      readonly side: readonly CacheSideTable[];
      readonly memory: CacheMemory;
    }
  /** Cannot be decoded incrementally: the construct in spec words, and why. */
  | {
      readonly ok: false;
      readonly group: string;
      readonly construct: string;
      readonly message: string;
    };

export interface HostPlan {
  readonly version: 1;
  readonly inputs: readonly PlanInput[];
  readonly outputs: readonly PlanOutput[];
  readonly buffers: readonly PlanBuffer[];
  readonly arrays: readonly PlanArray[];
  readonly kernels: readonly PlanKernel[];
  readonly steps: readonly PlanStep[];
  /** Run-time conditions on the sizes, checked before anything is uploaded. */
  readonly constraints: {
    readonly maxSeqK: number | null;
    /** Least seqQ and seqK (nystrom: one row per landmark); absent means 1. */
    readonly minSeq?: number;
  };
  /**
   * Optional WebGPU features the kernels enable (`enable subgroups;`): the device must have
   * them. Absent or empty for plans that run on every device.
   */
  readonly features?: readonly ('subgroups' | 'shader-f16')[];
  /** Limits the plan was compiled against; the runtime checks buffers against the device's. */
  readonly profile: string;
  /** Kernels of the KV-cache stores, per head group that has one (codegen/cache-kernels.ts). */
  readonly cacheKernels?: readonly PlanCacheKernels[];
  /** The KV cache plan; absent in plans written before the cache existed (no `createCache`). */
  readonly cache?: PlanCache;
}
