// The schedules a tuner measures for one softmax group: planBlocks' own choice first, then the
// other variants at their default shapes, then the neighbours of the default (rows per
// workgroup and key tile halved and doubled), then scalar loads. Each is checked against the
// profile (schedule.ts) and duplicates dropped, so every candidate can run; the list is short
// on purpose (a tuner has about two seconds per kernel). Pure: no device is touched.

import type { Attention, KernelVariant, MaskLeaf } from '../ir/ir.js';
import { maskLeaves } from '../ir/ir.js';
import type { DeviceProfile } from '../target/profile.js';
import { defaultSchedule } from './plan-blocks.js';
import { describeSchedule, scheduleProblem, type Schedule } from './schedule.js';

export const DEFAULT_MAX_CANDIDATES = 8;

/**
 * Candidates for softmax group `groupName` of `attention` (the lowered or planned IR) on
 * `profile`, the default first. A group whose mask has a routed leaf gets only the default:
 * its kernel has a fixed shape, so there is nothing to choose.
 */
export function scheduleCandidates(
  attention: Attention,
  groupName: string,
  profile: DeviceProfile,
  max = DEFAULT_MAX_CANDIDATES,
): Schedule[] {
  const group = attention.groups.find((g) => g.name === groupName);
  if (group?.mechanism.kind !== 'softmax') {
    throw new Error(`'${groupName}' is not a softmax group of '${attention.name}'`);
  }
  const leaves: readonly MaskLeaf[] = maskLeaves(group.mechanism.mask);
  const base = defaultSchedule(attention, profile, leaves);
  if (leaves.some((leaf) => leaf.kind === 'routed')) return [base];
  const others = (['rowwise', 'tiled', 'subgroup'] as const)
    .filter((v: KernelVariant) => v !== base.variant)
    .map((v) => defaultSchedule(attention, profile, leaves, v));
  const wanted: Schedule[] = [
    base,
    ...others,
    { ...base, rowsPerWorkgroup: base.rowsPerWorkgroup * 2 },
    { ...base, rowsPerWorkgroup: base.rowsPerWorkgroup / 2 },
    { ...base, keyTile: base.keyTile * 2 },
    { ...base, keyTile: base.keyTile / 2 },
    ...others.flatMap((o) => [
      { ...o, rowsPerWorkgroup: o.rowsPerWorkgroup / 2 },
      { ...o, keyTile: o.keyTile * 2 },
    ]),
    { ...base, vectorWidth: 1 },
  ];
  const seen = new Set<string>();
  const candidates: Schedule[] = [];
  for (const schedule of wanted) {
    if (candidates.length >= max) break;
    const name = describeSchedule(schedule);
    if (seen.has(name) || scheduleProblem(schedule, attention, profile, leaves) !== null) continue;
    seen.add(name);
    candidates.push(schedule);
  }
  return candidates;
}
