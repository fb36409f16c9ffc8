// Pass `fuseSoftmax`: turns each planned softmax mechanism into its program. Score, mask,
// modifiers, online softmax and the value product become ONE `fused-softmax` step (one pass
// over K/V, no score matrix anywhere); the tables the block plan asked for get the steps that
// fill them, placed before it.

import type { Attention, Group, Step, Table } from '../ir/ir.js';
import { maskLeaves } from '../ir/ir.js';

export function fuseSoftmax(attention: Attention): Attention {
  return { ...attention, groups: attention.groups.map(fuseGroup) };
}

function fuseGroup(group: Group): Group {
  const mechanism = group.mechanism;
  if (mechanism.kind !== 'softmax') return group;
  const plan = mechanism.plan;
  if (plan === null)
    throw new Error(`internal error: fuseSoftmax before planBlocks (group ${group.name})`);
  const tables: Table[] = [];
  const steps: Step[] = [];
  const leaves = maskLeaves(mechanism.mask);
  plan.rules.forEach((rule, index) => {
    if (rule.kind === 'random-table') {
      const leaf = leaves[index];
      if (leaf?.kind !== 'random')
        throw new Error('internal error: random rule without random leaf');
      tables.push({
        kind: 'random-blocks',
        name: rule.table,
        count: leaf.count,
        block: leaf.block,
        seed: leaf.seed,
      });
      steps.push({ kind: 'draw-random-blocks', table: rule.table });
    } else if (rule.kind === 'routing') {
      const leaf = leaves[index];
      if (leaf?.kind !== 'routed')
        throw new Error('internal error: routing rule without routed leaf');
      tables.push({ kind: 'routing', name: rule.table, routing: leaf.routing });
      steps.push({ kind: 'route', table: rule.table });
    } else if (rule.kind === 'segment-ranges' && !tables.some((t) => t.name === rule.table)) {
      tables.push({
        kind: 'segment-ranges',
        name: rule.table,
        queryTile: plan.queryTile,
        keyTile: plan.keyTile,
      });
      steps.push({ kind: 'segment-tile-ranges', table: rule.table });
    }
  });
  steps.push({ kind: 'fused-softmax', score: mechanism.score, mask: mechanism.mask, plan });
  return { ...group, tables, program: steps };
}
