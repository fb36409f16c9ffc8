// `attnc explain FILE [--after PASS] [--seq N]`: what the compiler made of a spec. Prints the IR
// after a pass, how much of the score matrix the mask allows and how its tiles classify at N
// (empty tiles are never visited, full ones skip the mask), and a picture of the mask.
// `--cache [--capacity N]` prints the KV cache plan instead (explain-cache.ts).

import { compile, resolveTarget, TARGET_NAMES } from '../api/compile.js';
import { randomInputs } from '../api/random-inputs.js';
import { hasErrors } from '../diagnostics/diagnostic.js';
import { renderDiagnostic } from '../diagnostics/render.js';
import type { CompiledModule } from '../api/compile.js';
import type { Attention, Group } from '../ir/ir.js';
import { maskLeaves, unreachable } from '../ir/ir.js';
import { printLowRankMechanism } from '../ir/lowrank-ir.js';
import { printAttention } from '../ir/print.js';
import { planKvCache } from '../api/kv-cache.js';
import { lowerAttention } from '../lower/lower.js';
import { PASS_NAMES, runPipeline } from '../passes/pipeline.js';
import { resolveColor } from './check-command.js';
import { describeCachePlan } from './explain-cache.js';
import { describeLinearGroup } from './explain-linear.js';
import {
  summarizeMask,
  type CellState,
  type MaskPicture,
  type MaskSummary,
  type RoutingBound,
  type SegmentIds,
} from './explain-mask.js';
import { COLOR_OPTION, parseCommandLine, TARGET_OPTION, type CommandSpec } from './command-line.js';
import { UsageError, type CliIo } from './io.js';
import { isPictureFile, writePicture } from './picture-file.js';
import { withProgress } from './progress.js';
import { readSpecFile } from './read-spec-file.js';

export const EXPLAIN_HELP = `Usage: attnc explain FILE [options]

Options:
  --after PASS        print the IR after this pass: lower, ${PASS_NAMES.join(', ')} (default: the last)
  --seq N             sequence length for the density, tiles and picture (default 1024)
  --picture N         cells per side of the mask picture, each about N/cells positions
                      (default 48; 0 for none)
  --picture FILE.svg|FILE.png
                      draw the mask and the block plan of every head group at --seq N into FILE
                      instead (legend, density, tile counts; see README "Pictures")
  --target NAME       device profile: ${TARGET_NAMES.join(', ')} (default portable: runs on
                      every WebGPU device, compatibility-mode limits, no optional features)
  --cache             instead: the KV cache each head group needs for decoding (ring, contiguous,
                      recurrent state, ...) and its memory per kv head, or the construct that
                      cannot be decoded incrementally (exit 1)
  --capacity N        positions the cache must be able to hold, for --cache (default 65536)
  --color auto|always|never
  -h, --help          show this help
`;

const EXPLAIN_COMMAND: CommandSpec = {
  name: 'explain',
  help: EXPLAIN_HELP,
  options: [
    { flags: '--after <PASS>' },
    { flags: '--seq <N>', default: '1024' },
    { flags: '--picture <N|FILE>', default: '48' },
    { flags: '--cache' },
    { flags: '--capacity <N>', default: '65536' },
    TARGET_OPTION,
    COLOR_OPTION,
  ],
};

export async function explainCommand(argv: readonly string[], cliIo: CliIo): Promise<number> {
  const { io, progress } = withProgress(cliIo);
  const values = parseCommandLine(EXPLAIN_COMMAND, argv, io);
  if (!values) return 0;
  const { positionals } = values;
  const color = resolveColor(values.string('color'), io.color);
  if (positionals.length !== 1) throw new UsageError('give exactly one spec file');
  const after = values.string('after');
  if (after !== undefined && after !== 'lower' && !PASS_NAMES.includes(after)) {
    throw new UsageError(`unknown pass \`${after}\`: passes are lower, ${PASS_NAMES.join(', ')}`);
  }
  const seq = Number(values.string('seq'));
  const pictureText = values.string('picture')!;
  const pictureFile = isPictureFile(pictureText) ? pictureText : null;
  const picture = pictureFile === null ? Number(pictureText) : 0;
  if (!Number.isInteger(seq) || seq < 1) throw new UsageError('--seq must be a positive integer');
  if (!Number.isInteger(picture) || picture < 0)
    throw new UsageError('--picture must be an integer >= 0');

  const capacity = Number(values.string('capacity'));
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new UsageError('--capacity must be a positive integer');

  const file = positionals[0]!;
  const read = readSpecFile(file);
  if (!read.ok) {
    io.stderr(`attnc: error: ${read.message}\n`);
    return read.kind === 'usage' ? 2 : 1;
  }
  const result = compile(read.text, { file, target: values.string('target')! });
  for (const d of result.diagnostics)
    io.stderr(renderDiagnostic(d, result.source, { color }) + '\n\n');
  if (hasErrors(result.diagnostics)) return 1;
  if (values.flag('cache')) {
    let decodable = true;
    for (const module of result.modules) {
      const plan = planKvCache(module);
      io.stdout(describeCachePlan(plan, result.source, capacity));
      decodable &&= plan.groups.every((g) => g.ok);
    }
    return decodable ? 0 : 1;
  }
  if (pictureFile !== null) {
    progress.step(`drawing the mask and block plan at N = ${seq}`);
    const written = writePicture(pictureFile, result.modules, seq, io);
    progress.clear();
    return written;
  }

  // compile() accepted the target, so it resolves.
  const profile = resolveTarget(values.string('target')!)!;
  for (const module of result.modules) {
    const lowered = lowerAttention(module.attention);
    if (!lowered.ok) continue; // compile() already reported it
    const ir = after ? runPipeline(lowered.attention, { profile }, { after }) : module.ir;
    io.stdout(`== ${module.name}: IR after ${after ?? PASS_NAMES[PASS_NAMES.length - 1]}\n`);
    io.stdout(printAttention(ir).trimEnd() + '\n\n');
    const segments = needsSegments(module.ir) ? sampleSegments(module, seq) : undefined;
    for (const group of module.ir.groups) {
      progress.step(`${module.name}: group ${group.name}: density and tiles at N = ${seq}`);
      io.stdout(describeGroup(module.ir, group, seq, picture, segments));
    }
  }
  progress.clear();
  return 0;
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
