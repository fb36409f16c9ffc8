// What the kernel verifier reports: the rule a kernel breaks and a sentence naming where.
// Its own module so the verifier's parts (memory, uniformity) share it without a cycle.

export type KernelRule =
  | 'undefined-reference'
  | 'duplicate-binding'
  | 'too-many-storage-buffers'
  | 'store-to-read-only'
  | 'workgroup-memory'
  | 'workgroup-size'
  | 'nonuniform-barrier'
  | 'nonuniform-subgroup-op';

export interface KernelProblem {
  readonly rule: KernelRule;
  readonly message: string;
}
