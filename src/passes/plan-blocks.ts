// Pass `planBlocks`: chooses, per softmax group, the kernel variant and tile shape for the
// target profile, and how each mask leaf classifies a (query tile, key tile) pair as empty,
// full or partial. Analytic leaves get closed forms in the tile bounds (no memory at all);
// `random` and `segment` need data and get compact tables: r key blocks per query block, and
// per-tile [min, max] segment ids. Nothing here is O(N^2 / tile^2). A caller may give the
// schedule (variant and shape) of a group instead (schedule.ts); it is checked, never changed.

import type { DeviceProfile } from '../target/profile.js';
import type { Attention, BlockPlan, KernelVariant, MaskLeaf, TileRule } from '../ir/ir.js';
import { maskLeaves, unreachable } from '../ir/ir.js';
import {
  describeSchedule,
  overrideFor,
  ScheduleError,
  scheduleProblem,
  SUBGROUP_LEAVES,
  SUBGROUP_SCALARS_BYTES,
  SUBGROUP_WORKGROUP_SIZE,
  TILED_SCALARS_BYTES,
  type Schedule,
  type ScheduleOverrides,
} from './schedule.js';

export { SUBGROUP_WORKGROUP_SIZE } from './schedule.js';

export interface PassContext {
  readonly profile: DeviceProfile;
  /** Schedules asked for by group name (or `'*'`) instead of the profile's choice. */
  readonly schedules?: ScheduleOverrides;
}

/** Rows per workgroup of the rowwise kernel; llvmpipe is flat from 8 to 256 (docs/compiler.md). */
const ROWWISE_QUERY_TILE = 64;
/** Key tile of the rowwise kernel: only the granularity of skipping and of mask-free tiles. */
const ROWWISE_KEY_TILE = 64;
const TILED_QUERY_TILE = 64;
const TILED_KEY_TILE_MAX = 32;

export function planBlocks(attention: Attention, context: PassContext): Attention {
  checkScheduleNames(attention, context.schedules);
  return {
    ...attention,
    groups: attention.groups.map((group) => {
      const mechanism = group.mechanism;
      if (mechanism.kind !== 'softmax') return group;
      const plan = chooseBlockPlan(
        attention,
        context.profile,
        maskLeaves(mechanism.mask),
        group.name,
        overrideFor(context.schedules, group.name),
      );
      return { ...group, mechanism: { ...mechanism, plan } };
    }),
  };
}

function chooseBlockPlan(
  attention: Attention,
  profile: DeviceProfile,
  leaves: readonly MaskLeaf[],
  groupName: string,
  override: Partial<Schedule> | undefined,
): BlockPlan {
  const base = defaultSchedule(attention, profile, leaves, override?.variant);
  const schedule: Schedule = {
    variant: base.variant,
    rowsPerWorkgroup: override?.rowsPerWorkgroup ?? base.rowsPerWorkgroup,
    keyTile: override?.keyTile ?? base.keyTile,
    vectorWidth: override?.vectorWidth ?? base.vectorWidth,
  };
  if (override !== undefined) {
    const problem = scheduleProblem(schedule, attention, profile, leaves);
    if (problem !== null) {
      throw new ScheduleError(
        `schedule ${describeSchedule(schedule)} for group '${groupName}' of '${attention.name}' cannot run on profile '${profile.name}': ${problem}`,
      );
    }
  }
  const { variant, rowsPerWorkgroup: queryTile, keyTile, vectorWidth } = schedule;
  let randomIndex = 0;
  let routedIndex = 0;
  const rules = leaves.map((leaf): TileRule => {
    switch (leaf.kind) {
      case 'random':
        return { kind: 'random-table', table: `${groupName}.random${randomIndex++}` };
      case 'segment':
        return { kind: 'segment-ranges', table: `${groupName}.segments` };
      case 'routed':
        return { kind: 'routing', table: `${groupName}.${leaf.routing.kind}${routedIndex++}` };
      case 'all':
      case 'none':
      case 'band':
      case 'dilated':
      case 'stride':
      case 'global':
      case 'sink':
      case 'blocks':
        return { kind: 'closed-form', primitive: leaf.kind };
      default:
        return unreachable(leaf);
    }
  });
  return { variant, queryTile, keyTile, vectorWidth, rules };
}

/**
 * The schedule planBlocks gives a group with mask `leaves` on `profile`: its variant (rowwise
 * on CPU-like adapters, subgroup where the profile and mask allow, else tiled), or `variant`
 * with the shape planBlocks would give it.
 */
export function defaultSchedule(
  attention: Attention,
  profile: DeviceProfile,
  leaves: readonly MaskLeaf[],
  variant?: KernelVariant,
): Schedule {
  const vectorWidth = attention.headDim % 4 === 0 && attention.valueDim % 4 === 0 ? 4 : 1;
  const chosen =
    variant ??
    (profile.cpuLike
      ? 'rowwise'
      : subgroupTileShape(attention, profile, leaves) !== null
        ? 'subgroup'
        : 'tiled');
  const maxRows = Math.min(
    profile.limits.maxComputeInvocationsPerWorkgroup,
    profile.limits.maxComputeWorkgroupSizeX,
  );
  if (chosen === 'rowwise') {
    const rowsPerWorkgroup = floorPow2(Math.min(ROWWISE_QUERY_TILE, maxRows));
    return { variant: chosen, rowsPerWorkgroup, keyTile: ROWWISE_KEY_TILE, vectorWidth };
  }
  // A variant the profile would not choose (subgroup on a CPU-like adapter) keeps its shape.
  const subgroupShape =
    chosen === 'subgroup' ? subgroupTileShape(attention, profile, leaves, true) : null;
  if (subgroupShape !== null) {
    const { queryTile: rowsPerWorkgroup, keyTile } = subgroupShape;
    return { variant: chosen, rowsPerWorkgroup, keyTile, vectorWidth };
  }
  // K and V tiles of f32 rows must fit the workgroup storage, beside the kernel's four
  // u32 tile-level variables (TILED_SCALARS_BYTES).
  const rowBytes = (attention.headDim + attention.valueDim) * 4;
  const keyTile = floorPow2(
    Math.min(
      TILED_KEY_TILE_MAX,
      Math.floor((profile.limits.maxComputeWorkgroupStorageSize - TILED_SCALARS_BYTES) / rowBytes),
    ),
  );
  const rowsPerWorkgroup = floorPow2(Math.min(TILED_QUERY_TILE, maxRows));
  return { variant: chosen, rowsPerWorkgroup, keyTile: Math.max(1, keyTile), vectorWidth };
}

/** Throws when `schedules` names a group that is not a softmax group of `attention`. */
function checkScheduleNames(attention: Attention, schedules: ScheduleOverrides | undefined): void {
  if (schedules === undefined) return;
  const names = attention.groups.filter((g) => g.mechanism.kind === 'softmax').map((g) => g.name);
  for (const name of Object.keys(schedules)) {
    if (name !== '*' && !names.includes(name)) {
      throw new ScheduleError(
        `a schedule is given for '${name}', which is not a softmax group of '${attention.name}' (its softmax groups: ${names.length > 0 ? names.join(', ') : 'none'})`,
      );
    }
  }
}

function floorPow2(x: number): number {
  let p = 1;
  while (p * 2 <= x) p *= 2;
  return p;
}

/**
 * Query rows per workgroup of the subgroup kernel, largest first (smaller when D is large): the
 * K/V tile is shared by more rows, and with 32-lane subgroups each of the 4 walks TQ / 4 rows.
 */
const SUBGROUP_QUERY_TILES = [64, 32, 16, 8];
const SUBGROUP_KEY_TILE_MAX = 32;
const SUBGROUP_KEY_TILE_MIN = 8;

/**
 * The tile shape of the `subgroup` variant, or null when it does not apply: it needs the
 * `subgroups` feature on a real GPU (CPU-like adapters keep `rowwise` unless `onCpuLike`), a mask made of
 * supported leaves, and workgroup memory for the q rows and accumulators of the query tile
 * (f32, `TQ * (D + Dv)`), their running max and sum, and K/V tiles of at least
 * SUBGROUP_KEY_TILE_MIN keys.
 */
function subgroupTileShape(
  attention: Attention,
  profile: DeviceProfile,
  leaves: readonly MaskLeaf[],
  onCpuLike = false,
): { queryTile: number; keyTile: number } | null {
  if (!profile.features.subgroups || (profile.cpuLike && !onCpuLike)) return null;
  if (attention.headRouting !== undefined) return null;
  if (!leaves.every((leaf) => SUBGROUP_LEAVES.has(leaf.kind))) return null;
  if (
    profile.limits.maxComputeInvocationsPerWorkgroup < SUBGROUP_WORKGROUP_SIZE ||
    profile.limits.maxComputeWorkgroupSizeX < SUBGROUP_WORKGROUP_SIZE
  )
    return null;
  const rowBytes = (attention.headDim + attention.valueDim) * 4;
  for (const queryTile of SUBGROUP_QUERY_TILES) {
    const free =
      profile.limits.maxComputeWorkgroupStorageSize -
      SUBGROUP_SCALARS_BYTES -
      queryTile * (rowBytes + 8);
    const keys = Math.floor(free / rowBytes);
    if (keys >= SUBGROUP_KEY_TILE_MIN)
      return { queryTile, keyTile: floorPow2(Math.min(SUBGROUP_KEY_TILE_MAX, keys)) };
  }
  return null;
}
