// `attnc explain` for a linear (kernelized) group: what its program costs at N instead of the
// softmax tile statistics, which a linear group has none of (it never forms a score).

import type { Attention, Group } from '../ir/ir.js';
import { featureDim } from '../ir/ir.js';
import { printFeatureMap } from '../ir/linear-ir.js';

export function describeLinearGroup(ir: Attention, group: Group, n: number): string | null {
  const mechanism = group.mechanism;
  const states = group.tables.find((t) => t.kind === 'linear-states');
  if (mechanism.kind !== 'linear' || states?.kind !== 'linear-states') return null;
  const { chunk, maxSlots, featureBlock } = states.plan;
  const features = featureDim(mechanism.featureMap, ir.headDim);
  const slots = mechanism.causal
    ? Math.ceil(n / chunk)
    : Math.ceil(n / Math.max(chunk, Math.ceil(n / maxSlots)));
  const slotBytes = features * (ir.valueDim + 1) * 4;
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  return (
    [
      `-- group ${group.name} of ${ir.name} (heads ${group.headOffset}..${group.headOffset + group.heads - 1}) at N = ${n}`,
      `   linear attention, phi=${printFeatureMap(mechanism.featureMap)} (${features} features), ` +
        `${mechanism.causal ? 'causal' : 'full'}: O(N) time and memory, no score matrix`,
      `   states: ${slots} slot(s) per (batch, kv head) of ${features} x (${ir.valueDim} + 1) f32, ` +
        `${kib(slots * slotBytes)} per kv head; phi(k) staged ${featureBlock} features at a time`,
      mechanism.causal
        ? `   each query: phi(q)·(state of the chunks before its own) + its own chunk's keys up to its position (at most ${chunk})`
        : `   each query: phi(q)·S / (phi(q)·z + 1e-6) with S, z summed over the ${slots} slot(s)`,
      '',
    ].join('\n') + '\n'
  );
}
