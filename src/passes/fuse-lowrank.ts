// Pass `fuseLowRank`: turns each low-rank mechanism into its program of kernels (see
// ir/lowrank-ir.ts for what each op does). Linformer's projection is split over chunks of
// keys so that long sequences still give the device many workgroups; the chunk length is the
// only choice made here, from the profile: CPU-like adapters run a workgroup per core, so
// larger chunks (fewer partial sums) suffice there.

import type { Attention, Group, Step } from '../ir/ir.js';
import type { LowRankOp } from '../ir/lowrank-ir.js';
import type { PassContext } from './plan-blocks.js';

/** Keys per projection chunk: CPU-like adapters, GPU-shaped devices. */
const CPU_PROJECTION_CHUNK = 2048;
const GPU_PROJECTION_CHUNK = 256;

export function fuseLowRank(attention: Attention, context: PassContext): Attention {
  return {
    ...attention,
    groups: attention.groups.map((group) => fuseGroup(group, context)),
  };
}

function fuseGroup(group: Group, context: PassContext): Group {
  const mechanism = group.mechanism;
  if (mechanism.kind !== 'lowrank') return group;
  const method = mechanism.method;
  let ops: LowRankOp[];
  switch (method.kind) {
    case 'linformer': {
      const chunk = context.profile.cpuLike ? CPU_PROJECTION_CHUNK : GPU_PROJECTION_CHUNK;
      ops = [
        { kind: 'linformer-project', rank: method.rank, chunk },
        { kind: 'linformer-reduce', rank: method.rank },
        { kind: 'attend-small', source: 'linformer', rows: method.rank },
      ];
      break;
    }
    case 'nystrom':
      ops = [
        { kind: 'nystrom-landmarks', landmarks: method.landmarks },
        { kind: 'nystrom-landmark-values', landmarks: method.landmarks },
        { kind: 'nystrom-pinv', landmarks: method.landmarks, iters: method.iters },
        { kind: 'attend-small', source: 'nystrom', rows: method.landmarks },
      ];
      break;
    default: {
      const never: never = method;
      throw new Error(`internal error: unexpected low-rank method ${JSON.stringify(never)}`);
    }
  }
  const program: Step[] = ops.map((op) => ({ kind: 'lowrank', op }));
  return { ...group, tables: [], program };
}
