// The remembered device-tensor checks (src/runtime/device-tensor-check-memo.ts) and the span of
// uniform words a run rewrites (changedSpan in src/runtime/device-tensors.ts), without a
// device: buffers are stand-ins with a size and usage flags, which is all the checks read.

import { beforeAll, describe, expect, it, vi } from 'vitest';
import { compile } from '../../src/api/compile.js';
import type { HostPlan } from '../../src/codegen/plan.js';
import type { DeviceRunArgs } from '../../src/runtime/device-tensor-args.js';
import * as checks from '../../src/runtime/device-tensor-checks.js';
import { createCheckMemo } from '../../src/runtime/device-tensor-check-memo.js';
import { changedSpan } from '../../src/runtime/device-tensors.js';

vi.mock('../../src/runtime/device-tensor-checks.js', async (original) => {
  const actual = await original<typeof import('../../src/runtime/device-tensor-checks.js')>();
  return { ...actual, checkDeviceTensors: vi.fn(actual.checkDeviceTensors) };
});

const USAGE = { STORAGE: 0x80, COPY_SRC: 0x04, COPY_DST: 0x08 };
beforeAll(() => {
  if (typeof globalThis.GPUBufferUsage === 'undefined') vi.stubGlobal('GPUBufferUsage', USAGE);
});

const plan: HostPlan = (() => {
  const result = compile('attention dense { heads: 4; kv_heads: 2; head_dim: 16; causal: true }', {
    target: 'llvmpipe',
  });
  expect(result.diagnostics).toEqual([]);
  return result.modules[0]!.plan;
})();

const buffer = (bytes: number) =>
  ({ size: bytes, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST }) as GPUBuffer;
const limits = { minStorageBufferOffsetAlignment: 256 };
const checked = vi.mocked(checks.checkDeviceTensors);

/** One decode step's call: k and v bound by a cache, q and o the caller's. */
function step(q: GPUBuffer, o: GPUBuffer, seqK: number, seqQ = 1): DeviceRunArgs {
  return {
    q: { buffer: q, dtype: 'f32' },
    o: { buffer: o, dtype: 'f32' },
    batch: 1,
    seqQ,
    seqK,
  } as unknown as DeviceRunArgs;
}
const cacheBound = new Set(['k', 'v'] as const);

describe('remembered device-tensor checks', () => {
  it('a decode loop with the same q and o is checked once, whatever the length', () => {
    checked.mockClear();
    const check = createCheckMemo(plan, limits);
    const [q, o] = [buffer(4 * 16 * 4), buffer(4 * 16 * 4)];
    const first = check(step(q, o, 10), { batch: 1, seqQ: 1, seqK: 10 }, cacheBound);
    for (let seqK = 11; seqK < 40; seqK++) {
      const args = step(q, o, seqK);
      const bound = check(args, { batch: 1, seqQ: 1, seqK }, cacheBound);
      expect(bound).toEqual(
        checks.checkDeviceTensors(plan, args, { batch: 1, seqQ: 1, seqK }, limits, cacheBound),
      );
      expect(bound.find((b) => b.name === 'q')!.tensor).toBe(args.q);
    }
    expect(first.map((b) => b.name).sort()).toEqual(['o', 'q']);
    // One check by the memo, the rest by this test's comparisons.
    expect(checked.mock.calls.length).toBe(1 + 29);
  });

  it('another buffer, offset, dtype or row count is checked again, and refused when wrong', () => {
    checked.mockClear();
    const check = createCheckMemo(plan, limits);
    const [q, o] = [buffer(4 * 16 * 4 * 2), buffer(4 * 16 * 4 * 2)];
    check(step(q, o, 8), { batch: 1, seqQ: 1, seqK: 8 }, cacheBound);
    check(step(q, o, 8, 2), { batch: 1, seqQ: 2, seqK: 8 }, cacheBound);
    expect(checked).toHaveBeenCalledTimes(2);
    const small = buffer(16);
    expect(() => check(step(q, small, 9), { batch: 1, seqQ: 1, seqK: 9 }, cacheBound)).toThrow(
      /tensor 'o': its buffer holds 16 bytes/,
    );
    const offset = { ...step(q, o, 9), o: { buffer: o, dtype: 'f32', offset: 4 } };
    expect(() =>
      check(offset as DeviceRunArgs, { batch: 1, seqQ: 1, seqK: 9 }, cacheBound),
    ).toThrow(/tensor 'o': offset 4 is not a multiple/);
    const f16 = { ...step(q, o, 9), q: { buffer: q, dtype: 'f16' } };
    expect(() => check(f16 as DeviceRunArgs, { batch: 1, seqQ: 1, seqK: 9 }, cacheBound)).toThrow(
      /tensor 'q': dtype is f16, expected f32/,
    );
    // A refused call is not remembered: the good call after it is checked again.
    check(step(q, o, 10), { batch: 1, seqQ: 1, seqK: 10 }, cacheBound);
    expect(checked).toHaveBeenCalledTimes(6);
  });

  it('without a cache, k and v are checked again when their length changes', () => {
    checked.mockClear();
    const check = createCheckMemo(plan, limits);
    const big = () => buffer(1 << 16);
    const [q, k, v, o] = [big(), big(), big(), big()];
    const args = (seqK: number) =>
      ({
        q: { buffer: q, dtype: 'f32' },
        k: { buffer: k, dtype: 'f32' },
        v: { buffer: v, dtype: 'f32' },
        o: { buffer: o, dtype: 'f32' },
        seqQ: 1,
        seqK,
      }) as unknown as DeviceRunArgs;
    check(args(8), { batch: 1, seqQ: 1, seqK: 8 }, new Set());
    check(args(8), { batch: 1, seqQ: 1, seqK: 8 }, new Set());
    expect(checked).toHaveBeenCalledTimes(1);
    check(args(9), { batch: 1, seqQ: 1, seqK: 9 }, new Set());
    expect(checked).toHaveBeenCalledTimes(2);
    expect(() => check(args(5000), { batch: 1, seqQ: 1, seqK: 5000 }, new Set())).toThrow(
      /tensor 'k': its buffer holds 65536 bytes/,
    );
  });
});

describe('changedSpan', () => {
  const words = (...x: number[]) => new Uint32Array(x);
  it('is the words from the first to the last that differ', () => {
    expect(changedSpan(words(1, 2, 3, 4), words(1, 2, 3, 4))).toEqual([4, 4]);
    expect(changedSpan(words(1, 2, 3, 4), words(1, 9, 3, 4))).toEqual([1, 2]);
    expect(changedSpan(words(1, 2, 3, 4), words(9, 2, 3, 8))).toEqual([0, 4]);
    expect(changedSpan(words(1, 2, 3, 4), words(1, 2, 7, 8))).toEqual([2, 4]);
  });
});
