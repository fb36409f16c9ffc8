// `attnc explain FILE [--after PASS] [--seq N]`: what the compiler made of a spec. Prints the IR
// after a pass, how much of the score matrix the mask allows and how its tiles classify at N
// (empty tiles are never visited, full ones skip the mask), and a picture of the mask. All of
// it comes from the public API (src/index.ts: compile, explainModule, specPicture); this
// module only reads flags and writes. With `--kernels` it prints the kernel IR of every
// kernel instead; with `--cache [--capacity N]`, the KV cache plan (explain-cache.ts).

import {
  compile,
  EXPLAIN_STAGES,
  explainKernels,
  explainModule,
  hasErrors,
  planKvCache,
  renderDiagnostic,
  specPicture,
  TARGET_NAMES,
} from '../index.js';
import { resolveColor } from './check-command.js';
import { describeCachePlan } from './explain-cache.js';
import { COLOR_OPTION, parseCommandLine, TARGET_OPTION, type CommandSpec } from './command-line.js';
import { UsageError, type CliIo } from './io.js';
import { isPictureFile, writeSvgOrPng } from './picture-file.js';
import { withProgress } from './progress.js';
import { readSpecFile } from './read-spec-file.js';

export const EXPLAIN_HELP = `Usage: attnc explain FILE [options]

Options:
  --after PASS        print the IR after this pass: ${EXPLAIN_STAGES.join(', ')} (default: the last)
  --kernels           print the kernel IR of every kernel instead (see docs/compiler.md)
  --cache             instead: the KV cache each head group needs for decoding (ring, contiguous,
                      recurrent state, ...) and its memory per kv head, or the construct that
                      cannot be decoded incrementally (exit 1)
  --capacity N        positions the cache must be able to hold, for --cache (default 65536)
  --seq N             sequence length for the density, tiles and picture (default 1024)
  --picture N         cells per side of the mask picture, each about N/cells positions
                      (default 48; 0 for none)
  --picture FILE.svg|FILE.png
                      draw the mask and the block plan of every head group at --seq N into FILE
                      instead (legend, density, tile counts; see README "Pictures")
  --target NAME       device profile: ${TARGET_NAMES.join(', ')} (default portable: runs on
                      every WebGPU device, compatibility-mode limits, no optional features)
  --color auto|always|never
  -h, --help          show this help
`;

const EXPLAIN_COMMAND: CommandSpec = {
  name: 'explain',
  help: EXPLAIN_HELP,
  options: [
    { flags: '--after <PASS>' },
    { flags: '--kernels' },
    { flags: '--cache' },
    { flags: '--capacity <N>', default: '65536' },
    { flags: '--seq <N>', default: '1024' },
    { flags: '--picture <N|FILE>', default: '48' },
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
  if (after !== undefined && !EXPLAIN_STAGES.includes(after)) {
    throw new UsageError(`unknown pass \`${after}\`: passes are ${EXPLAIN_STAGES.join(', ')}`);
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
  if (pictureFile !== null) {
    progress.step(`drawing the mask and block plan at N = ${seq}`);
    const written = writeSvgOrPng(pictureFile, specPicture(result.modules, { seq }), io);
    progress.clear();
    return written;
  }

  if (values.flag('cache')) {
    let decodable = true;
    for (const module of result.modules) {
      const plan = planKvCache(module);
      io.stdout(describeCachePlan(plan, result.source, capacity));
      decodable &&= plan.groups.every((g) => g.ok);
    }
    return decodable ? 0 : 1;
  }
  if (values.flag('kernels')) {
    for (const module of result.modules) io.stdout(explainKernels(module));
    return 0;
  }
  for (const module of result.modules) {
    const text = explainModule(module, {
      after,
      seq,
      picture,
      // compile() accepted the target, so it resolves.
      target: values.string('target')!,
      onGroup: (group) =>
        progress.step(`${module.name}: group ${group}: density and tiles at N = ${seq}`),
    });
    io.stdout(text);
  }
  progress.clear();
  return 0;
}
