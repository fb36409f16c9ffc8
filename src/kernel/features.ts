// The optional WebGPU features a kernel uses, read from its IR (never from WGSL text): any
// f16 type or literal needs `shader-f16`, any subgroup builtin function or input needs
// `subgroups`. The renderer
// writes the matching `enable` directives and the host plan lists them.

import type { Kernel, Type } from './ir.js';
import { walkKernel } from './walk.js';

export type KernelFeature = 'shader-f16' | 'subgroups';

/** WGSL's subgroup builtin functions (the `subgroups` extension). */
export const SUBGROUP_BUILTINS: ReadonlySet<string> = new Set([
  'subgroupAdd',
  'subgroupExclusiveAdd',
  'subgroupInclusiveAdd',
  'subgroupMul',
  'subgroupMax',
  'subgroupMin',
  'subgroupAnd',
  'subgroupOr',
  'subgroupXor',
  'subgroupAll',
  'subgroupAny',
  'subgroupBallot',
  'subgroupBroadcast',
  'subgroupBroadcastFirst',
  'subgroupElect',
  'subgroupShuffle',
  'subgroupShuffleDown',
  'subgroupShuffleUp',
  'subgroupShuffleXor',
]);

/** Features a type needs on its own (a binding's element type). */
export function featuresOfType(type: Type): KernelFeature[] {
  if (type.kind === 'array') return featuresOfType(type.element);
  return type.kind !== 'atomic' && type.scalar === 'f16' ? ['shader-f16'] : [];
}

/** Sorted, so plans list them deterministically. */
export function kernelFeatures(kernel: Kernel): KernelFeature[] {
  const used = new Set<KernelFeature>();
  if ((kernel.inputs ?? []).some((i) => i.builtin.startsWith('subgroup_'))) used.add('subgroups');
  walkKernel(kernel, {
    type: (t) => featuresOfType(t).forEach((f) => used.add(f)),
    expr: (e) => {
      if (e.kind === 'literal' && e.scalar === 'f16') used.add('shader-f16');
      if (e.kind === 'call' && SUBGROUP_BUILTINS.has(e.fn)) used.add('subgroups');
    },
  });
  return [...used].sort();
}
