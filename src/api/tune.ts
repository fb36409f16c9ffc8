// The tuner: picks each softmax group's schedule by measuring on the device. For a module it
// recompiles the spec for the device's profile once per candidate schedule (a few, see
// passes/schedule-candidates.ts), self-checks each candidate against the CPU reference at a
// small size (variant-check.ts's machinery), times them at the size class's length in
// rounds (every candidate once per round, so a change in the machine's load falls on all
// alike), and keeps the fastest if it beats the default by a margin; the choice is cached per
// adapter, kernel and size class (tune-cache.ts), in memory and optionally on disk. Time is
// bounded: each group has a budget; once it is spent no further candidate is started (the
// rest are reported as skipped) and no further round, but the default always runs, and one
// round always completes, so there is always a measured baseline.
//
// The device side is a `TuneBench`, so tests can put a fake timer in its place. This lives in
// the API layer because it needs both the compiler and the runtime.

import { compileAttention } from '../codegen/compile.js';
import { DeviceError } from '../runtime/device-errors.js';
import { checkRunSizes, deviceRunLimits, loadChecked } from '../runtime/loaded-kernel.js';
import { maskLeaves } from '../ir/ir.js';
import { scheduleCandidates, DEFAULT_MAX_CANDIDATES } from '../passes/schedule-candidates.js';
import { scheduleProblem, type Schedule, type ScheduleOverrides } from '../passes/schedule.js';
import type { DeviceProfile } from '../target/profile.js';
import { summarize, timeRun } from './timing.js';
import type { CompiledModule } from './compile.js';
import { randomInputs } from './random-inputs.js';
import {
  kernelFingerprint,
  sizeClassOf,
  TuneCache,
  type AdapterIdentity,
  type TuneKey,
} from './tune-cache.js';
import { checkAgainstReference } from './variant-check.js';

export interface TuneOptions {
  /** The key length to tune for; timing runs at its size class (sizeClassOf). Default 1024. */
  readonly seqK?: number;
  /** Batch of the timed runs. Default 1. */
  readonly batch?: number;
  /** Milliseconds per softmax group, after which the remaining candidates are skipped. Default 2000. */
  readonly budgetMs?: number;
  /**
   * Rounds of timed runs at most (after one untimed warm-up each): each round times every
   * candidate once, so load changes fall on all alike; the median counts. Default 3.
   */
  readonly reps?: number;
  /**
   * How much faster than the default a candidate must be to replace it, as a fraction of the
   * default's time (so noise does not swap schedules). Default 0.05.
   */
  readonly minGain?: number;
  /** Candidates per group at most (the default schedule is always one). Default 8. */
  readonly maxCandidates?: number;
  /**
   * Node only: also keep choices in a file. `true` for the default file (tune-cache-file.ts:
   * `~/.cache/attnc/tune.json`), a string for another path. Default: memory only.
   */
  readonly cacheFile?: boolean | string;
  /** Measure even when a choice is cached (and replace it). */
  readonly refresh?: boolean;
  readonly onProgress?: (step: TuneStep) => void;
}

/** What the tuner is about to do (for a progress line). */
export interface TuneStep {
  readonly group: string;
  /** Candidate number, from 1. */
  readonly index: number;
  readonly of: number;
  readonly schedule: Schedule;
  readonly phase: 'check' | 'warmup' | 'rep';
  /** Timed run number (phase `rep`), from 1. */
  readonly rep?: number;
}

export type CandidateVerdict =
  /** Matched the reference and was timed. */
  | 'ok'
  /** Ran but differs from the CPU reference. */
  | 'wrong'
  /** The device rejected or failed its kernels. */
  | 'failed'
  /** Not measured: the group's budget was spent. */
  | 'skipped';

export interface CandidateResult {
  readonly schedule: Schedule;
  readonly verdict: CandidateVerdict;
  /** Why it was not usable (verdicts `wrong`, `failed`, `skipped`). */
  readonly reason?: string;
  /** Median of the timed runs (verdict `ok`). */
  readonly medianMs?: number;
  readonly timesMs: readonly number[];
  readonly isDefault: boolean;
  readonly chosen: boolean;
}

export interface GroupTuning {
  readonly group: string;
  readonly sizeClass: number;
  /** The schedule planBlocks would give the group on this profile. */
  readonly defaultSchedule: Schedule;
  readonly chosen: Schedule;
  /** True when the choice came from the cache (no candidate was run). */
  readonly fromCache: boolean;
  /** Every candidate, in the order tried; empty when cached. */
  readonly candidates: readonly CandidateResult[];
  /** Milliseconds the group's tuning took. */
  readonly spentMs: number;
}

export interface TuneResult {
  /** The module compiled for the device's profile with the chosen schedules. */
  readonly module: CompiledModule;
  readonly groups: readonly GroupTuning[];
  /** The cache file could not be used (it was ignored; it is rewritten at the next save). */
  readonly cacheProblem?: string;
}

/** One prepared, timed run of a candidate at the tuning size. */
export interface TimedRun {
  /** Milliseconds of one run (submit to done). */
  run(): Promise<number>;
  destroy(): void;
}

/** The device side of tuning; a test passes a fake one. */
export interface TuneBench {
  /** Null when `module` matches the CPU reference at a small size; else why not. */
  check(module: CompiledModule): Promise<string | null>;
  /** Builds `module`'s pipelines, buffers and random inputs at `sizes`. */
  prepare(
    module: CompiledModule,
    sizes: { batch: number; seqQ: number; seqK: number },
  ): Promise<TimedRun>;
  /** A clock in milliseconds, for the budget. */
  now(): number;
}

export const DEFAULT_TUNE_SEQ = 1024;
export const DEFAULT_TUNE_BUDGET_MS = 2000;
export const DEFAULT_TUNE_REPS = 3;
export const DEFAULT_TUNE_MIN_GAIN = 0.05;

/**
 * The self-check size: crosses a 128-row tile and ends in a partial key tile, so every
 * candidate's edges are exercised; small enough for the CPU reference to take milliseconds.
 */
const CHECK_SIZES = { batch: 1, seqQ: 133, seqK: 140, seed: 11 };

/** A TuneBench on a real device: checks with the reference, times with timeRun. */
export function deviceTuneBench(device: GPUDevice): TuneBench {
  // Its loop budget too: a run llvmpipe would cut short is neither timed nor kept.
  const limits = deviceRunLimits(device);
  return {
    check: (module) => checkAgainstReference(device, module, CHECK_SIZES),
    async prepare(module, sizes) {
      checkRunSizes(module.plan, sizes, limits);
      const loaded = await loadChecked(device, module);
      try {
        const prepared = loaded.prepare(randomInputs(module, { ...sizes, seed: 0 }));
        try {
          await prepared.ready();
        } catch (error) {
          prepared.destroy();
          throw error;
        }
        return {
          run: () => timeRun(device, prepared, `tune '${module.name}'`),
          destroy() {
            prepared.destroy();
            loaded.destroy();
          },
        };
      } catch (error) {
        loaded.destroy();
        throw error;
      }
    },
    now: () => performance.now(),
  };
}

/** How a device names itself to the cache. */
export function adapterIdentity(device: GPUDevice, profile: DeviceProfile): AdapterIdentity {
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    description: info?.description ?? '',
    profile: profile.name,
  };
}

/**
 * One device's tuner: its memory of choices lives as long as the tuner (a runtime keeps one),
 * and a cache file is read once per path.
 */
export class Tuner {
  private readonly cache = new TuneCache();
  private readonly files = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly bench: TuneBench,
    private readonly profile: DeviceProfile,
    private readonly adapter: AdapterIdentity,
  ) {}

  async tune(module: CompiledModule, options: TuneOptions = {}): Promise<TuneResult> {
    const seqK = options.seqK ?? DEFAULT_TUNE_SEQ;
    const sizeClass = sizeClassOf(seqK);
    const batch = options.batch ?? 1;
    const budgetMs = options.budgetMs ?? DEFAULT_TUNE_BUDGET_MS;
    const reps = options.reps ?? DEFAULT_TUNE_REPS;
    const maxCandidates = options.maxCandidates ?? DEFAULT_MAX_CANDIDATES;
    const minGain = options.minGain ?? DEFAULT_TUNE_MIN_GAIN;
    if (!(minGain >= 0 && minGain < 1))
      throw new Error(`tune: minGain must be a fraction in [0, 1), got ${minGain}`);
    for (const [name, value, min] of [
      ['batch', batch, 1],
      ['budgetMs', budgetMs, 0],
      ['reps', reps, 1],
      ['maxCandidates', maxCandidates, 1],
    ] as const) {
      if (!Number.isInteger(value) || value < min)
        throw new Error(`tune: ${name} must be an integer >= ${min}, got ${value}`);
    }
    const path = await this.cachePath(options.cacheFile);
    const cacheProblem = path === undefined ? undefined : await this.readFile(path);
    const profile = this.profile;
    const base = compileAttention(module.attention, profile);
    const kernel = kernelFingerprint(base.plan.kernels.map((k) => k.wgsl));
    const chosen: Record<string, Schedule> = {};
    const groups: GroupTuning[] = [];
    let measured = false;
    for (const group of base.ir.groups) {
      if (group.mechanism.kind !== 'softmax' || group.mechanism.plan === null) continue;
      const leaves = maskLeaves(group.mechanism.mask);
      const candidates = scheduleCandidates(base.ir, group.name, profile, maxCandidates);
      const defaultSchedule = candidates[0]!;
      // One candidate (a routed mask's fixed kernel): nothing to choose, nothing to measure.
      if (candidates.length === 1) continue;
      const key: TuneKey = { adapter: this.adapter, kernel, group: group.name, sizeClass };
      const cached = options.refresh ? undefined : this.cache.get(key);
      if (cached && scheduleProblem(cached.schedule, base.ir, profile, leaves) === null) {
        chosen[group.name] = cached.schedule;
        groups.push({
          group: group.name,
          sizeClass,
          defaultSchedule,
          chosen: cached.schedule,
          fromCache: true,
          candidates: [],
          spentMs: 0,
        });
        continue;
      }
      const tuning = await this.tuneGroup(module, group.name, candidates, chosen, {
        batch,
        sizeClass,
        budgetMs,
        reps,
        minGain,
        onProgress: options.onProgress,
      });
      chosen[group.name] = tuning.chosen;
      groups.push(tuning);
      const winner = tuning.candidates.find((c) => c.chosen);
      if (winner?.medianMs !== undefined) {
        this.cache.set(key, { schedule: winner.schedule, medianMs: winner.medianMs });
        measured = true;
      }
    }
    if (path !== undefined && measured) {
      const { saveTuneFile } = await import('./tune-cache-file.js');
      await saveTuneFile(path, this.cache.entries());
    }
    const tuned =
      groups.length === 0
        ? module
        : {
            ...compileAttention(module.attention, profile, { schedules: chosen }),
            attention: module.attention,
          };
    return { module: tuned, groups, ...(cacheProblem ? { cacheProblem } : {}) };
  }

  private async tuneGroup(
    module: CompiledModule,
    group: string,
    candidates: readonly Schedule[],
    earlier: ScheduleOverrides,
    run: {
      batch: number;
      sizeClass: number;
      budgetMs: number;
      reps: number;
      minGain: number;
      onProgress: ((step: TuneStep) => void) | undefined;
    },
  ): Promise<GroupTuning> {
    const { bench } = this;
    const start = bench.now();
    const spent = () => bench.now() - start >= run.budgetMs;
    const sizes = { batch: run.batch, seqQ: run.sizeClass, seqK: run.sizeClass };
    type Row = { -readonly [K in keyof CandidateResult]: CandidateResult[K] } & {
      timesMs: number[];
      prepared?: TimedRun;
    };
    const rows: Row[] = candidates.map((schedule, n) => ({
      schedule,
      verdict: 'skipped',
      timesMs: [],
      isDefault: n === 0,
      chosen: false,
    }));
    const step = (n: number, phase: TuneStep['phase'], rep?: number) =>
      run.onProgress?.({
        group,
        index: n + 1,
        of: candidates.length,
        schedule: candidates[n]!,
        phase,
        ...(rep !== undefined ? { rep } : {}),
      });
    // A lost device, or an error of someone else's work, says nothing about the candidate.
    const fail = (row: Row, error: unknown) => {
      if (!(error instanceof DeviceError) || error.origin === 'device') throw error;
      row.verdict = 'failed';
      row.reason = error.message;
      row.prepared?.destroy();
      delete row.prepared;
    };
    try {
      // Check, build and warm up each candidate in turn (the first run waits for the driver
      // to compile the kernels, so it is not timed), while the budget lasts.
      for (const [n, row] of rows.entries()) {
        if (!row.isDefault && spent()) {
          row.reason = `the budget of ${run.budgetMs} ms was spent`;
          continue;
        }
        const compiled: CompiledModule = {
          ...compileAttention(module.attention, this.profile, {
            schedules: { ...earlier, [group]: row.schedule },
          }),
          attention: module.attention,
        };
        try {
          step(n, 'check');
          const wrong = await bench.check(compiled);
          if (wrong !== null) {
            row.verdict = 'wrong';
            row.reason = wrong;
            continue;
          }
          row.prepared = await bench.prepare(compiled, sizes);
          step(n, 'warmup');
          await row.prepared.run();
          row.verdict = 'ok';
        } catch (error) {
          fail(row, error);
        }
      }
      // Timed runs in rounds over every candidate, so a change in the machine's load falls
      // on all of them alike; one round at least, more while the budget lasts.
      for (let round = 1; round <= run.reps; round++) {
        if (round > 1 && spent()) break;
        for (const [n, row] of rows.entries()) {
          if (row.prepared === undefined) continue;
          try {
            step(n, 'rep', round);
            row.timesMs.push(await row.prepared.run());
          } catch (error) {
            fail(row, error);
          }
        }
      }
    } finally {
      for (const row of rows) row.prepared?.destroy();
    }
    for (const row of rows) {
      delete row.prepared;
      if (row.verdict === 'ok') row.medianMs = summarize(row.timesMs).medianMs;
    }
    const measured = rows.filter((r) => r.medianMs !== undefined);
    const fastest = measured.reduce<Row | undefined>(
      (best, r) => (best === undefined || r.medianMs! < best.medianMs! ? r : best),
      undefined,
    );
    // The default keeps its place unless a candidate beats it by minGain: timing noise must
    // not swap schedules. No candidate passed: the default stays (the self-check sees to it).
    const base = rows[0]!;
    const winner =
      fastest === undefined ||
      (base.medianMs !== undefined && fastest.medianMs! > base.medianMs * (1 - run.minGain))
        ? base
        : fastest;
    winner.chosen = true;
    return {
      group,
      sizeClass: run.sizeClass,
      defaultSchedule: candidates[0]!,
      chosen: winner.schedule,
      fromCache: false,
      candidates: rows,
      spentMs: bench.now() - start,
    };
  }

  private async cachePath(cacheFile: boolean | string | undefined): Promise<string | undefined> {
    if (cacheFile === undefined || cacheFile === false) return undefined;
    if (typeof process === 'undefined' || process.versions?.node === undefined) {
      throw new Error(
        'tune: cacheFile needs Node (a file system); in a browser the choices are kept in memory only',
      );
    }
    if (typeof cacheFile === 'string') return cacheFile;
    const { defaultTuneCacheFile } = await import('./tune-cache-file.js');
    return defaultTuneCacheFile();
  }

  /** Reads `path` into memory once (entries already in memory win); its problem, if any. */
  private readFile(path: string): Promise<string | undefined> {
    let read = this.files.get(path);
    if (!read) {
      read = import('./tune-cache-file.js').then(async ({ readTuneFile }) => {
        const contents = await readTuneFile(path);
        this.cache.seed(contents.entries);
        return contents.problem;
      });
      this.files.set(path, read);
    }
    return read;
  }
}
