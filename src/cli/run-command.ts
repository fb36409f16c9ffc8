// `attnc run FILE --seq N [--batch B] [--adapter A] [--verify]`: compiles every attention for
// the device found, runs it on seeded random inputs, prints the median time and, with
// --verify, the error against the CPU reference relative to the reference's largest value
// (exit 1 past the tolerance; src/api/compare-output.ts says why relative).

import { compareOutput } from '../api/compare-output.js';
import type { CompiledModule } from '../api/compile.js';
import { randomInputs, type RandomInputs } from '../api/random-inputs.js';
import { reference } from '../api/reference.js';
import type { Runtime, RuntimeOptions } from '../api/runtime.js';
import { ADAPTER_CHOICES } from '../runtime/device.js';
import { checkRunSizes, deviceRunLimits } from '../runtime/loaded-kernel.js';
import { resolveColor } from './check-command.js';
import {
  ADAPTER_OPTION,
  BATCH_OPTION,
  COLOR_OPTION,
  parseCommandLine,
  REPS_OPTION,
  SEED_OPTION,
  SEQ_OPTION,
  SEQ_Q_OPTION,
  type CommandSpec,
} from './command-line.js';
import { UsageError, type CliIo } from './io.js';
import { FIRST_RUN_NOTE, withProgress, type Progress } from './progress.js';
import { withSpecOnDevice } from './spec-on-device.js';

/**
 * f32 kernels against a float64 reference (language.md: results agree within 1e-4), as a
 * relative error: max |output - reference| / max |reference|.
 */
export const DEFAULT_TOLERANCE = 1e-4;

export const RUN_HELP = `Usage: attnc run FILE --seq N [options]

Runs every attention of FILE on seeded random inputs on a WebGPU device.

Options:
  --seq N             key (and query) rows (required)
  --seq-q N           query rows, <= every --seq (default: equal to --seq; 1 is a decode step)
  --batch B           batch size (default 1)
  --adapter A         ${ADAPTER_CHOICES.join(', ')} (default auto: a GPU, then llvmpipe, then SwiftShader)
  --reps R            timed runs; the median is reported (default 5)
  --seed S            input seed (default 0)
  --verify            compare with the CPU reference; exit 1 when the relative error
                      (max abs error / the reference's max abs value) > tolerance
  --tolerance T       (default ${DEFAULT_TOLERANCE})
  --color auto|always|never
  -h, --help          show this help
`;

const RUN_COMMAND: CommandSpec = {
  name: 'run',
  help: RUN_HELP,
  options: [
    SEQ_OPTION,
    SEQ_Q_OPTION,
    BATCH_OPTION,
    ADAPTER_OPTION,
    REPS_OPTION,
    // The old spelling of --reps (bench has always said --reps), kept working.
    { flags: '--repeat <R>', hidden: true },
    SEED_OPTION,
    { flags: '--verify' },
    { flags: '--tolerance <T>' },
    COLOR_OPTION,
  ],
};

function positiveInt(name: string, text: string | undefined, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`--${name} must be a positive integer, found \`${text}\``);
  }
  return value;
}

/** `runtime` options for tests (e.g. a self-check probe that fails); the CLI passes none. */
export async function runCommand(
  argv: readonly string[],
  cliIo: CliIo,
  runtime: Pick<RuntimeOptions, 'selfCheck'> = {},
): Promise<number> {
  const { io, progress } = withProgress(cliIo);
  const values = parseCommandLine(RUN_COMMAND, argv, io);
  if (!values) return 0;
  const { positionals } = values;
  const color = resolveColor(values.string('color'), io.color);
  if (positionals.length !== 1) throw new UsageError('give exactly one spec file');
  const seqK = positiveInt('seq', values.string('seq'));
  const seqQ = positiveInt('seq-q', values.string('seq-q'), seqK);
  if (seqQ > seqK) throw new UsageError(`--seq-q (${seqQ}) must not exceed --seq (${seqK})`);
  const batch = positiveInt('batch', values.string('batch'), 1);
  const reps = values.string('reps');
  const repeat =
    reps !== undefined
      ? positiveInt('reps', reps)
      : positiveInt('repeat', values.string('repeat'), 5);
  const seedText = values.string('seed');
  const seed = seedText === undefined ? 0 : Number(seedText);
  if (!Number.isInteger(seed) || seed < 0) {
    throw new UsageError(`--seed must be an integer >= 0, found \`${seedText}\``);
  }
  const toleranceText = values.string('tolerance');
  const tolerance = toleranceText === undefined ? DEFAULT_TOLERANCE : Number(toleranceText);
  if (!(tolerance > 0)) throw new UsageError('--tolerance must be a positive number');
  progress.step('starting the WebGPU device');
  return withSpecOnDevice(
    positionals[0]!,
    values.string('adapter')!,
    io,
    color,
    async (runtime, modules) => {
      io.stdout(`device: ${runtime.adapterName} (${runtime.kind})\n`);
      progress.note(FIRST_RUN_NOTE);
      let failed = false;
      const warned = new Set<string>();
      for (const module of modules) {
        const ok = await runModule(
          runtime,
          module,
          { batch, seqQ, seqK, seed, repeat, tolerance },
          values.flag('verify'),
          io,
          progress,
          warned,
        );
        if (!ok) failed = true;
      }
      return failed ? 1 : 0;
    },
    runtime,
  ).finally(() => progress.clear());
}

interface RunSettings {
  readonly batch: number;
  readonly seqQ: number;
  readonly seqK: number;
  readonly seed: number;
  readonly repeat: number;
  readonly tolerance: number;
}

async function runModule(
  runtime: Runtime,
  module: CompiledModule,
  s: RunSettings,
  verify: boolean,
  io: CliIo,
  progress: Progress,
  warned: Set<string>,
): Promise<boolean> {
  const at = `N = ${s.seqK}`;
  // Sizes against the device before any input is generated: a huge --seq fails here, naming
  // the buffer and the limit, instead of allocating gigabytes of inputs first.
  checkRunSizes(module.plan, s, deviceRunLimits(runtime.device));
  const kernel = await runtime.load(module);
  for (const fallback of runtime.fallbacks) {
    if (warned.has(fallback.message)) continue;
    warned.add(fallback.message);
    io.stderr(`attnc: warning: ${fallback.message}\n`);
  }
  progress.step(`${module.name}: drawing random inputs (${at})`);
  const inputs = randomInputs(module, s);
  try {
    progress.step(`${module.name}: compiling kernels, first run (${at})`);
    let output = await kernel.run(inputs); // warm-up: first-use compilation is not timed
    const times: number[] = [];
    for (let r = 0; r < s.repeat; r++) {
      progress.step(`${module.name}: run ${r + 1} of ${s.repeat} (${at})`);
      const start = performance.now();
      output = await kernel.run(inputs);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const shape = `batch ${s.batch}, seqQ ${s.seqQ}, seqK ${s.seqK}`;
    io.stdout(
      `${module.name}: ${shape}: median ${median.toFixed(2)} ms over ${s.repeat} runs (upload, dispatch and read-back)\n`,
    );
    if (!verify) return true;
    progress.step(`${module.name}: CPU reference (${at})`);
    const verdict = verifyOutput(module, inputs, output.o, s.tolerance);
    io.stdout(verdict.line + '\n');
    return verdict.ok;
  } finally {
    kernel.destroy();
  }
}

/**
 * `--verify`'s rule: the relative error against the CPU reference (max abs error over the
 * reference's max abs value) within `tolerance`. Relative, so an all-zero output fails even
 * when the reference's values are all below the tolerance.
 */
export function verifyOutput(
  module: CompiledModule,
  inputs: RandomInputs,
  output: Float32Array,
  tolerance: number,
): { readonly ok: boolean; readonly line: string } {
  const c = compareOutput(output, reference(module, inputs).o);
  const ok = c.relativeError <= tolerance;
  const line =
    `${module.name}: relative error vs reference ${c.relativeError.toExponential(2)} ` +
    `(max abs error ${c.maxAbsError.toExponential(2)} / reference max abs ${c.referenceMaxAbs.toExponential(2)}; ` +
    `tolerance ${tolerance}): ${ok ? 'ok' : 'FAILED'}`;
  return { ok, line };
}
