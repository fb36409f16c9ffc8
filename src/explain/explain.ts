// What the compiler made of one compiled attention, as `attnc explain` prints it: the IR after
// a stage (lowering or any pass, rerun for the module's target), then per head group how much
// of the score matrix the mask allows at N, how the block plan's tiles classify (empty tiles
// are never visited, full ones skip the mask) and a coarse picture of the mask. Part of the
// public API (src/index.ts), which the CLI goes through.

import type { CompiledModule } from '../api/compile.js';
import { resolveTarget } from '../api/compile.js';
import { randomInputs } from '../api/random-inputs.js';
import type { Attention, Group } from '../ir/ir.js';
import { maskLeaves, unreachable } from '../ir/ir.js';
import { printLowRankMechanism } from '../ir/lowrank-ir.js';
import { printAttention } from '../ir/print.js';
import { lowerAttention } from '../lower/lower.js';
import { PASS_NAMES, runPipeline } from '../passes/pipeline.js';
import type { DeviceProfile } from '../target/profile.js';
import { describeLinearGroup } from './linear-summary.js';
import {
  summarizeMask,
  type CellState,
  type MaskPicture,
  type MaskSummary,
  type RoutingBound,
  type SegmentIds,
} from './mask-summary.js';

/** The stages whose IR `explainModule` can print: `lower`, then every pass in order. */
export const EXPLAIN_STAGES: readonly string[] = ['lower', ...PASS_NAMES];

export interface ExplainOptions {
  /** Print the IR after this stage (one of EXPLAIN_STAGES); default: after the last pass. */
  readonly after?: string;
  /** Sequence length (queries = keys) of the density, the tiles and the picture. */
  readonly seq: number;
  /** Cells per side of the text picture of each group's mask, each about seq/cells positions; 0 for none. */
  readonly picture: number;
  /** The profile the module was compiled for, as `compile` takes it (default portable); the passes rerun for it under `after`. */
  readonly target?: string | DeviceProfile;
  /** Called with each head group's name before it is summarized (that takes a while at large N). */
  readonly onGroup?: (group: string) => void;
}

/** The text `attnc explain` prints for one compiled attention. */
export function explainModule(module: CompiledModule, options: ExplainOptions): string {
  const { after, seq, picture } = options;
  if (!Number.isInteger(seq) || seq < 1) {
    throw new RangeError(`explainModule: seq must be a positive integer, got ${seq}`);
  }
  if (!Number.isInteger(picture) || picture < 0) {
    throw new RangeError(`explainModule: picture must be an integer >= 0, got ${picture}`);
  }
  const last = EXPLAIN_STAGES[EXPLAIN_STAGES.length - 1]!;
  const parts = [
    `== ${module.name}: IR after ${after ?? last}\n`,
    printAttention(irAfter(module, after, options.target)).trimEnd() + '\n\n',
  ];
  const segments = needsSegments(module.ir) ? sampleSegments(module, seq) : undefined;
  for (const group of module.ir.groups) {
    options.onGroup?.(group.name);
    parts.push(describeGroup(module.ir, group, seq, picture, segments));
  }
  return parts.join('');
}

/** The module's IR after `stage`: lowering and the passes up to it, rerun for `target`. */
function irAfter(
  module: CompiledModule,
  stage: string | undefined,
  target: string | DeviceProfile | undefined,
): Attention {
  if (stage === undefined) return module.ir;
  const profile = resolveTarget(target);
  if (!profile) throw new Error(`unknown target \`${String(target)}\``);
  const lowered = lowerAttention(module.attention);
  // compile() made this module, so its attention lowers.
  if (!lowered.ok) throw new Error(`internal error: ${module.name} no longer lowers`);
  return runPipeline(lowered.attention, { profile }, { after: stage });
}

function needsSegments(ir: Attention): boolean {
  return ir.groups.some(
    (g) =>
      g.mechanism.kind === 'softmax' &&
      maskLeaves(g.mechanism.mask).some((l) => l.kind === 'segment'),
  );
}

/** The document ids `attnc run` would draw at N (one batch entry). */
function sampleSegments(module: CompiledModule, n: number): SegmentIds {
  const inputs = randomInputs(module, { batch: 1, seqQ: n, seqK: n });
  if (!inputs.seg_q || !inputs.seg_k) {
    throw new Error('internal error: a segment mask without seg_q/seg_k inputs');
  }
  return { segQ: inputs.seg_q, segK: inputs.seg_k };
}

function describeGroup(
  ir: Attention,
  group: Group,
  n: number,
  picture: number,
  segments: SegmentIds | undefined,
): string {
  const heading = `-- group ${group.name} of ${ir.name} (heads ${group.headOffset}..${group.headOffset + group.heads - 1}) at N = ${n}`;
  const linear = describeLinearGroup(ir, group, n);
  if (linear !== null) return linear;
  const summary = summarizeMask(group, n, picture, segments);
  if (summary === null)
    return `${heading}\n   ${group.mechanism.kind} attention: no score mask\n\n`;
  const mechanism = group.mechanism;
  const plan = mechanism.kind === 'softmax' ? mechanism.plan : null;
  const lowRank =
    mechanism.kind === 'lowrank'
      ? [
          `   low-rank attention (${printLowRankMechanism(mechanism)}): every query sees every key ` +
            'through a few projected rows; no N x N score matrix is formed',
        ]
      : [];
  return (
    [
      heading,
      ...lowRank,
      ...printMaskSummary(summary),
      `   kernel variant: ${plan?.variant ?? 'none'}`,
      '',
      ...(summary.picture
        ? [...printPicture(summary.picture, summary.routing.length > 0), '']
        : []),
    ].join('\n') + '\n'
  );
}

const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(1)}%`;

export function printMaskSummary(summary: MaskSummary): string[] {
  const { n, tiles, allowed } = summary;
  const total = n * n;
  const tileCount = tiles.empty + tiles.partial + tiles.full;
  const lines: string[] = [];
  if (allowed.certain === allowed.possible) {
    lines.push(
      `   density: ${pct(allowed.certain, total)} of scores allowed (${allowed.certain} of ${total})`,
    );
  } else {
    lines.push(
      `   density: depends on q and k; ${pct(allowed.certain, total)} allowed whatever they are ` +
        `(${allowed.certain} of ${total}), at most ${pct(allowed.possible, total)} (${allowed.possible})`,
    );
  }
  if (summary.sampledSegments) {
    lines.push(
      '   segment ids: a sample of documents averaging N/4 positions, as `attnc run` draws them',
    );
  }
  for (const bound of summary.routing) lines.push(`   routing: ${describeRouting(bound, n)}`);
  lines.push(
    `   tiles ${summary.queryTile}x${summary.keyTile}: ${tileCount} in all; empty ${tiles.empty} (${pct(tiles.empty, tileCount)}, never visited), ` +
      `partial ${tiles.partial} (${pct(tiles.partial, tileCount)}, masked per element), ` +
      `full ${tiles.full} (${pct(tiles.full, tileCount)}, no mask)`,
  );
  return lines;
}

function describeRouting(bound: RoutingBound, n: number): string {
  const r = bound.routing;
  const perQuery = (keys: number) => `${keys} keys per query (${pct(keys, n)} of N)`;
  switch (r.kind) {
    case 'topk':
      return (
        `topk(${r.k}, block: ${r.block}): a \`route\` step averages k over each block of ${r.block}; ` +
        `each query keeps its own block and the ${r.k} ${r.causal ? 'earlier ' : ''}blocks with the highest q·mean(k), ` +
        `chosen at run time from q and k: at most ${perQuery(bound.maxKeysPerQuery)}`
      );
    case 'cluster':
      return (
        `cluster(${r.count}): a \`route\` step assigns each key to the nearest of ${r.count} run-time centroids; ` +
        `each query sees the keys of its own cluster, chosen at run time from q and k: ` +
        `${perQuery(bound.balancedKeysPerQuery!)} if clusters are balanced, up to all ${n}`
      );
    case 'lsh':
      return (
        `lsh(buckets: ${r.buckets}, seed: ${r.seed}): a \`route\` step hashes each key to one of ${r.buckets} buckets; ` +
        `each query sees the keys in its own bucket, chosen at run time from q and k: ` +
        `${perQuery(bound.balancedKeysPerQuery!)} if buckets are balanced, up to all ${n}`
      );
    default:
      return unreachable(r);
  }
}

const CELL_GLYPHS: Record<CellState, string> = {
  full: '#',
  partial: '+',
  empty: '.',
  depends: '?',
};

export function printPicture(picture: MaskPicture, routed: boolean): string[] {
  const cell =
    picture.positionsPerCell <= 1
      ? 'each cell one position'
      : `each cell about ${picture.positionsPerCell}x${picture.positionsPerCell} positions`;
  const legend = `# all allowed, + some, . none${routed ? ', ? depends on q and k' : ''}`;
  return [
    `   mask (rows: queries, columns: keys; ${cell}; ${legend})`,
    ...picture.rows.map((row) => '   ' + row.map((state) => CELL_GLYPHS[state]).join('')),
  ];
}
