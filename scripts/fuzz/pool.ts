// The fuzzer's pool: J long-lived worker processes, one input in flight each, and a
// watchdog per worker. A worker past the time limit (a hang) or past the memory limit (RSS
// polled from /proc, plus V8's own heap limit) is killed and replaced, and its input is the
// failure; so is a worker that dies mid-input (a crash). Results arrive in any order; the
// inputs themselves are fixed by (seed, index), so a run is reproducible whatever the order.

import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  WORKER_CONFIG_ENV,
  type FromWorker,
  type ToWorker,
  type WorkerConfig,
} from './protocol.js';
import { bundleWorker } from './bundle-worker.js';
import type { TargetFailureKind } from './target.js';

export type FailureKind = TargetFailureKind | 'hang' | 'memory' | 'crash';

export interface FailureRecord {
  readonly index: number;
  readonly kind: FailureKind;
  readonly message: string;
  readonly detail?: string;
  /** How long the input ran before it finished or was stopped. */
  readonly ms: number;
}

export interface PoolOptions extends WorkerConfig {
  /** Path of the module whose `target` export runs each input (tests plant their own). */
  readonly targetModule: string;
  /** Inputs `first .. first + inputs - 1` are run. */
  readonly first: number;
  readonly inputs: number;
  readonly jobs: number;
  readonly timeLimitMs: number;
  readonly memoryLimitMb: number;
  readonly onFailure?: (failure: FailureRecord) => void;
  readonly onProgress?: (done: number) => void;
}

export interface PoolResult {
  readonly done: number;
  readonly elapsedMs: number;
  readonly failures: readonly FailureRecord[];
  /** Workers started to replace one that was killed or died. */
  readonly restarts: number;
  /**
   * Inputs that hit the time limit once but finished in time when run again (on a loaded
   * machine a slow moment is not a hang); not failures, but listed.
   */
  readonly unconfirmedHangs: readonly number[];
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** How often busy workers' RSS is read. */
const MEMORY_POLL_MS = 100;
const STDERR_TAIL = 4000;
/** Characters of a failure's detail that are kept. */
const MAX_DETAIL = 6000;

interface Slot {
  child: ChildProcess;
  /** The input in flight, or null when idle or starting. */
  index: number | null;
  startedAt: number;
  timer: NodeJS.Timeout | null;
  /** Set when the pool killed it, so its exit is not reported as a crash. */
  killed: boolean;
  ready: boolean;
  stderr: string;
}

export async function runPool(options: PoolOptions): Promise<PoolResult> {
  const bundle = await bundleWorker(options.targetModule);
  try {
    return await runWorkers(bundle.file, options);
  } finally {
    bundle.dispose();
  }
}

function runWorkers(workerFile: string, options: PoolOptions): Promise<PoolResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const failures: FailureRecord[] = [];
    const slots = new Set<Slot>();
    const end = options.first + options.inputs;
    let next = options.first;
    /** Inputs that hung once and wait for their confirming second run. */
    const retries: number[] = [];
    const retried = new Set<number>();
    const unconfirmedHangs: number[] = [];
    let done = 0;
    let restarts = 0;
    let finished = false;
    const config: WorkerConfig = {
      seed: options.seed,
      outputLimitBytes: options.outputLimitBytes,
      validateRate: options.validateRate,
    };

    const fail = (failure: FailureRecord) => {
      // A long run may find thousands: keep each one's detail (a stack trace) short.
      const detail = failure.detail;
      const kept =
        detail !== undefined && detail.length > MAX_DETAIL
          ? { ...failure, detail: `${detail.slice(0, MAX_DETAIL)}\n...` }
          : failure;
      failures.push(kept);
      options.onFailure?.(kept);
    };

    // Workers lead their own process groups, so they miss a Ctrl-C: take them down with us.
    const killAll = () => {
      for (const slot of slots) killGroup(slot.child);
    };
    process.on('exit', killAll);

    const finish = (error?: Error) => {
      if (finished) return;
      finished = true;
      process.off('exit', killAll);
      clearInterval(memoryPoll);
      for (const slot of slots) stop(slot);
      if (error) reject(error);
      else {
        resolve({
          done,
          elapsedMs: performance.now() - started,
          failures,
          restarts,
          unconfirmedHangs: unconfirmedHangs.sort((a, b) => a - b),
        });
      }
    };

    const stop = (slot: Slot) => {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = null;
      slot.killed = true;
      slots.delete(slot);
      killGroup(slot.child);
    };

    /** Ends the input in flight on `slot` as a failure and replaces the worker. */
    const abandon = (slot: Slot, kind: FailureKind, message: string, detail?: string) => {
      const index = slot.index!;
      const ms = performance.now() - slot.startedAt;
      stop(slot);
      fail({ index, kind, message, ms, ...(detail ? { detail } : {}) });
      done++;
      options.onProgress?.(done);
      restarts++;
      if (done === options.inputs) finish();
      else spawn();
    };

    /** A first hang is run again on a fresh worker; only a second one is a failure. */
    const hang = (slot: Slot) => {
      const index = slot.index!;
      if (retried.has(index)) {
        abandon(slot, 'hang', `no result after ${options.timeLimitMs} ms (time limit), twice`);
        return;
      }
      retried.add(index);
      retries.push(index);
      stop(slot);
      restarts++;
      spawn();
    };

    const dispatch = (slot: Slot) => {
      if (next >= end && retries.length === 0) {
        slot.index = null;
        if (done === options.inputs) finish();
        return;
      }
      const index = retries.length > 0 ? retries.shift()! : next++;
      slot.index = index;
      slot.startedAt = performance.now();
      slot.timer = setTimeout(() => hang(slot), options.timeLimitMs);
      slot.child.send({ type: 'run', index } satisfies ToWorker);
    };

    const spawn = () => {
      if (finished) return;
      const child = fork(workerFile, [], {
        cwd: REPO_ROOT,
        execArgv: ['--enable-source-maps', `--max-old-space-size=${options.memoryLimitMb}`],
        env: { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(config) },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
        // Its own process group, so that killing it also kills its WGSL validator process.
        detached: true,
      });
      const slot: Slot = {
        child,
        index: null,
        startedAt: 0,
        timer: null,
        killed: false,
        ready: false,
        stderr: '',
      };
      slots.add(slot);
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => {
        slot.stderr = (slot.stderr + chunk).slice(-STDERR_TAIL);
      });
      child.on('message', (message: FromWorker) => {
        if (slot.killed || finished) return;
        switch (message.type) {
          case 'ready':
            slot.ready = true;
            dispatch(slot);
            return;
          case 'fatal':
            finish(new Error(`fuzz worker failed: ${message.message}`));
            return;
          case 'result': {
            if (slot.timer) clearTimeout(slot.timer);
            slot.timer = null;
            if (message.failure) fail({ index: message.index, ms: message.ms, ...message.failure });
            if (retried.has(message.index)) unconfirmedHangs.push(message.index);
            if (message.rss > options.memoryLimitMb * 2 ** 20) {
              // The input finished but left the worker over the limit: it is the culprit
              // (unless it already failed otherwise), and the worker is replaced either way.
              stop(slot);
              if (!message.failure) {
                fail({
                  index: message.index,
                  kind: 'memory',
                  ms: message.ms,
                  message: memoryMessage(message.rss, options),
                });
              }
              done++;
              options.onProgress?.(done);
              restarts++;
              if (done === options.inputs) finish();
              else spawn();
              return;
            }
            done++;
            options.onProgress?.(done);
            dispatch(slot);
            return;
          }
        }
      });
      child.on('exit', (code, signal) => {
        if (slot.killed || finished) return;
        if (!slot.ready || slot.index === null) {
          finish(
            new Error(
              `fuzz worker exited (${signal ?? `code ${code}`}) ${slot.ready ? 'while idle' : 'while starting'}:\n${slot.stderr}`,
            ),
          );
          return;
        }
        const heap = /heap out of memory|Reached heap limit|Allocation failed/i.test(slot.stderr);
        abandon(
          slot,
          heap ? 'memory' : 'crash',
          heap
            ? `the worker ran out of V8 heap (limit ${options.memoryLimitMb} MB)`
            : `the worker died (${signal ?? `exit code ${code}`})`,
          lastLines(slot.stderr, 30),
        );
      });
      child.on('error', (error) => finish(error));
    };

    // RSS of each busy worker, read from /proc (Linux); elsewhere only the per-input report.
    const memoryPoll = setInterval(() => {
      for (const slot of slots) {
        if (slot.index === null || slot.killed || slot.child.pid === undefined) continue;
        const rss = residentBytes(slot.child.pid);
        if (rss !== null && rss > options.memoryLimitMb * 2 ** 20) {
          abandon(slot, 'memory', memoryMessage(rss, options));
        }
      }
    }, MEMORY_POLL_MS);

    if (options.inputs <= 0) {
      finish();
      return;
    }
    for (let j = 0; j < Math.max(1, Math.min(options.jobs, options.inputs)); j++) spawn();
  });
}

/** Kills a worker and everything it started (it leads its own process group). */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL'); // the group is gone already, or groups are not supported
  }
}

function memoryMessage(rss: number, options: PoolOptions): string {
  return `the worker's resident memory reached ${Math.round(rss / 2 ** 20)} MB (limit ${options.memoryLimitMb} MB)`;
}

function residentBytes(pid: number): number | null {
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return Number.isFinite(pages) ? pages * 4096 : null;
  } catch {
    return null;
  }
}

function lastLines(text: string, count: number): string {
  return text.split('\n').slice(-count).join('\n').trim();
}
