// Pass `planBlocks`: chooses, per softmax group, the kernel variant and tile shape for the
// target profile, and how each mask leaf classifies a (query tile, key tile) pair as empty,
// full or partial. Analytic leaves get closed forms in the tile bounds (no memory at all);
// `random` and `segment` need data and get compact tables: r key blocks per query block, and
// per-tile [min, max] segment ids. Nothing here is O(N^2 / tile^2).

import type { DeviceProfile } from '../target/profile.js';
import type { Attention, BlockPlan, KernelVariant, MaskLeaf, TileRule } from '../ir/ir.js';
import { maskLeaves, unreachable } from '../ir/ir.js';

export interface PassContext {
  readonly profile: DeviceProfile;
}

/** Rows per workgroup of the rowwise kernel; llvmpipe is flat from 8 to 256 (docs/compiler.md). */
const ROWWISE_QUERY_TILE = 64;
/** Key tile of the rowwise kernel: only the granularity of skipping and of mask-free tiles. */
const ROWWISE_KEY_TILE = 64;
const TILED_QUERY_TILE = 64;
const TILED_KEY_TILE_MAX = 32;
const TILED_SCALARS_BYTES = 64;

export function planBlocks(attention: Attention, context: PassContext): Attention {
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
): BlockPlan {
  const subgroupShape = subgroupTileShape(attention, profile, leaves);
  const variant: KernelVariant = profile.cpuLike
    ? 'rowwise'
    : subgroupShape !== null
      ? 'subgroup'
      : 'tiled';
  const vectorWidth = attention.headDim % 4 === 0 && attention.valueDim % 4 === 0 ? 4 : 1;
  const maxRows = Math.min(
    profile.limits.maxComputeInvocationsPerWorkgroup,
    profile.limits.maxComputeWorkgroupSizeX,
  );
  let queryTile: number;
  let keyTile: number;
  if (variant === 'rowwise') {
    queryTile = floorPow2(Math.min(ROWWISE_QUERY_TILE, maxRows));
    keyTile = ROWWISE_KEY_TILE;
  } else if (subgroupShape !== null) {
    queryTile = subgroupShape.queryTile;
    keyTile = subgroupShape.keyTile;
  } else {
    queryTile = floorPow2(Math.min(TILED_QUERY_TILE, maxRows));
    // K and V tiles of f32 rows must fit the workgroup storage, beside the kernel's four
    // u32 tile-level variables (TILED_SCALARS_BYTES).
    const rowBytes = (attention.headDim + attention.valueDim) * 4;
    keyTile = floorPow2(
      Math.min(
        TILED_KEY_TILE_MAX,
        Math.floor(
          (profile.limits.maxComputeWorkgroupStorageSize - TILED_SCALARS_BYTES) / rowBytes,
        ),
      ),
    );
  }
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
  return { variant, queryTile, keyTile: Math.max(1, keyTile), vectorWidth, rules };
}

function floorPow2(x: number): number {
  let p = 1;
  while (p * 2 <= x) p *= 2;
  return p;
}

/** Invocations of the subgroup kernel: every WebGPU device allows 128 (compatibility minimum). */
export const SUBGROUP_WORKGROUP_SIZE = 128;
/**
 * Query rows per workgroup of the subgroup kernel, largest first (smaller when D is large): the
 * K/V tile is shared by more rows, and with 32-lane subgroups each of the 4 walks TQ / 4 rows.
 */
const SUBGROUP_QUERY_TILES = [64, 32, 16, 8];
const SUBGROUP_KEY_TILE_MAX = 32;
const SUBGROUP_KEY_TILE_MIN = 8;
/** The kernel's u32 tile-level and subgroup-numbering variables in workgroup memory. */
const SUBGROUP_SCALARS_BYTES = 64;
/**
 * Mask leaves codegen/wgsl/emit-softmax-subgroup.ts handles. Anything else (routed leaves,
 * future kinds) and head routing keep the `tiled` kernel: the list is explicit on purpose.
 */
const SUBGROUP_LEAVES: ReadonlySet<MaskLeaf['kind']> = new Set([
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

/**
 * The tile shape of the `subgroup` variant, or null when it does not apply: it needs the
 * `subgroups` feature on a real GPU (CPU-like adapters keep `rowwise`), a mask made of
 * supported leaves, and workgroup memory for the q rows and accumulators of the query tile
 * (f32, `TQ * (D + Dv)`), their running max and sum, and K/V tiles of at least
 * SUBGROUP_KEY_TILE_MIN keys.
 */
function subgroupTileShape(
  attention: Attention,
  profile: DeviceProfile,
  leaves: readonly MaskLeaf[],
): { queryTile: number; keyTile: number } | null {
  if (!profile.features.subgroups || profile.cpuLike) return null;
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
