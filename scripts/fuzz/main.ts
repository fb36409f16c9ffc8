// `npm run fuzz -- --inputs N --seed S`: runs the front end and the compiler over generated
// and mutated specs in a pool of worker processes, and reports every exception, internal
// error, malformed diagnostic, hang, memory blow-up, crash, oversized output and
// non-deterministic compile, with each failing input saved under --out. Exit status: 0 when
// nothing failed, 1 when something did, 2 on a usage error. See docs/fuzzing.md.

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fuzzInput } from './inputs.js';
import { runPool } from './pool.js';
import { prepareOutput, renderSummary, saveFailure, summarize, writeSummary } from './report.js';

const USAGE = `usage: npm run fuzz -- [options]
  --inputs N          how many inputs (default 10000)
  --seed S            the run's seed, 0..4294967295 (default 1); same seed, same inputs
  --first I           index of the first input (default 0); with --inputs 1 reruns one input
  --jobs J            worker processes (default: the number of cores)
  --out DIR           where failing inputs and the summary go (default .fuzz)
  --time-limit MS     per input, else a hang (default 5000); a hang is confirmed by a rerun
  --memory-limit MB   per worker: V8 heap limit and resident memory (default 1024)
  --output-limit MB   produced WGSL, plans and IR per input (default 16)
  --validate-wgsl R   validate the WGSL of a fraction R (0..1) of inputs with Dawn's null backend
  --show I            print input I of the seed and how it was made, run nothing
  --target MODULE     module exporting the \`target\` to run (default: the compiler)
  --quiet             no progress lines
`;

function usageError(message: string): never {
  process.stderr.write(`attnc fuzz: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function integer(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    usageError(`--${name} must be an integer from ${min} to ${max}, got \`${text}\``);
  }
  return Number(text);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      inputs: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '1' },
      first: { type: 'string', default: '0' },
      jobs: { type: 'string', default: String(availableParallelism()) },
      out: { type: 'string', default: '.fuzz' },
      'time-limit': { type: 'string', default: '5000' },
      'memory-limit': { type: 'string', default: '1024' },
      'output-limit': { type: 'string', default: '16' },
      'validate-wgsl': { type: 'string', default: '0' },
      show: { type: 'string' },
      target: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  usageError((error as Error).message);
}
if (parsed.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const seed = integer('seed', parsed.seed, 0, 2 ** 32 - 1);
if (parsed.show !== undefined) {
  const input = fuzzInput(seed, integer('show', parsed.show, 0, Number.MAX_SAFE_INTEGER));
  process.stdout.write(`# input ${input.index} of seed ${seed}: ${input.origin}\n${input.text}\n`);
  process.exit(0);
}
const validateRate = Number(parsed['validate-wgsl']);
if (!(validateRate >= 0 && validateRate <= 1)) {
  usageError(`--validate-wgsl must be a fraction from 0 to 1, got \`${parsed['validate-wgsl']}\``);
}
const run = {
  seed,
  first: integer('first', parsed.first, 0, Number.MAX_SAFE_INTEGER),
  inputs: integer('inputs', parsed.inputs, 1, Number.MAX_SAFE_INTEGER),
  jobs: integer('jobs', parsed.jobs, 1, 256),
  timeLimitMs: integer('time-limit', parsed['time-limit'], 1, 3_600_000),
  memoryLimitMb: integer('memory-limit', parsed['memory-limit'], 64, 1_000_000),
  outputLimitBytes: integer('output-limit', parsed['output-limit'], 1, 100_000) * 2 ** 20,
  validateRate,
};
const out = resolve(parsed.out);
const targetModule = parsed.target
  ? resolve(parsed.target)
  : fileURLToPath(new URL('./target.ts', import.meta.url));

// Exit through process.exit so that the pool's exit hook kills the workers.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
}
prepareOutput(out);
const started = performance.now();
let lastReport = started;
const result = await runPool({
  ...run,
  targetModule,
  onFailure: (failure) => {
    saveFailure(out, seed, failure);
    if (!parsed.quiet) {
      process.stderr.write(
        `  input ${failure.index}: [${failure.kind}] ${failure.message.split('\n')[0]!.slice(0, 200)}\n`,
      );
    }
  },
  onProgress: (done) => {
    const now = performance.now();
    if (parsed.quiet || now - lastReport < 5000) return;
    lastReport = now;
    const rate = done / ((now - started) / 1000);
    process.stderr.write(`  ${done}/${run.inputs} inputs, ${rate.toFixed(0)}/s\n`);
  },
}).catch((error: unknown) => {
  process.stderr.write(`attnc fuzz: ${(error as Error).message}\n`);
  process.exit(2);
});
const summary = summarize(run, result);
writeSummary(out, summary);
process.stdout.write(renderSummary(summary, out));
process.stdout.write(`summary: ${resolve(out, 'summary.json')}\n`);
process.exit(summary.failureCount > 0 ? 1 : 0);
