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
  const variant: KernelVariant = profile.cpuLike ? 'rowwise' : 'tiled';
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
  const rules = leaves.map((leaf): TileRule => {
    switch (leaf.kind) {
      case 'random':
        return { kind: 'random-table', table: `${groupName}.random${randomIndex++}` };
      case 'segment':
        return { kind: 'segment-ranges', table: `${groupName}.segments` };
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
