// The IR printer: a stable, readable text form used by `attnc explain` and golden tests.
// Bands print back as the spec words where one fits (causal, window), so output reads like
// the source.

import type { Attention, BlockPlan, Mask, Routing, Score, Step, Table, TileRule } from './ir.js';
import { unreachable } from './ir.js';
import { printLinearMechanism, printLinearStep, printLinearTable } from './linear-ir.js';
import { printLowRankMechanism, printLowRankOp } from './lowrank-ir.js';

export function printAttention(attention: Attention): string {
  const out: string[] = [];
  out.push(
    `attention ${attention.name} heads=${attention.heads} kv_heads=${attention.kvHeads} ` +
      `head_dim=${attention.headDim} value_dim=${attention.valueDim} layout=${attention.layout} ` +
      `dtype=${attention.dtype}${attention.maxSeq === null ? '' : ` max_seq=${attention.maxSeq}`}`,
  );
  if (attention.headRouting) {
    out.push(
      `  head_routing top(${attention.headRouting.k}) of ${attention.heads}: route-heads router -> ` +
        'weights [B x Nq x H] f32, kept rows per (b, head) [B x H x Nq] u32 (device)',
    );
  }
  for (const group of attention.groups) {
    out.push(
      `  group ${group.name} heads=[${group.headOffset}, ${group.headOffset + group.heads}) ` +
        `kv_heads=[${group.kvHeadOffset}, ${group.kvHeadOffset + group.kvHeads})`,
    );
    const m = group.mechanism;
    switch (m.kind) {
      case 'softmax':
        out.push(`    softmax ${printScore(m.score)}`);
        out.push(`      mask ${printMask(m.mask)}`);
        if (m.plan) out.push(`      plan ${printPlan(m.plan)}`);
        break;
      case 'linear':
        out.push(`    ${printLinearMechanism(m)}`);
        break;
      case 'lowrank':
        out.push(`    ${printLowRankMechanism(m)}`);
        break;
      default:
        unreachable(m);
    }
    for (const table of group.tables) out.push(`    table ${printTable(table)}`);
    group.program.forEach((step, i) => out.push(`    ${i}: ${printStep(step)}`));
  }
  return out.join('\n') + '\n';
}

function printScore(score: Score): string {
  return `scale=${score.scale} softcap=${score.softcap ?? 'none'} bias=${score.bias ?? 'none'}`;
}

export function printMask(mask: Mask): string {
  switch (mask.kind) {
    case 'all':
      return 'full';
    case 'none':
      return 'none';
    case 'band':
      if (mask.lo === null && mask.hi === 0) return 'causal';
      if (mask.lo !== null && mask.hi !== null && mask.lo === -mask.hi && mask.hi >= 0)
        return `window(${mask.hi})`;
      return `band(${mask.lo ?? '-inf'}..${mask.hi ?? '+inf'})`;
    case 'dilated':
      return `dilated(${mask.width}, ${mask.dilation})`;
    case 'stride':
      return `stride(${mask.step})`;
    case 'global':
      return `global(first: ${mask.first}${mask.positions.map((p) => `, ${p}`).join('')})`;
    case 'sink':
      return `sink(${mask.count})`;
    case 'blocks':
      return `blocks(${mask.size})`;
    case 'random':
      return `random(${mask.count}, block: ${mask.block}, seed: ${mask.seed})`;
    case 'segment':
      return 'segment';
    case 'routed':
      return printRouting(mask.routing);
    case 'union':
      return mask.terms
        .map((t) => (t.kind === 'union' ? `(${printMask(t)})` : printMask(t)))
        .join(' | ');
    case 'intersect':
      return mask.terms
        .map((t) =>
          t.kind === 'union' || t.kind === 'intersect' ? `(${printMask(t)})` : printMask(t),
        )
        .join(' & ');
    default:
      return unreachable(mask);
  }
}

function printPlan(plan: BlockPlan): string {
  return (
    `${plan.variant} query_tile=${plan.queryTile} key_tile=${plan.keyTile} vec${plan.vectorWidth} ` +
    `rules=[${plan.rules.map(printRule).join(', ')}]`
  );
}

function printRule(rule: TileRule): string {
  switch (rule.kind) {
    case 'closed-form':
      return `closed-form ${rule.primitive}`;
    case 'random-table':
    case 'segment-ranges':
    case 'routing':
      return `${rule.kind} ${rule.table}`;
    default:
      return unreachable(rule);
  }
}

function printTable(table: Table): string {
  switch (table.kind) {
    case 'random-blocks':
      return `${table.name} = random-blocks(count: ${table.count}, block: ${table.block}, seed: ${table.seed}) [ceil(Nk/${table.block}) x ${table.count}] u32`;
    case 'segment-ranges':
      return `${table.name} = segment-ranges(query_tile: ${table.queryTile}, key_tile: ${table.keyTile}) [B x (ceil(Nq/${table.queryTile}) + ceil(Nk/${table.keyTile})) x 2] u32`;
    case 'routing':
      return `${table.name} = ${printRouting(table.routing)} ${
        table.routing.kind === 'topk'
          ? `block means [B x Hkv x ceil(Nk/${table.routing.block}) x D] f32`
          : 'key buckets + bucket lists [B x Hkv x (2 Nk + 2 buckets)] u32'
      }`;
    case 'gaussian':
    case 'linear-states':
      return printLinearTable(table);
    default:
      return unreachable(table);
  }
}

function printStep(step: Step): string {
  switch (step.kind) {
    case 'draw-random-blocks':
      return `draw-random-blocks -> ${step.table}  (host)`;
    case 'segment-tile-ranges':
      return `segment-tile-ranges seg_q, seg_k -> ${step.table}`;
    case 'route':
      return `route k -> ${step.table}`;
    case 'lowrank':
      return printLowRankOp(step.op);
    case 'draw-gaussian':
    case 'linear-chunk-states':
    case 'linear-scan':
    case 'linear-output':
      return printLinearStep(step);
    case 'fused-softmax':
      return `fused-softmax q, k, v -> o  (score, mask, ${step.score.softcap !== null ? 'softcap, ' : ''}${step.score.bias !== null ? 'alibi, ' : ''}online softmax, p·v)`;
    default:
      return unreachable(step);
  }
}

function printRouting(routing: Routing): string {
  switch (routing.kind) {
    case 'topk':
      return `topk(${routing.k}, block: ${routing.block}${routing.causal ? ', causal' : ''})`;
    case 'cluster':
      return `cluster(${routing.count})`;
    case 'lsh':
      return `lsh(buckets: ${routing.buckets}, seed: ${routing.seed})`;
    default:
      return unreachable(routing);
  }
}
