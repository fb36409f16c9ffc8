// The IR verifier: structural invariants every stage must keep. It returns problems as text
// (the IR is compiler-internal, so these are compiler bugs, not user diagnostics); tests run
// it after lowering and after every pass. `stage` says which invariants apply: a plan must
// exist from `plan-blocks` on, a program from `fuse-softmax` on.

import type { Attention, Mask } from './ir.js';
import { maskLeaves, unreachable } from './ir.js';
import { verifyLinearMechanism, verifyLinearProgram } from './linear-ir.js';
import { verifyLowRankMechanism, verifyLowRankProgram } from './lowrank-ir.js';

const PLANNED = new Set(['plan-blocks', 'fuse-softmax', 'fuse-linear']);
const FUSED = new Set(['fuse-softmax', 'fuse-linear']);
/** Linear groups get their program from `fuse-linear` on. */
const LINEAR_FUSED = new Set(['fuse-linear']);

export function verifyAttention(attention: Attention, stage: string): string[] {
  const problems: string[] = [];
  const fail = (message: string) => problems.push(message);
  const positiveInt = (x: number) => Number.isInteger(x) && x > 0;

  if (!positiveInt(attention.headDim) || !positiveInt(attention.valueDim))
    fail('head_dim and value_dim must be positive integers');
  let headOffset = 0;
  let kvHeadOffset = 0;
  for (const group of attention.groups) {
    const where = `group ${group.name}`;
    if (!positiveInt(group.heads) || !positiveInt(group.kvHeads))
      fail(`${where}: heads and kv_heads must be positive`);
    if (group.heads % group.kvHeads !== 0)
      fail(`${where}: kv_heads ${group.kvHeads} does not divide heads ${group.heads}`);
    if (group.headOffset !== headOffset)
      fail(`${where}: head offset ${group.headOffset}, expected ${headOffset}`);
    if (group.kvHeadOffset !== kvHeadOffset)
      fail(`${where}: kv head offset ${group.kvHeadOffset}, expected ${kvHeadOffset}`);
    headOffset += group.heads;
    kvHeadOffset += group.kvHeads;

    const mechanism = group.mechanism;
    switch (mechanism.kind) {
      case 'softmax': {
        if (!(mechanism.score.scale > 0) || !Number.isFinite(mechanism.score.scale))
          fail(`${where}: scale must be finite and positive`);
        if (mechanism.score.softcap !== null && !(mechanism.score.softcap > 0))
          fail(`${where}: softcap must be positive`);
        verifyMask(mechanism.mask, `${where}: mask`, fail);
        const plan = mechanism.plan;
        if (PLANNED.has(stage) && plan === null) fail(`${where}: no block plan after ${stage}`);
        if (plan) {
          if (!positiveInt(plan.queryTile) || !positiveInt(plan.keyTile))
            fail(`${where}: tiles must be positive`);
          if (
            attention.headDim % plan.vectorWidth !== 0 ||
            attention.valueDim % plan.vectorWidth !== 0
          ) {
            fail(`${where}: vector width ${plan.vectorWidth} does not divide head_dim/value_dim`);
          }
          const leaves = maskLeaves(mechanism.mask);
          if (leaves.length !== plan.rules.length)
            fail(`${where}: ${plan.rules.length} tile rules for ${leaves.length} mask leaves`);
          plan.rules.forEach((rule, i) => {
            const leaf = leaves[i];
            const ok =
              rule.kind === 'closed-form'
                ? rule.primitive === leaf?.kind
                : rule.kind === 'random-table'
                  ? leaf?.kind === 'random'
                  : rule.kind === 'routing'
                    ? leaf?.kind === 'routed'
                    : leaf?.kind === 'segment';
            if (!ok)
              fail(`${where}: tile rule ${i} (${rule.kind}) does not fit leaf ${leaf?.kind}`);
          });
        }
        break;
      }
      case 'linear': {
        const failHere = (message: string) => fail(`${where}: ${message}`);
        verifyLinearMechanism(mechanism, failHere);
        verifyLinearProgram(group, attention.headDim, attention.valueDim, failHere);
        break;
      }
      case 'lowrank': {
        const failHere = (message: string) => fail(`${where}: ${message}`);
        verifyLowRankMechanism(mechanism, failHere);
        const ops = group.program.flatMap((s) => (s.kind === 'lowrank' ? [s.op] : []));
        if (group.program.length > 0) verifyLowRankProgram(mechanism, ops, failHere);
        break;
      }
      default:
        unreachable(mechanism);
    }

    const tableNames = new Set(group.tables.map((t) => t.name));
    if (tableNames.size !== group.tables.length) fail(`${where}: duplicate table names`);
    const fused = group.mechanism.kind === 'linear' ? LINEAR_FUSED : FUSED;
    if (fused.has(stage) && group.program.length === 0)
      fail(`${where}: empty program after ${stage}`);
    const filled = new Set<string>();
    group.program.forEach((step, index) => {
      switch (step.kind) {
        case 'draw-random-blocks':
        case 'segment-tile-ranges':
        case 'route':
          if (!tableNames.has(step.table))
            fail(`${where}: step ${index} fills unknown table ${step.table}`);
          filled.add(step.table);
          break;
        case 'fused-softmax':
          if (index !== group.program.length - 1)
            fail(`${where}: fused-softmax must be the last step`);
          for (const rule of step.plan.rules) {
            if (rule.kind !== 'closed-form' && !filled.has(rule.table))
              fail(`${where}: table ${rule.table} read before it is filled`);
          }
          break;
        case 'draw-gaussian':
        case 'linear-chunk-states':
        case 'linear-scan':
        case 'linear-output':
          // Order and tables are checked by verifyLinearProgram.
          if (group.mechanism.kind !== 'linear')
            fail(`${where}: step ${index} (${step.kind}) outside a linear group`);
          break;
        case 'lowrank':
          if (group.mechanism.kind !== 'lowrank')
            fail(`${where}: step ${index} (${step.op.kind}) outside a low-rank group`);
          break;
        default:
          unreachable(step);
      }
    });
  }
  if (headOffset !== attention.heads)
    fail(`groups cover ${headOffset} heads, attention has ${attention.heads}`);
  if (kvHeadOffset !== attention.kvHeads)
    fail(`groups cover ${kvHeadOffset} kv heads, attention has ${attention.kvHeads}`);
  const routing = attention.headRouting;
  if (routing && !(Number.isInteger(routing.k) && routing.k >= 1 && routing.k <= attention.heads))
    fail(`head_routing keeps ${routing.k} heads of ${attention.heads}`);
  return problems;
}

function verifyMask(mask: Mask, where: string, fail: (m: string) => void): void {
  const nonNegInt = (x: number) => Number.isInteger(x) && x >= 0;
  switch (mask.kind) {
    case 'all':
    case 'none':
    case 'segment':
      return;
    case 'band':
      if (
        (mask.lo !== null && !Number.isInteger(mask.lo)) ||
        (mask.hi !== null && !Number.isInteger(mask.hi))
      )
        fail(`${where}: band bounds must be integers`);
      return;
    case 'dilated':
      if (!nonNegInt(mask.width) || !(mask.dilation >= 1)) fail(`${where}: bad dilated`);
      return;
    case 'stride':
      if (!(Number.isInteger(mask.step) && mask.step >= 1))
        fail(`${where}: stride step must be >= 1`);
      return;
    case 'global':
      if (!nonNegInt(mask.first) || !mask.positions.every(nonNegInt))
        fail(`${where}: bad global positions`);
      return;
    case 'sink':
      if (!nonNegInt(mask.count)) fail(`${where}: bad sink count`);
      return;
    case 'blocks':
      if (!(Number.isInteger(mask.size) && mask.size >= 1)) fail(`${where}: bad block size`);
      return;
    case 'random':
      if (!(Number.isInteger(mask.block) && mask.block >= 1) || !nonNegInt(mask.count))
        fail(`${where}: bad random`);
      return;
    case 'routed': {
      const r = mask.routing;
      const ok =
        r.kind === 'topk'
          ? Number.isInteger(r.k) && r.k >= 1 && Number.isInteger(r.block) && r.block >= 1
          : r.kind === 'cluster'
            ? Number.isInteger(r.count) && r.count >= 1
            : Number.isInteger(r.buckets) && r.buckets >= 2 && r.buckets % 2 === 0;
      if (!ok) fail(`${where}: bad ${r.kind}`);
      return;
    }
    case 'union':
    case 'intersect':
      if (mask.terms.length === 0) fail(`${where}: empty ${mask.kind}`);
      mask.terms.forEach((t) => verifyMask(t, where, fail));
      return;
    default:
      unreachable(mask);
  }
}
