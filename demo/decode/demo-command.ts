// `npm run demo:decode`: the demo model generating greedily on a WebGPU adapter, with
// tfjs-webgpu for the projections and MLP and attnc for attention (see tfjs-model.ts). Flags
// follow the CLI's conventions (src/cli/command-line.ts): the same parser, suggestions for
// misspelt flags, usage errors exit 2 with one line.

import { cpus, loadavg } from 'node:os';
import {
  ADAPTER_OPTION,
  parseCommandLine,
  SEED_OPTION,
  type CommandSpec,
} from '../../src/cli/command-line.js';
import { UsageError, type CliIo } from '../../src/cli/io.js';
import { withProgress } from '../../src/cli/progress.js';
import type { NodeAdapterKind } from '../../src/runtime/adapter-not-found.js';
import { DEFAULT_MODEL, type DecodeModelConfig } from './config.js';
import { runDecodeLoop } from './decode-loop.js';
import { openTfjsWithAttnc, type TfjsOnDevice } from './node-tfjs.js';
import { describeCaches, describeModel, formatDecodeReport } from './report.js';
import { GpuDecoder } from './tfjs-model.js';
import { makeWeights } from './weights.js';

export const DEFAULT_PROMPT = 'attnc compiles attention specs to WebGPU kernels. ';

const HELP = `usage: npm run demo:decode -- [options]

A small decoder-only language model (byte vocabulary, random weights) generating tokens
greedily: projections and MLP in tfjs-webgpu, attention in attnc with a KV cache, on one
WebGPU device. Prints tokens per second and the per-token latency against context length.

  --tokens <T>       tokens to generate (default 16)
  --context <C>      positions prefilled first: the prompt repeated to C (default 256)
  --adapter <A>      auto|hardware|llvmpipe|swiftshader (default auto)
  --seed <S>         seed of the random weights (default 1)
  --prompt <TEXT>    the prompt (default "${DEFAULT_PROMPT.trim()} ")
  --chunk <N>        tokens per prefill step (default 64)
  --window <W>       look-back of the windowed layers (default ${DEFAULT_MODEL.window})
`;

const SPEC: CommandSpec = {
  name: 'demo:decode',
  help: HELP,
  options: [
    { flags: '--tokens <T>', default: '16' },
    { flags: '--context <C>', default: '256' },
    ADAPTER_OPTION,
    { ...SEED_OPTION, default: '1' },
    { flags: '--prompt <TEXT>', default: DEFAULT_PROMPT },
    { flags: '--chunk <N>', default: '64' },
    { flags: '--window <W>', default: String(DEFAULT_MODEL.window) },
  ],
};

export interface DemoArgs {
  readonly tokens: number;
  readonly context: number;
  readonly adapters: readonly NodeAdapterKind[];
  readonly seed: number;
  readonly prompt: Uint8Array;
  readonly chunk: number;
  readonly config: DecodeModelConfig;
}

const ADAPTERS: Record<string, readonly NodeAdapterKind[]> = {
  auto: ['hardware', 'llvmpipe', 'swiftshader'],
  hardware: ['hardware'],
  llvmpipe: ['llvmpipe'],
  swiftshader: ['swiftshader'],
};

function positiveInteger(flag: string, text: string | undefined, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new UsageError(`--${flag} must be an integer from 1 to ${max}, got '${text}'`);
  }
  return value;
}

/** The demo's flags, checked; undefined when --help was printed. */
export function parseDemoArgs(argv: readonly string[], io: CliIo): DemoArgs | undefined {
  const values = parseCommandLine(SPEC, argv, io);
  if (!values) return undefined;
  if (values.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${values.positionals[0]}' (flags only)`);
  }
  const adapter = values.string('adapter') ?? 'auto';
  const adapters = ADAPTERS[adapter];
  if (!adapters) {
    throw new UsageError(
      `unknown adapter '${adapter}': use auto, hardware, llvmpipe or swiftshader`,
    );
  }
  const seedText = values.string('seed');
  const seed = Number(seedText);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new UsageError(`--seed must be an integer from 0 to 4294967295, got '${seedText}'`);
  }
  const prompt = new TextEncoder().encode(values.string('prompt') ?? DEFAULT_PROMPT);
  if (prompt.length === 0) throw new UsageError('--prompt is empty');
  return {
    tokens: positiveInteger('tokens', values.string('tokens'), 1 << 16),
    context: positiveInteger('context', values.string('context'), 1 << 16),
    adapters,
    seed,
    prompt,
    chunk: positiveInteger('chunk', values.string('chunk'), 1024),
    config: {
      ...DEFAULT_MODEL,
      window: positiveInteger('window', values.string('window'), 1 << 16),
    },
  };
}

async function openFirstAdapter(kinds: readonly NodeAdapterKind[]): Promise<TfjsOnDevice> {
  const reasons: string[] = [];
  for (const kind of kinds) {
    try {
      return await openTfjsWithAttnc(kind);
    } catch (error) {
      reasons.push(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`no WebGPU adapter for tfjs and attnc:\n  ${reasons.join('\n  ')}`);
}

export async function runDemoDecode(argv: readonly string[], baseIo: CliIo): Promise<number> {
  const args = parseDemoArgs(argv, baseIo);
  if (!args) return 0;
  const { io, progress } = withProgress(baseIo);
  progress.step('opening the adapter and starting tfjs-webgpu');
  const gpu = await openFirstAdapter(args.adapters);
  try {
    io.stdout(`device: ${gpu.adapterName}\n`);
    // Timings on a software adapter are CPU time: say how busy the machine was.
    io.stdout(`machine: ${cpus().length} CPU cores, load average ${loadavg()[0]!.toFixed(1)}\n`);
    io.stdout(`${describeModel(args.config, args.seed)}\n`);
    progress.step('compiling the layers and uploading the weights');
    const model = await GpuDecoder.create(
      gpu.tf,
      gpu.runtime,
      args.config,
      makeWeights(args.config, args.seed),
      { capacity: args.context + args.tokens, maxChunk: args.chunk },
    );
    try {
      io.stdout(describeCaches(model.caches));
      // The first step of each shape waits for the driver to compile its kernels (tfjs's and
      // attnc's); one chunk and one single token first keep that out of the timings.
      progress.step('warming up: compiling kernels (minutes on a first run)');
      const warmUp = Math.min(args.chunk, args.context + args.tokens - 1);
      await model.prefill(
        Array.from({ length: warmUp }, (_, i) => args.prompt[i % args.prompt.length]!),
      );
      await model.stepGreedy([args.prompt[0]!]);
      model.reset();
      const run = await runDecodeLoop(model, {
        prompt: args.prompt,
        context: args.context,
        tokens: args.tokens,
        chunk: args.chunk,
        onProgress: (phase, done, total) =>
          progress.step(
            phase === 'prefill'
              ? `prefill: ${done}/${total} positions`
              : `decode: ${done}/${total} tokens (context ${args.context + done})`,
          ),
      });
      progress.clear();
      io.stdout(formatDecodeReport(run));
    } finally {
      model.destroy();
    }
  } finally {
    progress.clear();
    gpu.close();
  }
  return 0;
}
