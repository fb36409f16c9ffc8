// `attnc tune FILE [--seq N] [--budget-ms M]`: runs the tuner (src/api/tune.ts) on every
// attention of FILE on a WebGPU device, always measuring (a cached choice is replaced), and
// prints per softmax group a table of the candidate schedules: the verdict of each (ok, wrong
// against the reference, failed on the device, skipped when the budget was spent), its median
// time and which one was chosen; then whether the choice beats the default. Choices are saved
// to the tune cache file unless --no-cache.

import type { CompiledModule } from '../api/compile.js';
import type { Runtime } from '../api/runtime.js';
import {
  adapterIdentity,
  DEFAULT_TUNE_BUDGET_MS,
  DEFAULT_TUNE_REPS,
  DEFAULT_TUNE_SEQ,
  deviceTuneBench,
  Tuner,
  type GroupTuning,
  type TuneResult,
} from '../api/tune.js';
import { sizeClassOf } from '../api/tune-cache.js';
import { describeSchedule } from '../index.js';
import { ADAPTER_CHOICES } from '../runtime/device.js';
import { resolveColor } from './check-command.js';
import {
  ADAPTER_OPTION,
  BATCH_OPTION,
  COLOR_OPTION,
  FORMAT_OPTION,
  JSON_OPTION,
  outputFormat,
  parseCommandLine,
  SEQ_OPTION,
  type CommandSpec,
} from './command-line.js';
import { UsageError, type CliIo } from './io.js';
import { FIRST_RUN_NOTE, NO_PROGRESS, withProgress } from './progress.js';
import { withSpecOnDevice } from './spec-on-device.js';

export const TUNE_HELP = `Usage: attnc tune FILE [--seq N] [--budget-ms M] [options]

Chooses each softmax group's schedule (kernel variant, rows per workgroup, key tile, vector
width) for FILE by measurement on a WebGPU device: every candidate is first checked against
the CPU reference at a small size, then timed at the size class of N (the power of 4 from 64
up that holds N), and the fastest is kept. Prints one table per group. The choices are saved
to the tune cache ($XDG_CACHE_HOME/attnc/tune.json, else ~/.cache/attnc/tune.json), where
createRuntime({ tune: true }) finds them.

Options:
  --seq N             key (and query) rows to tune for (default ${DEFAULT_TUNE_SEQ})
  --budget-ms M       time per softmax group; candidates left when it is spent are skipped
                      (default ${DEFAULT_TUNE_BUDGET_MS}; a run already started finishes)
  --batch B           batch size (default 1)
  --adapter A         ${ADAPTER_CHOICES.join(', ')} (default auto: a GPU, then llvmpipe, then SwiftShader)
  --cache-file FILE   the tune cache to update (default above)
  --no-cache          neither read nor write a tune cache file
  --format text|json  output format (default text; json: one JSON object on stdout, for scripts,
                      editors and CI)
  --json              same as --format json
  --color auto|always|never
  -h, --help          show this help
`;

const TUNE_COMMAND: CommandSpec = {
  name: 'tune',
  help: TUNE_HELP,
  options: [
    SEQ_OPTION,
    { flags: '--budget-ms <M>' },
    BATCH_OPTION,
    ADAPTER_OPTION,
    { flags: '--cache-file <FILE>' },
    { flags: '--no-cache' },
    FORMAT_OPTION,
    JSON_OPTION,
    COLOR_OPTION,
  ],
};

function integer(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, found \`${text}\``);
  }
  return value;
}

export async function tuneCommand(argv: readonly string[], cliIo: CliIo): Promise<number> {
  const { io, progress: terminal } = withProgress(cliIo);
  const values = parseCommandLine(TUNE_COMMAND, argv, io);
  if (!values) return 0;
  const { positionals } = values;
  const color = resolveColor(values.string('color'), io.color);
  if (positionals.length !== 1) throw new UsageError('give exactly one spec file');
  const seqK = integer('seq', values.string('seq'), DEFAULT_TUNE_SEQ, 1);
  const budgetMs = integer('budget-ms', values.string('budget-ms'), DEFAULT_TUNE_BUDGET_MS, 0);
  const batch = integer('batch', values.string('batch'), 1, 1);
  const reps = DEFAULT_TUNE_REPS;
  const noCache = values.flag('no-cache');
  const cacheFileText = values.string('cache-file');
  if (noCache && cacheFileText !== undefined)
    throw new UsageError('--no-cache contradicts --cache-file');
  const cacheFile = noCache ? false : (cacheFileText ?? true);
  const json = outputFormat(values) === 'json';
  const progress = json ? NO_PROGRESS : terminal;
  progress.step('starting the WebGPU device');
  return withSpecOnDevice(
    positionals[0]!,
    values.string('adapter')!,
    io,
    color,
    async (runtime: Runtime, modules: readonly CompiledModule[]) => {
      progress.note(FIRST_RUN_NOTE);
      const sizeClass = sizeClassOf(seqK);
      if (!json) {
        io.stdout(`device: ${runtime.adapterName} (${runtime.kind})\n`);
        io.stdout(
          `size class: N = ${sizeClass} (for --seq ${seqK}), batch ${batch}; ` +
            `budget ${budgetMs} ms per group; warm-up 1, timed runs up to ${reps}\n`,
        );
      }
      const tuner = new Tuner(
        deviceTuneBench(runtime.device),
        runtime.profile,
        adapterIdentity(runtime.device, runtime.profile),
      );
      const results: { name: string; result: TuneResult }[] = [];
      for (const [m, module] of modules.entries()) {
        const which = `${module.name} (${m + 1} of ${modules.length})`;
        const result = await tuner.tune(module, {
          seqK,
          batch,
          budgetMs,
          reps,
          cacheFile,
          refresh: true,
          onProgress: (s) =>
            progress.step(
              `${which}, group ${s.group}: candidate ${s.index}/${s.of} ` +
                `${describeSchedule(s.schedule)}: ${
                  s.phase === 'check'
                    ? 'checking against the reference'
                    : s.phase === 'warmup'
                      ? 'warm-up'
                      : `rep ${s.rep}`
                }`,
            ),
        });
        if (result.cacheProblem) io.stderr(`attnc: warning: ${result.cacheProblem}\n`);
        results.push({ name: module.name, result });
        if (!json) {
          if (result.groups.length === 0) io.stdout(`\n${module.name}: no softmax group to tune\n`);
          for (const group of result.groups) io.stdout(formatGroup(module.name, group));
        }
      }
      if (json) {
        io.stdout(
          JSON.stringify({
            device: runtime.adapterName,
            kind: runtime.kind,
            sizeClass,
            budgetMs,
            reps,
            attentions: results.map(({ name, result }) => ({ name, groups: result.groups })),
          }) + '\n',
        );
      }
      return 0;
    },
  ).finally(() => progress.clear());
}

const COLUMNS: readonly [string, number][] = [
  ['candidate', 30],
  ['verdict', 8],
  ['median ms', 11],
  ['chosen', 7],
];

function cells(values: readonly string[]): string {
  return (
    values
      .map((v, i) => (i === 0 ? v.padEnd(COLUMNS[i]![1]) : v.padStart(COLUMNS[i]![1])))
      .join(' ')
      .trimEnd() + '\n'
  );
}

/** The table of one group, its skipped and failed reasons, and the choice against the default. */
export function formatGroup(attention: string, group: GroupTuning): string {
  const lines: string[] = [
    `\n${attention}, group ${group.group} (N = ${group.sizeClass}, ${(group.spentMs / 1000).toFixed(1)} s)\n`,
    cells(COLUMNS.map(([title]) => title)),
  ];
  for (const c of group.candidates) {
    lines.push(
      cells([
        describeSchedule(c.schedule) + (c.isDefault ? ' (default)' : ''),
        c.verdict,
        c.medianMs !== undefined ? c.medianMs.toFixed(2) : '-',
        c.chosen ? '*' : '',
      ]),
    );
  }
  for (const c of group.candidates) {
    if (c.reason !== undefined && c.verdict !== 'skipped')
      lines.push(`  ${describeSchedule(c.schedule)}: ${c.verdict}: ${c.reason}\n`);
  }
  const skipped = group.candidates.filter((c) => c.verdict === 'skipped').length;
  if (skipped > 0)
    lines.push(`  ${skipped} candidate${skipped === 1 ? '' : 's'} skipped: the budget was spent\n`);
  const def = group.candidates.find((c) => c.isDefault);
  const chosen = group.candidates.find((c) => c.chosen);
  if (def?.medianMs !== undefined && chosen?.medianMs !== undefined && chosen !== def) {
    lines.push(
      `  chosen ${describeSchedule(chosen.schedule)}: ${(def.medianMs / chosen.medianMs).toFixed(2)}x the default's speed\n`,
    );
  } else if (chosen === def) {
    lines.push('  chosen: the default schedule\n');
  }
  return lines.join('');
}
