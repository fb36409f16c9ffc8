// Where a fuzzing run's failures go: each failing input saved as `.attn` under
// OUT/failures/, and OUT/summary.json plus OUT/summary.txt with the run's figures and the
// failures grouped by signature (kind, message with numbers and names blanked, and for an
// exception the innermost compiler frame), each group naming its smallest saved input.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fuzzInput } from './inputs.js';
import type { FailureRecord, PoolResult } from './pool.js';

export interface RunDescription {
  readonly seed: number;
  readonly first: number;
  readonly inputs: number;
  readonly jobs: number;
  readonly timeLimitMs: number;
  readonly memoryLimitMb: number;
  readonly outputLimitBytes: number;
  readonly validateRate: number;
}

export interface FailureGroup {
  readonly signature: string;
  readonly kind: string;
  readonly count: number;
  /** The group's smallest input: its file, index and size. */
  readonly example: { readonly file: string; readonly index: number; readonly bytes: number };
  readonly message: string;
  readonly origin: string;
}

export interface Summary extends RunDescription {
  readonly done: number;
  readonly elapsedSeconds: number;
  readonly inputsPerSecond: number;
  readonly restarts: number;
  /** Inputs that hung once but not when run again: not failures. */
  readonly unconfirmedHangs: readonly number[];
  readonly failureCount: number;
  readonly groups: readonly FailureGroup[];
  readonly failures: readonly (FailureRecord & {
    readonly file: string;
    readonly origin: string;
  })[];
}

/** Clears what an earlier run left in `out` (only the fuzzer's own files) and prepares it. */
export function prepareOutput(out: string): void {
  rmSync(join(out, 'failures'), { recursive: true, force: true });
  rmSync(join(out, 'summary.json'), { force: true });
  rmSync(join(out, 'summary.txt'), { force: true });
  mkdirSync(join(out, 'failures'), { recursive: true });
}

export function failureFile(failure: FailureRecord): string {
  return join('failures', `${failure.kind}-${failure.index}.attn`);
}

/** Saves one failing input as soon as it is known, so an interrupted run keeps it. */
export function saveFailure(out: string, seed: number, failure: FailureRecord): void {
  writeFileSync(join(out, failureFile(failure)), fuzzInput(seed, failure.index).text);
}

export function signature(failure: FailureRecord): string {
  const message = failure.message
    // `kernel NAME.GROUP.softmax (portable)`: the same bug whatever the spec and profile.
    .replace(/kernel \S+\.(\w+) \([\w-]+\)/, 'kernel _.$1')
    .replace(/`[^`]*`/g, '`_`')
    .replace(/\d+/g, 'N')
    .slice(0, 160);
  const frame = failure.kind === 'exception' ? innermostCompilerFrame(failure.detail) : '';
  return `${failure.kind}: ${message}${frame ? ` @ ${frame}` : ''}`;
}

/** The innermost stack frame in the compiler's src/, without line numbers: `fn (src/x/y.ts)`. */
function innermostCompilerFrame(stack: string | undefined): string {
  for (const line of (stack ?? '').split('\n')) {
    if (line.includes('node_modules')) continue;
    const match = /at (?:(\S+) )?\(?.*?\/(src\/[^:)]+)/.exec(line);
    if (match) return `${match[1] ?? '<anonymous>'} (${match[2]})`;
  }
  return '';
}

const DETAILS_PER_GROUP = 20;

export function summarize(run: RunDescription, result: PoolResult): Summary {
  // Every failure is listed, but only the first few of a group keep their detail: a long
  // run can find the same bug thousands of times.
  const withDetail = new Map<string, number>();
  const failures = [...result.failures]
    .sort((a, b) => a.index - b.index)
    .map((f) => {
      const key = signature(f);
      const seen = withDetail.get(key) ?? 0;
      withDetail.set(key, seen + 1);
      const { detail, ...rest } = f;
      return {
        ...rest,
        ...(detail !== undefined && seen < DETAILS_PER_GROUP ? { detail } : {}),
        file: failureFile(f),
        origin: fuzzInput(run.seed, f.index).origin,
      };
    });
  const groups = new Map<
    string,
    { count: number; smallest: (typeof failures)[number]; bytes: number }
  >();
  for (const f of failures) {
    const key = signature(f);
    const bytes = Buffer.byteLength(fuzzInput(run.seed, f.index).text);
    const group = groups.get(key);
    if (!group) groups.set(key, { count: 1, smallest: f, bytes });
    else {
      group.count++;
      if (bytes < group.bytes) Object.assign(group, { smallest: f, bytes });
    }
  }
  const elapsedSeconds = result.elapsedMs / 1000;
  return {
    ...run,
    done: result.done,
    elapsedSeconds: round(elapsedSeconds, 2),
    inputsPerSecond: round(result.done / Math.max(elapsedSeconds, 1e-9), 1),
    restarts: result.restarts,
    unconfirmedHangs: result.unconfirmedHangs,
    failureCount: failures.length,
    groups: [...groups.entries()]
      .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
      .map(([key, g]) => ({
        signature: key,
        kind: g.smallest.kind,
        count: g.count,
        example: { file: g.smallest.file, index: g.smallest.index, bytes: g.bytes },
        message: g.smallest.message,
        origin: g.smallest.origin,
      })),
    failures,
  };
}

export function renderSummary(summary: Summary, out: string): string {
  const lines = [
    `attnc fuzz: seed ${summary.seed}, inputs ${summary.first}..${summary.first + summary.inputs - 1}, ` +
      `${summary.jobs} workers, limits ${summary.timeLimitMs} ms / ${summary.memoryLimitMb} MB / ` +
      `${Math.round(summary.outputLimitBytes / 2 ** 20)} MB output` +
      (summary.validateRate > 0 ? `, WGSL validated for ${summary.validateRate * 100}%` : ''),
    `${summary.done} inputs in ${summary.elapsedSeconds.toFixed(1)} s: ${summary.inputsPerSecond.toFixed(1)} inputs/s, ` +
      `${summary.restarts} worker restarts`,
    `${summary.failureCount} failures, ${summary.groups.length} distinct`,
  ];
  if (summary.unconfirmedHangs.length > 0) {
    lines.push(
      `(${summary.unconfirmedHangs.length} inputs hit the time limit once but not when run again, ` +
        `so are not counted: ${summary.unconfirmedHangs.slice(0, 20).join(', ')}` +
        `${summary.unconfirmedHangs.length > 20 ? ', ...' : ''})`,
    );
  }
  for (const g of summary.groups) {
    lines.push(
      '',
      `[${g.kind}] x${g.count}: ${g.message.split('\n')[0]!.slice(0, 300)}`,
      `  smallest: ${join(out, g.example.file)} (${g.example.bytes} bytes; ${g.origin})`,
      `  rerun:    npm run fuzz -- --seed ${summary.seed} --first ${g.example.index} --inputs 1`,
    );
  }
  return lines.join('\n') + '\n';
}

export function writeSummary(out: string, summary: Summary): void {
  writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  writeFileSync(join(out, 'summary.txt'), renderSummary(summary, out));
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
