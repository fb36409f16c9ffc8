// `attnc bench FILE --seq N[,N...]`: times every attention of FILE on a WebGPU device, next to
// dense softmax attention of the same shape timed in the same loop (src/api/benchmark.ts),
// and prints median and minimum times and the speedup over dense; `--json` for scripts.

import { benchmark, type BenchmarkResult } from '../api/benchmark.js';
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
  REPS_OPTION,
  SEED_OPTION,
  SEQ_OPTION,
  SEQ_Q_OPTION,
  type CommandSpec,
} from './command-line.js';
import { benchPlot } from '../picture/bench-plot.js';
import { UsageError, type CliIo } from './io.js';
import { isPictureFile, writeSvgOrPng } from './picture-file.js';
import { FIRST_RUN_NOTE, NO_PROGRESS, withProgress } from './progress.js';
import { withSpecOnDevice } from './spec-on-device.js';

export const BENCH_HELP = `Usage: attnc bench FILE --seq N[,N...] [options]

Times every attention of FILE on a WebGPU device, and dense softmax attention of the same
shape (heads, kv_heads, dims, layout, dtype; no mask) in the same loop, reps alternating.
Inputs are uploaded once and not read back: the time is the kernels', from submit to done.

Options:
  --seq N[,N...]      key (and query) rows; several give one row each
  --seq-q N           query rows, <= every --seq (default: equal to --seq; 1 is a decode step)
  --batch B           batch size (default 1)
  --adapter A         ${ADAPTER_CHOICES.join(', ')} (default auto: a GPU, then llvmpipe, then SwiftShader)
  --warmup W          untimed runs first (default 1)
  --reps R            timed runs; the median is reported (default 5)
  --no-dense          do not time the dense comparison
  --seed S            input seed (default 0)
  --format text|json  output format (default text; json: one JSON object on stdout, for scripts,
                      editors and CI)
  --json              same as --format json
  --plot FILE         also draw median time against N, with the dense curves, to FILE.svg or FILE.png
  --color auto|always|never
  -h, --help          show this help
`;

const BENCH_COMMAND: CommandSpec = {
  name: 'bench',
  help: BENCH_HELP,
  options: [
    SEQ_OPTION,
    SEQ_Q_OPTION,
    BATCH_OPTION,
    ADAPTER_OPTION,
    { flags: '--warmup <W>' },
    REPS_OPTION,
    { flags: '--no-dense' },
    SEED_OPTION,
    FORMAT_OPTION,
    JSON_OPTION,
    { flags: '--plot <FILE>' },
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

export async function benchCommand(argv: readonly string[], cliIo: CliIo): Promise<number> {
  const { io, progress: terminal } = withProgress(cliIo);
  const values = parseCommandLine(BENCH_COMMAND, argv, io);
  if (!values) return 0;
  const { positionals } = values;
  const color = resolveColor(values.string('color'), io.color);
  if (positionals.length !== 1) throw new UsageError('give exactly one spec file');
  const seqText = values.string('seq');
  if (seqText === undefined) throw new UsageError('--seq is required');
  const seqs = seqText.split(',').map((text) => integer('seq', text, 0, 1));
  const seqQText = values.string('seq-q');
  const seqQ = seqQText === undefined ? undefined : integer('seq-q', seqQText, 0, 1);
  if (seqQ !== undefined && seqs.some((n) => seqQ > n)) {
    throw new UsageError(`--seq-q (${seqQ}) must not exceed any --seq (${seqs.join(', ')})`);
  }
  const batch = integer('batch', values.string('batch'), 1, 1);
  const warmup = integer('warmup', values.string('warmup'), 1, 0);
  const reps = integer('reps', values.string('reps'), 5, 1);
  const seed = integer('seed', values.string('seed'), 0, 0);
  const json = outputFormat(values) === 'json';
  const dense = !values.flag('no-dense');
  const progress = json ? NO_PROGRESS : terminal;
  const plot = values.string('plot');
  if (plot !== undefined && !isPictureFile(plot)) {
    throw new UsageError(`--plot takes a file ending in .svg or .png, found \`${plot}\``);
  }
  progress.step('starting the WebGPU device');
  return withSpecOnDevice(
    positionals[0]!,
    values.string('adapter')!,
    io,
    color,
    async (runtime, modules) => {
      progress.note(FIRST_RUN_NOTE);
      if (!json) {
        io.stdout(`device: ${runtime.adapterName} (${runtime.kind})\n`);
        io.stdout(`timer: wall clock, submit to done; warmup ${warmup}, reps ${reps}\n`);
        io.stdout(formatHeader());
      }
      const results: BenchmarkResult[] = [];
      const cases = seqs.length * modules.length;
      for (const [n, seqK] of seqs.entries()) {
        for (const [m, module] of modules.entries()) {
          const which = `case ${n * modules.length + m + 1} of ${cases}: ${module.name}, N = ${seqK}`;
          const result = await benchmark(runtime, module, {
            batch,
            seqK,
            seqQ: seqQ ?? seqK,
            warmup,
            reps,
            seed,
            compareDense: dense,
            onProgress: (s) =>
              progress.step(
                `${which}: ${s.phase === 'warmup' ? 'warm-up' : 'rep'} ` +
                  `${s.index}/${s.of}${s.dense ? ' (dense)' : ''}`,
              ),
          });
          results.push(result);
          if (!json) io.stdout(formatRow(result));
        }
      }
      if (json) {
        io.stdout(
          JSON.stringify({
            device: runtime.adapterName,
            kind: runtime.kind,
            warmup,
            reps,
            results,
          }) + '\n',
        );
      }
      if (plot !== undefined) {
        const title = `attnc bench ${positionals[0]!} on ${runtime.kind}`;
        return writeSvgOrPng(plot, benchPlot(results, title), io, { quiet: json });
      }
      return 0;
    },
  ).finally(() => progress.clear());
}

const COLUMNS: readonly [string, number][] = [
  ['attention', 20],
  ['B', 3],
  ['Nq', 7],
  ['Nk', 7],
  ['median ms', 11],
  ['min ms', 11],
  ['dense ms', 11],
  ['vs dense', 9],
];

function cells(values: readonly string[]): string {
  return (
    values
      .map((v, i) => (i === 0 ? v.padEnd(COLUMNS[i]![1]) : v.padStart(COLUMNS[i]![1])))
      .join(' ') + '\n'
  );
}

function formatHeader(): string {
  return cells(COLUMNS.map(([title]) => title));
}

function formatRow(r: BenchmarkResult): string {
  return cells([
    r.name,
    String(r.batch),
    String(r.seqQ),
    String(r.seqK),
    r.timing.medianMs.toFixed(2),
    r.timing.minMs.toFixed(2),
    r.dense ? r.dense.medianMs.toFixed(2) : '-',
    r.speedupOverDense !== undefined ? `${r.speedupOverDense.toFixed(2)}x` : '-',
  ]);
}
