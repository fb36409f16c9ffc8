// `attnc bench FILE --seq N[,N...]`: times every attention of FILE on a WebGPU device, next to
// dense softmax attention of the same shape timed in the same loop (src/api/benchmark.ts),
// and prints median and minimum times and the speedup over dense; `--json` for scripts.

import { parseArgs } from 'node:util';
import { benchmark, type BenchmarkResult } from '../api/benchmark.js';
import { ADAPTER_CHOICES } from '../runtime/device.js';
import { resolveColor } from './check-command.js';
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
  --seq N[,N...]   key (and query) rows; several give one row each
  --seq-q N        query rows, <= every --seq (default: equal to --seq)
  --batch B        batch size (default 1)
  --adapter A      ${ADAPTER_CHOICES.join(', ')} (default auto)
  --warmup W       untimed runs first (default 1)
  --reps R         timed runs; the median is reported (default 5)
  --no-dense       do not time the dense comparison
  --seed S         input seed (default 0)
  --json           one JSON object on stdout instead of the table
  --plot FILE      also draw median time against N, with the dense curves, to FILE.svg or FILE.png
  --color auto|always|never
  -h, --help       show this help
`;

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
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      seq: { type: 'string' },
      'seq-q': { type: 'string' },
      batch: { type: 'string' },
      adapter: { type: 'string', default: 'auto' },
      warmup: { type: 'string' },
      reps: { type: 'string' },
      'no-dense': { type: 'boolean' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
      plot: { type: 'string' },
      color: { type: 'string', default: 'auto' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(BENCH_HELP);
    return 0;
  }
  const color = resolveColor(values.color, io.color);
  if (positionals.length !== 1) throw new UsageError('give exactly one spec file');
  if (values.seq === undefined) throw new UsageError('--seq is required');
  const seqs = values.seq.split(',').map((text) => integer('seq', text, 0, 1));
  const seqQ = values['seq-q'] === undefined ? undefined : integer('seq-q', values['seq-q'], 0, 1);
  if (seqQ !== undefined && seqs.some((n) => seqQ > n)) {
    throw new UsageError(`--seq-q (${seqQ}) must not exceed any --seq (${seqs.join(', ')})`);
  }
  const batch = integer('batch', values.batch, 1, 1);
  const warmup = integer('warmup', values.warmup, 1, 0);
  const reps = integer('reps', values.reps, 5, 1);
  const seed = integer('seed', values.seed, 0, 0);
  const progress = values.json ? NO_PROGRESS : terminal;
  const plot = values.plot;
  if (plot !== undefined && !isPictureFile(plot)) {
    throw new UsageError(`--plot takes a file ending in .svg or .png, found \`${plot}\``);
  }
  progress.step('starting the WebGPU device');
  return withSpecOnDevice(positionals[0]!, values.adapter, io, color, async (runtime, modules) => {
    progress.note(FIRST_RUN_NOTE);
    if (!values.json) {
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
          compareDense: !values['no-dense'],
          onProgress: (s) =>
            progress.step(
              `${which}: ${s.phase === 'warmup' ? 'warm-up' : 'rep'} ` +
                `${s.index}/${s.of}${s.dense ? ' (dense)' : ''}`,
            ),
        });
        results.push(result);
        if (!values.json) io.stdout(formatRow(result));
      }
    }
    if (values.json) {
      io.stdout(
        JSON.stringify({ device: runtime.adapterName, kind: runtime.kind, warmup, reps, results }) +
          '\n',
      );
    }
    if (plot !== undefined) {
      const title = `attnc bench ${positionals[0]!} on ${runtime.kind}`;
      return writeSvgOrPng(plot, benchPlot(results, title), io, { quiet: values.json === true });
    }
    return 0;
  }).finally(() => progress.clear());
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
