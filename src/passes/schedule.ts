// A softmax group's schedule: which kernel variant runs it and with what shape. `planBlocks`
// picks one from the device profile; a caller (the tuner in src/api/tune.ts, or a user who
// measured) may give its own per group. A given schedule is checked here against the spec and
// the profile: one the device cannot run, or the emitters cannot build, is rejected with an
// error that names the group and the problem, never quietly replaced by another.
//
// The parameters are the ones the softmax emitters take today. Each invocation owns one query
// row, so `rowsPerWorkgroup` is also the workgroup size of `rowwise` and `tiled`; the
// `subgroup` kernel always runs SUBGROUP_WORKGROUP_SIZE invocations, whatever its row tile.

import type { Attention, KernelVariant, MaskLeaf } from '../ir/ir.js';
import type { DeviceProfile } from '../target/profile.js';

export interface Schedule {
  readonly variant: KernelVariant;
  /** Query rows per workgroup (`queryTile` of the block plan). */
  readonly rowsPerWorkgroup: number;
  /** Keys per tile: the unit of mask classification, and of K/V staging in `tiled`/`subgroup`. */
  readonly keyTile: number;
  /** Elements per vector load of q, k, v and o rows. */
  readonly vectorWidth: 1 | 4;
}

/**
 * Schedules by softmax group name; `'*'` applies to every softmax group that has no entry of
 * its own. Fields left out take planBlocks' choice for the schedule's variant.
 */
export type ScheduleOverrides = Readonly<Record<string, Partial<Schedule>>>;

/** Invocations of the subgroup kernel: every WebGPU device allows 128 (compatibility minimum). */
export const SUBGROUP_WORKGROUP_SIZE = 128;
/** The tiled kernel's four u32 tile-level variables in workgroup memory. */
export const TILED_SCALARS_BYTES = 64;
/** The subgroup kernel's u32 tile-level and subgroup-numbering variables in workgroup memory. */
export const SUBGROUP_SCALARS_BYTES = 64;
/** Tiles beyond this are never useful (a kernel's tile constants stay small). */
const MAX_TILE = 1024;

/**
 * Mask leaves codegen/kernels/softmax-subgroup.ts handles. Anything else (routed leaves,
 * future kinds) and head routing keep the `tiled` kernel: the list is explicit on purpose.
 */
export const SUBGROUP_LEAVES: ReadonlySet<MaskLeaf['kind']> = new Set([
  'all',
  'none',
  'band',
  'dilated',
  'stride',
  'global',
  'sink',
  'blocks',
  'random',
  'segment',
]);

const VARIANTS: readonly KernelVariant[] = ['rowwise', 'tiled', 'subgroup'];

/** A schedule that was asked for but cannot be used; the message says which group and why. */
export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

/** The invocations a workgroup of `schedule` runs. */
export function workgroupSizeOf(schedule: Schedule): number {
  return schedule.variant === 'subgroup' ? SUBGROUP_WORKGROUP_SIZE : schedule.rowsPerWorkgroup;
}

/** Bytes of workgroup memory the schedule's kernel declares (0 for `rowwise`). */
export function workgroupBytesOf(attention: Attention, schedule: Schedule): number {
  const rowBytes = (attention.headDim + attention.valueDim) * 4;
  switch (schedule.variant) {
    case 'rowwise':
      return 0;
    case 'tiled':
      return TILED_SCALARS_BYTES + schedule.keyTile * rowBytes;
    case 'subgroup':
      return (
        SUBGROUP_SCALARS_BYTES +
        schedule.rowsPerWorkgroup * (rowBytes + 8) +
        schedule.keyTile * rowBytes
      );
  }
}

/** One line for tables and messages: `tiled 64x32 vec4`. */
export function describeSchedule(schedule: Schedule): string {
  return `${schedule.variant} ${schedule.rowsPerWorkgroup}x${schedule.keyTile} ${
    schedule.vectorWidth === 4 ? 'vec4' : 'scalar'
  }`;
}

function isPowerOfTwo(x: number): boolean {
  return Number.isInteger(x) && x >= 1 && (x & (x - 1)) === 0;
}

/**
 * Why `schedule` cannot run group `leaves` of `attention` on `profile`, or null when it can.
 * Routed leaves keep their own kernel (only the vector width applies to it), so they accept
 * `rowwise` and `tiled` alike.
 */
export function scheduleProblem(
  schedule: Schedule,
  attention: Attention,
  profile: DeviceProfile,
  leaves: readonly MaskLeaf[],
): string | null {
  const { variant, rowsPerWorkgroup, keyTile, vectorWidth } = schedule;
  if (!VARIANTS.includes(variant))
    return `unknown variant '${String(variant)}' (variants are ${VARIANTS.join(', ')})`;
  for (const [name, value] of [
    ['rowsPerWorkgroup', rowsPerWorkgroup],
    ['keyTile', keyTile],
  ] as const) {
    if (!isPowerOfTwo(value) || value > MAX_TILE)
      return `${name} must be a power of two from 1 to ${MAX_TILE}, got ${String(value)}`;
  }
  if (vectorWidth !== 1 && vectorWidth !== 4)
    return `vectorWidth must be 1 or 4, got ${String(vectorWidth)}`;
  if (vectorWidth === 4 && (attention.headDim % 4 !== 0 || attention.valueDim % 4 !== 0))
    return `vectorWidth 4 needs head_dim and value_dim multiples of 4 (they are ${attention.headDim} and ${attention.valueDim})`;
  if (vectorWidth === 1 && attention.dtype === 'f16')
    return 'dtype f16 rows are read four halves at a time: vectorWidth must be 4';
  if (variant === 'subgroup') {
    if (!profile.features.subgroups)
      return `variant 'subgroup' needs the 'subgroups' feature, which profile '${profile.name}' lacks`;
    if (attention.headRouting !== undefined)
      return "variant 'subgroup' does not support head routing";
    const unsupported = leaves.find((leaf) => !SUBGROUP_LEAVES.has(leaf.kind));
    if (unsupported) return `variant 'subgroup' does not support '${unsupported.kind}' mask leaves`;
  }
  const limits = profile.limits;
  const invocations = workgroupSizeOf(schedule);
  const maxInvocations = Math.min(
    limits.maxComputeInvocationsPerWorkgroup,
    limits.maxComputeWorkgroupSizeX,
  );
  if (invocations > maxInvocations)
    return `a workgroup of ${invocations} invocations exceeds the ${maxInvocations} that profile '${profile.name}' allows`;
  const bytes = workgroupBytesOf(attention, schedule);
  if (bytes > limits.maxComputeWorkgroupStorageSize)
    return `${bytes} bytes of workgroup memory exceed the ${limits.maxComputeWorkgroupStorageSize} that profile '${profile.name}' allows`;
  return null;
}

/** The override of `groupName` in `overrides` (its own, else `'*'`), or undefined. */
export function overrideFor(
  overrides: ScheduleOverrides | undefined,
  groupName: string,
): Partial<Schedule> | undefined {
  if (overrides === undefined) return undefined;
  return Object.hasOwn(overrides, groupName) ? overrides[groupName] : overrides['*'];
}
