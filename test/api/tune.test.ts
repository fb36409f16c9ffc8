// The tuner without a GPU: a fake TuneBench times each candidate by its schedule and advances
// a fake clock, so these tests say which candidate wins, what the budget skips, that wrong and
// failing candidates never win, that a lost device is not swallowed, and how the cache is keyed
// (adapter, kernel, size class) in memory and in a file, a corrupt file included.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, type CompiledModule } from '../../src/api/compile.js';
import { deviceTuneBench, Tuner, type TuneBench, type TuneOptions } from '../../src/api/tune.js';
import {
  sizeClassOf,
  tuneKeyString,
  type AdapterIdentity,
  type TuneKey,
} from '../../src/api/tune-cache.js';
import { readTuneFile } from '../../src/api/tune-cache-file.js';
import { createRuntime as createCoreRuntime } from '../../src/api/runtime-core.js';
import { DeviceError } from '../../src/runtime/device-errors.js';
import { describeSchedule, type Schedule } from '../../src/passes/schedule.js';
import { LLVMPIPE_PROFILE } from '../../src/target/profile.js';

const SPEC = 'attention longformer { heads: 2; head_dim: 16; mask: window(8) | global(0) }';
const OTHER_SPEC = 'attention other { heads: 2; head_dim: 16; causal: true }';
const ADAPTER: AdapterIdentity = {
  vendor: 'mesa',
  architecture: 'llvm',
  description: 'llvmpipe (LLVM 15)',
  profile: 'llvmpipe',
};
const profile = LLVMPIPE_PROFILE;
const dir = mkdtempSync(join(tmpdir(), 'attnc-tune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compiled(text = SPEC): CompiledModule {
  const result = compile(text, { target: profile });
  expect(result.diagnostics).toEqual([]);
  return result.modules[0]!;
}

/** The schedule a module's (first) softmax group was compiled with. */
function scheduleOf(module: CompiledModule): string {
  const group = module.ir.groups.find((g) => g.mechanism.kind === 'softmax')!;
  if (group.mechanism.kind !== 'softmax') throw new Error('not softmax');
  const plan = group.mechanism.plan!;
  return describeSchedule({
    variant: plan.variant,
    rowsPerWorkgroup: plan.queryTile,
    keyTile: plan.keyTile,
    vectorWidth: plan.vectorWidth,
  });
}

interface FakeBench extends TuneBench {
  readonly timed: string[];
  readonly checked: string[];
  readonly sizes: { batch: number; seqQ: number; seqK: number }[];
}

/**
 * Each run takes `ms[schedule]` (else `ms['*']`, else 10) of fake time; `wrong` candidates fail the
 * reference check, `failing` ones throw the given error when prepared.
 */
function fakeBench(
  ms: Record<string, number>,
  options: { wrong?: string[]; failing?: Record<string, Error> } = {},
): FakeBench {
  let clock = 0;
  const timed: string[] = [];
  const checked: string[] = [];
  const sizes: { batch: number; seqQ: number; seqK: number }[] = [];
  return {
    timed,
    checked,
    sizes,
    now: () => clock,
    async check(module) {
      const name = scheduleOf(module);
      checked.push(name);
      clock += 1;
      return options.wrong?.includes(name) ? 'its output differs from the CPU reference' : null;
    },
    async prepare(module, size) {
      const name = scheduleOf(module);
      const error = options.failing?.[name];
      if (error) throw error;
      sizes.push(size);
      return {
        async run() {
          const t = ms[name] ?? ms['*'] ?? 10;
          clock += t;
          timed.push(name);
          return t;
        },
        destroy() {},
      };
    },
  };
}

const FAST = { 'rowwise 64x32 vec4': 4, 'tiled 64x32 vec4': 7, 'rowwise 64x64 vec4': 9 };

async function tune(bench: TuneBench, options: TuneOptions = {}, adapter = ADAPTER, text = SPEC) {
  return new Tuner(bench, profile, adapter).tune(compiled(text), { budgetMs: 10_000, ...options });
}

describe('tuner', () => {
  it('self-checks and times every candidate, picks the fastest and compiles with it', async () => {
    const bench = fakeBench(FAST);
    const result = await tune(bench, { seqK: 1000 });
    const [group] = result.groups;
    expect(group!.candidates).toHaveLength(8);
    expect(bench.checked).toHaveLength(8);
    expect(group!.candidates.every((c) => c.verdict === 'ok')).toBe(true);
    // One warm-up each in turn, then three rounds of one timed run each.
    expect(bench.timed).toHaveLength(8 * 4);
    const names = group!.candidates.map((c) => describeSchedule(c.schedule));
    expect(bench.timed).toEqual([...names, ...names, ...names, ...names]);
    expect(bench.sizes[0]).toEqual({ batch: 1, seqQ: 1024, seqK: 1024 });
    expect(group!.sizeClass).toBe(1024);
    expect(describeSchedule(group!.defaultSchedule)).toBe('rowwise 64x64 vec4');
    expect(describeSchedule(group!.chosen)).toBe('rowwise 64x32 vec4');
    expect(group!.candidates.filter((c) => c.chosen).map((c) => c.medianMs)).toEqual([4]);
    expect(scheduleOf(result.module)).toBe('rowwise 64x32 vec4');
    expect(result.module.plan.kernels.some((k) => k.wgsl.includes('const TK: u32 = 32u;'))).toBe(
      true,
    );
  });

  it('keeps the default when it is the fastest', async () => {
    const result = await tune(fakeBench({ 'rowwise 64x64 vec4': 1 }));
    expect(result.groups[0]!.candidates[0]).toMatchObject({ isDefault: true, chosen: true });
    expect(result.module.plan).toEqual(compiled().plan);
  });

  it('keeps the default unless a candidate beats it by minGain', async () => {
    const close = { '*': 200, 'rowwise 64x64 vec4': 100, 'tiled 64x32 vec4': 96 };
    const kept = await tune(fakeBench(close));
    expect(describeSchedule(kept.groups[0]!.chosen)).toBe('rowwise 64x64 vec4');
    expect(kept.groups[0]!.candidates[0]).toMatchObject({ chosen: true, medianMs: 100 });
    const taken = await tune(fakeBench(close), { minGain: 0.03 });
    expect(describeSchedule(taken.groups[0]!.chosen)).toBe('tiled 64x32 vec4');
    await expect(tune(fakeBench(close), { minGain: 1 })).rejects.toThrow(
      'tune: minGain must be a fraction in [0, 1), got 1',
    );
  });

  it('stops when the budget is spent, reports what it skipped, always measures the default', async () => {
    const bench = fakeBench({ 'rowwise 64x64 vec4': 30 });
    const result = await tune(bench, { budgetMs: 25, reps: 5 });
    const candidates = result.groups[0]!.candidates;
    // The default: check, warm-up, one round (the budget is then spent), nothing else.
    expect(candidates[0]).toMatchObject({ verdict: 'ok', timesMs: [30], chosen: true });
    expect(candidates.slice(1).map((c) => c.verdict)).toEqual(Array(7).fill('skipped'));
    expect(candidates[1]!.reason).toBe('the budget of 25 ms was spent');
    expect(bench.checked).toHaveLength(1);
    expect(result.groups[0]!.spentMs).toBe(61);
  });

  it('never chooses a candidate that is wrong or fails on the device', async () => {
    const bench = fakeBench(FAST, {
      wrong: ['rowwise 64x32 vec4'],
      failing: {
        'tiled 64x32 vec4': new DeviceError('pipeline rejected'),
      },
    });
    const result = await tune(bench);
    const byName = new Map(
      result.groups[0]!.candidates.map((c) => [describeSchedule(c.schedule), c]),
    );
    expect(byName.get('rowwise 64x32 vec4')).toMatchObject({ verdict: 'wrong', chosen: false });
    expect(byName.get('tiled 64x32 vec4')).toMatchObject({
      verdict: 'failed',
      reason: 'pipeline rejected',
    });
    expect(describeSchedule(result.groups[0]!.chosen)).toBe('rowwise 64x64 vec4');
  });

  it('lets a lost device through instead of calling it a verdict', async () => {
    const bench = fakeBench(FAST, {
      failing: { 'tiled 64x32 vec4': new DeviceError('device lost', 'device') },
    });
    await expect(tune(bench)).rejects.toThrow('device lost');
  });

  it('remembers a choice per size class for its life', async () => {
    const bench = fakeBench(FAST);
    const tuner = new Tuner(bench, profile, ADAPTER);
    await tuner.tune(compiled(), { seqK: 1000 });
    const measured = bench.timed.length;
    const again = await tuner.tune(compiled(), { seqK: 700 });
    expect(bench.timed.length).toBe(measured);
    expect(again.groups[0]).toMatchObject({ fromCache: true, candidates: [] });
    expect(describeSchedule(again.groups[0]!.chosen)).toBe('rowwise 64x32 vec4');
    expect(scheduleOf(again.module)).toBe('rowwise 64x32 vec4');
    // Another size class, another spec, or refresh: measured again.
    await tuner.tune(compiled(), { seqK: 1025 });
    expect(bench.timed.length).toBe(2 * measured);
    await tuner.tune(compiled(OTHER_SPEC), { seqK: 1000 });
    expect(bench.timed.length).toBeGreaterThan(2 * measured);
    const before = bench.timed.length;
    await tuner.tune(compiled(), { seqK: 1000, refresh: true });
    expect(bench.timed.length).toBeGreaterThan(before);
  });

  it('is refused by the compiler-free runtime, before any device is opened', async () => {
    await expect(createCoreRuntime({ tune: true })).rejects.toThrow(
      "tuning compiles candidate kernels, which attnc/runtime cannot: use createRuntime from 'attnc'",
    );
  });

  it('measures nothing for a group with a single candidate (a routed mask)', async () => {
    const bench = fakeBench({});
    const result = await tune(
      bench,
      {},
      ADAPTER,
      'attention r { heads: 2; head_dim: 16; mask: cluster(4) }',
    );
    expect(result.groups).toEqual([]);
    expect(bench.checked).toEqual([]);
  });

  it('checks its options', async () => {
    await expect(tune(fakeBench({}), { reps: 0 })).rejects.toThrow(
      'tune: reps must be an integer >= 1, got 0',
    );
    await expect(tune(fakeBench({}), { seqK: 0 })).rejects.toThrow(
      'sequence length must be an integer >= 1, got 0',
    );
  });
});

describe('tune cache', () => {
  const key: TuneKey = { adapter: ADAPTER, kernel: '0123abcd', group: 'g', sizeClass: 1024 };

  it('size classes are powers of 4 from 64', () => {
    expect([1, 64, 65, 256, 257, 1024, 4096, 4097].map(sizeClassOf)).toEqual([
      64, 64, 256, 256, 1024, 1024, 4096, 16384,
    ]);
  });

  it('keys differ by adapter, profile, kernel, group and size class', () => {
    const keys = [
      key,
      { ...key, adapter: { ...ADAPTER, description: 'SwiftShader' } },
      { ...key, adapter: { ...ADAPTER, vendor: 'google' } },
      { ...key, adapter: { ...ADAPTER, architecture: 'avx512' } },
      { ...key, adapter: { ...ADAPTER, profile: 'other' } },
      { ...key, kernel: 'ffffffff' },
      { ...key, group: 'h' },
      { ...key, sizeClass: 4096 },
    ].map(tuneKeyString);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('a file is shared by tuners of the same adapter, not by another adapter', async () => {
    const file = join(dir, 'shared.json');
    const first = fakeBench(FAST);
    await tune(first, { cacheFile: file });
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).entries)).toHaveLength(1);

    const sameAdapter = fakeBench(FAST);
    const cached = await tune(sameAdapter, { cacheFile: file });
    expect(sameAdapter.timed).toEqual([]);
    expect(cached.groups[0]!.fromCache).toBe(true);
    expect(describeSchedule(cached.groups[0]!.chosen)).toBe('rowwise 64x32 vec4');

    const otherAdapter = fakeBench({ 'tiled 64x32 vec4': 1 });
    const other = await tune(otherAdapter, { cacheFile: file }, { ...ADAPTER, description: 'x' });
    expect(otherAdapter.timed.length).toBeGreaterThan(0);
    expect(describeSchedule(other.groups[0]!.chosen)).toBe('tiled 64x32 vec4');
    // Both choices are in the file now.
    expect((await readTuneFile(file)).entries).toHaveLength(2);
  });

  it.each([
    ['not JSON', '{"version": 1, "entries": {', 'is not valid JSON'],
    ['another shape', '[1, 2, 3]', 'is not an attnc tune cache of version 1'],
    ['another version', '{"version": 99, "entries": {}}', 'is not an attnc tune cache'],
  ])('a corrupt file (%s) is reported, ignored and rewritten', async (_, text, problem) => {
    const file = join(dir, `corrupt-${problem.length}.json`);
    writeFileSync(file, text);
    const bench = fakeBench(FAST);
    const result = await tune(bench, { cacheFile: file });
    expect(result.cacheProblem).toContain(problem);
    expect(describeSchedule(result.groups[0]!.chosen)).toBe('rowwise 64x32 vec4');
    const reread = await readTuneFile(file);
    expect(reread.problem).toBeUndefined();
    expect(reread.entries).toHaveLength(1);
  });

  it('drops entries of the wrong shape, and retunes a cached schedule the profile cannot run', async () => {
    const file = join(dir, 'entries.json');
    const first = fakeBench(FAST);
    await tune(first, { cacheFile: file });
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      entries: Record<string, { schedule: Schedule }>;
    };
    const [goodKey] = Object.keys(json.entries);
    json.entries[goodKey!]!.schedule = { ...json.entries[goodKey!]!.schedule, keyTile: 48 };
    json.entries['bad'] = { schedule: { variant: 'warp' } } as never;
    writeFileSync(file, JSON.stringify(json));
    expect((await readTuneFile(file)).entries).toHaveLength(1);
    const bench = fakeBench(FAST);
    const result = await tune(bench, { cacheFile: file });
    expect(result.groups[0]!.fromCache).toBe(false);
    expect(bench.timed.length).toBeGreaterThan(0);
    expect(describeSchedule(result.groups[0]!.chosen)).toBe('rowwise 64x32 vec4');
  });

  it('a missing file starts empty and is created', async () => {
    const file = join(dir, 'new', 'deeper', 'tune.json');
    const result = await tune(fakeBench(FAST), { cacheFile: file });
    expect(result.cacheProblem).toBeUndefined();
    expect((await readTuneFile(file)).entries).toHaveLength(1);
  });
});

describe('the device bench and the loop budget', () => {
  // An llvmpipe device as the runtime reads it; anything past the size checks would call it.
  const llvmpipe = {
    limits: { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 31 },
    adapterInfo: { description: 'llvmpipe (LLVM 15.0.6, 256 bits)' },
  } as unknown as GPUDevice;

  it('refuses to time a size llvmpipe would cut short, before anything is loaded', async () => {
    const module = compiled(OTHER_SPEC);
    await expect(
      deviceTuneBench(llvmpipe).prepare(module, { batch: 1, seqQ: 17, seqK: 70_000 }),
    ).rejects.toThrow(
      "kernel 'other.softmax' would run up to 71096 loop iterations per invocation at " +
        'batch=1, seqQ=17, seqK=70000; this device (llvmpipe) ends every loop',
    );
  });
});
