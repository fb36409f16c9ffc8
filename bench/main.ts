// `npm run bench`: time the registered attention kernels on one adapter.
//
//   npm run bench -- --adapter llvmpipe --seq 1024,4096 --reps 5
//
// Prints, per case and sequence length, the median time, GFLOP/s counting only allowed
// (query, key) pairs (4·D FLOPs each), and the speed of every case relative to the first
// one (the baseline) measured in the same run. `--peers` adds tfjs-webgpu and
// onnxruntime-web (bench/peers/) and compares attnc with the faster of them.

import { parseArgs } from 'node:util';
import { createProgress } from '../src/cli/progress.js';
import {
  acquireDevice,
  isAdapterChoice,
  type AcquiredDevice,
  type AdapterChoice,
} from '../src/runtime/device.js';
import { PeerCheckFailed } from './peers/peer-check.js';
import { formatPeerRatios } from './peers/peer-report.js';
import { acquirePeerDevice, loadPeers, PEER_DEFAULT_CASES, type Peers } from './peers/peers.js';
import { benchFactories } from './cases.js';
import {
  DECODE_CASES,
  DECODE_HEADER,
  DECODE_SHAPE,
  DEFAULT_DECODE_CONTEXTS,
  DEFAULT_PREFILL,
  formatDecodeSummary,
  runDecodeBench,
  type DecodeOptions,
} from './decode.js';
import { coldStart, exampleFiles, formatColdStarts, type ColdStart } from './cold.js';
import {
  CaseNotApplicable,
  timeCase,
  timeCasesInterleaved,
  type BenchCase,
  type CaseFactory,
  type CaseResult,
} from './harness.js';
import { formatGrowth, formatRatios, formatResultsTable } from './report.js';

const USAGE = `usage: npm run bench -- [options]
  --adapter auto|hardware|llvmpipe|swiftshader   (default auto: hardware, else llvmpipe)
  --seq 1024,4096        sequence lengths N
  --d 64                 head dimension D
  --wg 64                baseline workgroup size(s), comma-separated
  --case A,B             run only cases whose name contains A or B (=A: exactly A)
  --warmup 1 --reps 5    untimed and timed runs per case
  --timer auto|wall|timestamp   (auto: GPU timestamps when the device has them)
  --interleave           alternate the reps of all cases of one N (fairer ratios on a noisy machine)
  --json                 also print the results as one JSON line
  --peers                also time tfjs-webgpu and onnxruntime-web (dense, causal; wall clock),
                         each checked against the reference first; without --case: attnc-dense,
                         attnc-causal and the peers. ORT's first run on a machine compiles its
                         FlashAttention shader: about 95 s of CPU on llvmpipe
  --cold                 instead: each example's first run with Mesa's shader cache disabled
                         (attnc run FILE --seq N, N the first --seq; --case filters examples)
  --cold-limit 600       seconds before a cold run counts as a timeout
  --decode               instead: ms per decoded token (Nq = 1 against --seq keys, default
                         1024,4096,16384,65536; 8 heads, 2 kv heads, D = 64) for dense causal,
                         window(left: 1024) | sink(4), causal elu1 and topk, on device tensors,
                         next to a --prefill x --prefill run (default 2048) of the same spec;
                         --reps defaults to 3, each step checked against the CPU reference
                         unless --skip-check`;

function parseList(text: string, what: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new Error(`--${what} expects positive integers, got '${text}'`);
  }
  return values;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      adapter: { type: 'string', default: 'auto' },
      seq: { type: 'string' },
      d: { type: 'string', default: '64' },
      wg: { type: 'string', default: '64' },
      case: { type: 'string' },
      warmup: { type: 'string', default: '1' },
      reps: { type: 'string' },
      timer: { type: 'string', default: 'auto' },
      json: { type: 'boolean', default: false },
      interleave: { type: 'boolean', default: false },
      peers: { type: 'boolean', default: false },
      cold: { type: 'boolean', default: false },
      'cold-limit': { type: 'string', default: '600' },
      decode: { type: 'boolean', default: false },
      prefill: { type: 'string', default: String(DEFAULT_PREFILL) },
      'skip-check': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!isAdapterChoice(values.adapter)) throw new Error(`--adapter ${values.adapter}?\n${USAGE}`);
  const adapter: AdapterChoice = values.adapter;
  const seqs = values.seq
    ? parseList(values.seq, 'seq')
    : values.decode
      ? DEFAULT_DECODE_CONTEXTS
      : [1024, 4096];
  const [d] = parseList(values.d, 'd');
  const warmup = Number(values.warmup);
  const reps = parseList(values.reps ?? (values.decode ? '3' : '5'), 'reps')[0]!;
  if (!['auto', 'wall', 'timestamp'].includes(values.timer)) {
    throw new Error(`--timer ${values.timer}?\n${USAGE}`);
  }

  if (values.cold) return coldStarts(adapter, seqs[0]!, values.case, values['cold-limit']);

  const acquired = values.peers
    ? await acquirePeerDevice(adapter)
    : await acquireDevice({ adapter });
  let peers: Peers | undefined;
  try {
    const { device, profile } = acquired;
    const hasTimestamps = profile.features.timestampQuery;
    if (values.timer === 'timestamp' && (!hasTimestamps || values.peers)) {
      throw new Error(
        values.peers
          ? 'peers submit their own passes, which GPU timestamps cannot see; use --timer wall'
          : `${acquired.adapterName} has no timestamp-query; use --timer wall`,
      );
    }
    const useTimestamps = values.timer !== 'wall' && hasTimestamps && !values.peers;
    console.log(
      `adapter: ${acquired.kind}: ${acquired.adapterName} ` +
        `(${profile.mode}${profile.cpuLike ? ', CPU-like' : ''})`,
    );
    console.log(
      `timer: ${useTimestamps ? 'GPU timestamps per pass (wall also shown)' : 'wall clock, submit to onSubmittedWorkDone'}; ` +
        `warmup ${warmup}, reps ${reps}, median reported`,
    );
    if (values.decode) {
      return await decodeBench(acquired, {
        contexts: seqs,
        prefill: parseList(values.prefill, 'prefill')[0]!,
        warmup,
        reps,
        check: !values['skip-check'],
        filter: values.case,
        json: values.json,
      });
    }
    const factories: CaseFactory[] = benchFactories({
      baselineWorkgroupSizes: parseList(values.wg, 'wg'),
    });
    if (values.peers) {
      peers = await loadPeers(device);
      for (const line of peers.skipped) console.log(`peer skipped: ${line}`);
      factories.push(...peers.factories);
    }
    const wanted = values.case?.split(',') ?? (values.peers ? PEER_DEFAULT_CASES : undefined);
    const matches = (name: string, w: string) =>
      w.startsWith('=') ? name === w.slice(1) : name.includes(w);
    const chosen = factories.filter((f) => !wanted || wanted.some((w) => matches(f.name, w)));
    if (chosen.length === 0) throw new Error(`no case matches --case ${values.case}`);

    const results: CaseResult[] = [];
    const failures: string[] = [];
    for (const n of seqs) {
      if (values.interleave) {
        // Every case of this N is alive at once; reps alternate between them.
        const created: { name: string; benchCase: BenchCase }[] = [];
        try {
          for (const factory of chosen) {
            const benchCase = await createCase(factory, device, { n, d: d! }, failures);
            if (benchCase) created.push({ name: factory.name, benchCase });
          }
          const cases = created.map((c) => c.benchCase);
          const timed = await timeCasesInterleaved(device, cases, { warmup, reps, useTimestamps });
          timed.forEach((result, c) => {
            results.push({ ...result, name: created[c]!.name });
            console.log(formatResultsTable([results.at(-1)!], results.length === 1));
          });
        } finally {
          for (const { benchCase } of created) benchCase.destroy();
        }
        continue;
      }
      for (const factory of chosen) {
        const benchCase = await createCase(factory, device, { n, d: d! }, failures);
        if (benchCase === undefined) continue;
        try {
          const result = await timeCase(device, benchCase, { warmup, reps, useTimestamps });
          results.push({ ...result, name: factory.name });
          console.log(formatResultsTable([results.at(-1)!], results.length === 1));
        } finally {
          benchCase.destroy();
        }
      }
    }
    const ratios = formatRatios(results);
    if (ratios !== '') console.log(`\n${ratios}`);
    const growth = formatGrowth(results);
    if (growth !== '') console.log(`\n${growth}`);
    const peerRatios = formatPeerRatios(results);
    if (peerRatios !== '') console.log(`\n${peerRatios}`);
    if (values.json) {
      console.log(JSON.stringify({ adapter: acquired.adapterName, kind: acquired.kind, results }));
    }
    const bad = results.filter((r) => r.check !== undefined && !(r.check.maxAbsError < 1e-3));
    for (const r of bad) console.error(`CHECK FAILED: ${r.name} N=${r.n}: ${r.check?.maxAbsError}`);
    for (const line of failures) console.error(`CHECK FAILED: ${line}`);
    return bad.length > 0 || failures.length > 0 ? 1 : 0;
  } finally {
    peers?.close();
    acquired.destroy();
  }
}

/**
 * The factory's case at this shape, or undefined when it does not apply to the device
 * (said on stdout) or is a peer whose output was wrong (added to `failures`, not timed).
 */
async function createCase(
  factory: CaseFactory,
  device: GPUDevice,
  shape: { readonly n: number; readonly d: number },
  failures: string[],
): Promise<BenchCase | undefined> {
  try {
    return await factory.create(device, shape);
  } catch (error) {
    if (error instanceof PeerCheckFailed) {
      console.log(`not timed: ${error.message}`);
      failures.push(error.message);
      return undefined;
    }
    if (!(error instanceof CaseNotApplicable)) throw error;
    console.log(`skipped: ${error.message}`);
    return undefined;
  }
}

async function decodeBench(
  acquired: AcquiredDevice,
  options: Omit<DecodeOptions, 'progress' | 'print'> & {
    readonly filter: string | undefined;
    readonly json: boolean;
  },
): Promise<number> {
  const wanted = options.filter?.split(',');
  const cases = DECODE_CASES.filter((c) => !wanted || wanted.some((w) => c.name.includes(w)));
  if (cases.length === 0) {
    throw new Error(
      `no decode case matches --case ${options.filter} (cases: ${DECODE_CASES.map((c) => c.name).join(', ')})`,
    );
  }
  console.log(`decode: one query row against each context, ${DECODE_SHAPE}, batch 1, f32, bhnd`);
  console.log(DECODE_HEADER);
  const progress = createProgress({
    stream: process.stderr,
    isTTY: process.stderr.isTTY === true,
    enabled: !options.json,
  });
  const report = await runDecodeBench(acquired.device, acquired.profile, cases, {
    ...options,
    progress,
    print: (line) => console.log(line),
  });
  const summary = formatDecodeSummary(report);
  if (summary !== '') console.log(`\n${summary}`);
  if (options.json) {
    console.log(JSON.stringify({ adapter: acquired.adapterName, kind: acquired.kind, ...report }));
  }
  const bad = report.measurements.filter(
    (m) => m.relativeError !== undefined && !(m.relativeError < 1e-3),
  );
  for (const m of bad) {
    console.error(
      `CHECK FAILED: ${m.case} at context ${m.seqK}: relative error ${m.relativeError}`,
    );
  }
  return bad.length > 0 ? 1 : 0;
}

async function coldStarts(
  adapter: AdapterChoice,
  seq: number,
  filter: string | undefined,
  limit: string,
): Promise<number> {
  const limitSeconds = parseList(limit, 'cold-limit')[0]!;
  const wanted = filter?.split(',');
  const files = exampleFiles().filter((f) => !wanted || wanted.some((w) => f.includes(w)));
  console.log(`cold first runs (MESA_SHADER_CACHE_DISABLE=true), --adapter ${adapter}, N = ${seq}`);
  const results: ColdStart[] = [];
  for (const file of files) {
    const result = await coldStart(file, { adapter, seq, limitSeconds });
    results.push(result);
    console.log(`${file}: ${result.seconds.toFixed(2)} s ${result.outcome}`);
  }
  console.log(`\n${formatColdStarts(results)}`);
  return results.every((r) => r.outcome === 'ok') ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  },
);
