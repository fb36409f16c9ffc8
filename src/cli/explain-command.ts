// `attnc explain FILE [--after PASS] [--seq N]`: what the compiler made of a spec. Prints the IR
// after a pass, how much of the score matrix the mask allows and how its tiles classify at N
// (empty tiles are never visited, full ones skip the mask), and a picture of the mask.

import { parseArgs } from 'node:util';
import { compile, resolveTarget } from '../api/compile.js';
import { randomInputs } from '../api/random-inputs.js';
import { hasErrors } from '../diagnostics/diagnostic.js';
import { renderDiagnostic } from '../diagnostics/render.js';
import type { Attention, Group } from '../ir/ir.js';
import { maskAllows } from '../ir/mask.js';
import { printAttention } from '../ir/print.js';
import { lowerAttention } from '../lower/lower.js';
import { PASS_NAMES, runPipeline } from '../passes/pipeline.js';
import { resolveColor } from './check-command.js';
import { describeLinearGroup } from './explain-linear.js';
import { UsageError, type CliIo } from './io.js';
import { isPictureFile, writePicture } from './picture-file.js';
import { withProgress } from './progress.js';
import { readSpecFile } from './read-spec-file.js';

export const EXPLAIN_HELP = `Usage: attnc explain FILE [options]

Options:
  --after PASS    print the IR after this pass: lower, ${PASS_NAMES.join(', ')} (default: the last)
  --seq N         sequence length for the density and tile statistics (default 1024)
  --picture N     side of the ASCII mask picture (default 48; 0 for none)
  --picture FILE.svg|FILE.png
                  draw the mask and the block plan of every head group at --seq N into FILE
                  instead (legend, density, tile counts; see README "Pictures")
  --target NAME   device profile the passes plan for (default portable)
  --color auto|always|never
  -h, --help      show this help
`;

export async function explainCommand(argv: readonly string[], cliIo: CliIo): Promise<number> {
  const { io, progress } = withProgress(cliIo);
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      after: { type: 'string' },
      seq: { type: 'string', default: '1024' },
      picture: { type: 'string', default: '48' },
      target: { type: 'string', default: 'portable' },
      color: { type: 'string', default: 'auto' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(EXPLAIN_HELP);
    return 0;
  }
  const color = resolveColor(values.color, io.color);
  if (positionals.length !== 1) throw new UsageError('give exactly one spec file');
  const after = values.after;
  if (after !== undefined && after !== 'lower' && !PASS_NAMES.includes(after)) {
    throw new UsageError(`unknown pass \`${after}\`: passes are lower, ${PASS_NAMES.join(', ')}`);
  }
  const seq = Number(values.seq);
  const pictureFile = isPictureFile(values.picture) ? values.picture : null;
  const picture = pictureFile === null ? Number(values.picture) : 0;
  if (!Number.isInteger(seq) || seq < 1) throw new UsageError('--seq must be a positive integer');
  if (!Number.isInteger(picture) || picture < 0)
    throw new UsageError('--picture must be an integer >= 0');

  const file = positionals[0]!;
  const read = readSpecFile(file);
  if (!read.ok) {
    io.stderr(`attnc: error: ${read.message}\n`);
    return read.kind === 'usage' ? 2 : 1;
  }
  const result = compile(read.text, { file, target: values.target });
  for (const d of result.diagnostics)
    io.stderr(renderDiagnostic(d, result.source, { color }) + '\n\n');
  if (hasErrors(result.diagnostics)) return 1;
  if (pictureFile !== null) {
    progress.step(`drawing the mask and block plan at N = ${seq}`);
    const written = writePicture(pictureFile, result.modules, seq, io);
    progress.clear();
    return written;
  }

  for (const module of result.modules) {
    const lowered = lowerAttention(module.attention);
    if (!lowered.ok) continue; // compile() already reported it
    // compile() accepted the target, so it resolves.
    const profile = resolveTarget(values.target)!;
    const ir = after ? runPipeline(lowered.attention, { profile }, { after }) : module.ir;
    io.stdout(`== ${module.name}: IR after ${after ?? PASS_NAMES[PASS_NAMES.length - 1]}\n`);
    io.stdout(printAttention(ir).trimEnd() + '\n\n');
    const segments = randomInputs(module, { batch: 1, seqQ: seq, seqK: seq });
    for (const group of module.ir.groups) {
      progress.step(`${module.name}: group ${group.name}: density and tiles at N = ${seq}`);
      io.stdout(describeGroup(module.ir, group, seq, segments.seg_q, segments.seg_k));
      if (picture > 0) {
        const small = randomInputs(module, { batch: 1, seqQ: picture, seqK: picture });
        io.stdout(drawMask(group, picture, small.seg_q, small.seg_k));
      }
    }
  }
  progress.clear();
  return 0;
}

function describeGroup(
  ir: Attention,
  group: Group,
  n: number,
  segQ?: Uint32Array,
  segK?: Uint32Array,
): string {
  const linear = describeLinearGroup(ir, group, n);
  if (linear !== null) return linear;
  const mechanism = group.mechanism;
  const plan = mechanism.plan;
  const tq = plan?.queryTile ?? 64;
  const tk = plan?.keyTile ?? 64;
  let allowedPairs = 0;
  const counts = { empty: 0, partial: 0, full: 0 };
  const qTiles = Math.ceil(n / tq);
  const kTiles = Math.ceil(n / tk);
  const tileAllowed = new Uint32Array(qTiles * kTiles);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const at = { i, p: i, j, seqK: n, ...(segQ && segK ? { segQ, segK } : {}) };
      if (maskAllows(mechanism.mask, at)) {
        allowedPairs++;
        tileAllowed[Math.floor(i / tq) * kTiles + Math.floor(j / tk)]!++;
      }
    }
  }
  for (let qt = 0; qt < qTiles; qt++) {
    for (let kt = 0; kt < kTiles; kt++) {
      const cells = (Math.min(n, (qt + 1) * tq) - qt * tq) * (Math.min(n, (kt + 1) * tk) - kt * tk);
      const a = tileAllowed[qt * kTiles + kt]!;
      if (a === 0) counts.empty++;
      else if (a === cells) counts.full++;
      else counts.partial++;
    }
  }
  const tiles = qTiles * kTiles;
  const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(1)}%`;
  return (
    [
      `-- group ${group.name} of ${ir.name} (heads ${group.headOffset}..${group.headOffset + group.heads - 1}) at N = ${n}`,
      `   density: ${pct(allowedPairs, n * n)} of scores allowed (${allowedPairs} of ${n * n})`,
      `   tiles ${tq}x${tk}: ${tiles} in all; empty ${counts.empty} (${pct(counts.empty, tiles)}, never visited), ` +
        `partial ${counts.partial} (${pct(counts.partial, tiles)}, masked per element), ` +
        `full ${counts.full} (${pct(counts.full, tiles)}, no mask)`,
      `   kernel variant: ${plan?.variant ?? 'none'}`,
      '',
    ].join('\n') + '\n'
  );
}

function drawMask(group: Group, n: number, segQ?: Uint32Array, segK?: Uint32Array): string {
  const rows = [`   mask at N = ${n} (rows: queries, columns: keys; # allowed, . masked)`];
  for (let i = 0; i < n; i++) {
    let line = '   ';
    for (let j = 0; j < n; j++) {
      const at = { i, p: i, j, seqK: n, ...(segQ && segK ? { segQ, segK } : {}) };
      line += maskAllows(group.mechanism.mask, at) ? '#' : '.';
    }
    rows.push(line);
  }
  return rows.join('\n') + '\n\n';
}
