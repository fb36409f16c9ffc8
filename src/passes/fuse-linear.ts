// Pass `fuseLinear`: turns each linear (kernelized) mechanism into its program. phi is never
// materialized: the state step applies it to k on the fly and reduces `phi(k)^T v` and
// `sum phi(k)` into small per-slot states, a scan combines the slots (exclusive prefix over
// chunks when causal, a plain sum otherwise) and the output step applies it to q. Causal
// groups add the keys of the query's own chunk exactly in the output step, so nothing is
// O(N^2) and no N x N buffer exists. FAVOR+ first gets its W drawn on the host.

import type { Attention, Group, LinearPlan, Step, Table } from '../ir/ir.js';
import { featureDim } from '../ir/ir.js';
import type { DeviceProfile } from '../target/profile.js';
import type { PassContext } from './plan-blocks.js';

/** Keys per chunk (and query rows per output workgroup); 64 keeps the intra-chunk part small. */
const CHUNK = 64;
/** Non-causal: at most this many partial states per (batch, kv head) before the sum. */
const MAX_SLOTS = 64;

export function fuseLinear(attention: Attention, context: PassContext): Attention {
  return {
    ...attention,
    groups: attention.groups.map((group) => fuseGroup(attention, group, context.profile)),
  };
}

function fuseGroup(attention: Attention, group: Group, profile: DeviceProfile): Group {
  const mechanism = group.mechanism;
  if (mechanism.kind !== 'linear') return group;
  const map = mechanism.featureMap;
  const features = featureDim(map, attention.headDim);
  const plan = chooseLinearPlan(profile, attention.headDim, attention.valueDim, features);
  const tables: Table[] = [];
  const steps: Step[] = [];
  let weights: string | null = null;
  if (map.kind === 'favor') {
    weights = `${group.name}.favor_w`;
    tables.push({
      kind: 'gaussian',
      name: weights,
      rows: map.features,
      cols: attention.headDim,
      seed: map.seed,
    });
    steps.push({ kind: 'draw-gaussian', table: weights });
  }
  const states = `${group.name}.states`;
  tables.push({
    kind: 'linear-states',
    name: states,
    features,
    valueDim: attention.valueDim,
    causal: mechanism.causal,
    plan,
  });
  steps.push(
    { kind: 'linear-chunk-states', featureMap: map, states, weights },
    { kind: 'linear-scan', states, causal: mechanism.causal },
    { kind: 'linear-output', featureMap: map, causal: mechanism.causal, states, weights },
  );
  return { ...group, tables, program: steps };
}

/**
 * The chunk is also the workgroup size, so it is capped by the profile. phi(k) of a chunk is
 * staged in workgroup memory `featureBlock` features at a time, using at most half of it (and at
 * most `chunk` features, so the chunk's invocations can sum z); when every feature fits
 * (elu1/relu at D = 64 on llvmpipe) the causal output kernel scores the chunk's keys in one
 * pass with no per-row score array. Loads and accumulators are vec4 where every width allows:
 * llvmpipe keeps small vec4 arrays in registers, and a GPU loads 16 bytes at a time.
 */
export function chooseLinearPlan(
  profile: DeviceProfile,
  headDim: number,
  valueDim: number,
  features: number,
): LinearPlan {
  const maxRows = Math.min(
    profile.limits.maxComputeInvocationsPerWorkgroup,
    profile.limits.maxComputeWorkgroupSizeX,
  );
  const chunk = floorPow2(Math.min(CHUNK, maxRows));
  const budget = Math.min(
    chunk,
    Math.floor(profile.limits.maxComputeWorkgroupStorageSize / 2 / (chunk * 4)),
  );
  const featureBlock = features <= budget ? features : Math.max(1, floorPow2(budget));
  const vectorWidth =
    headDim % 4 === 0 && valueDim % 4 === 0 && features % 4 === 0 && featureBlock % 4 === 0 ? 4 : 1;
  return { chunk, featureBlock, maxSlots: MAX_SLOTS, vectorWidth };
}

function floorPow2(x: number): number {
  let p = 1;
  while (p * 2 <= x) p *= 2;
  return p;
}
