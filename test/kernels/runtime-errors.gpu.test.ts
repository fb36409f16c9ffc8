// Run-time errors name the input, the expected and the actual value (language.md section 9),
// and one compiled module serves every N.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileAttention } from '../../src/codegen/compile.js';
import { referenceAttention } from '../../src/reference/index.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { checkRunSizes, load, type LoadedAttention } from '../../src/runtime/loaded-kernel.js';
import { compile } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { attention, m, makeProblem, packedSegments } from './build.js';
import { maxAbsDiff, TOLERANCE } from './run-cases.js';

describe('runtime on llvmpipe', () => {
  let acquired: AcquiredDevice;
  let loaded: LoadedAttention;
  const spec = attention({
    heads: 2,
    kvHeads: 1,
    headDim: 8,
    mask: m.window(6),
    causal: true,
    maxSeq: 4096,
  });
  beforeAll(async () => {
    acquired = await acquireDevice({ adapter: 'llvmpipe' });
    loaded = load(acquired.device, compileAttention(spec, acquired.profile, { verify: true }));
  });
  afterAll(() => acquired?.destroy());

  it('serves every sequence length from one compiled module', async () => {
    for (const [batch, seqQ, seqK] of [
      [1, 1, 1],
      [2, 7, 300],
      [1, 128, 128],
      [3, 33, 65],
    ] as const) {
      const problem = makeProblem(spec, batch, seqQ, seqK, seqK);
      const { o } = await loaded.run(problem);
      expect(maxAbsDiff(o, referenceAttention(spec, problem))).toBeLessThan(TOLERANCE);
    }
  });

  it('folds dispatches into two dimensions correctly (tiny maxComputeWorkgroupsPerDimension)', async () => {
    const folded = {
      ...acquired.profile,
      limits: { ...acquired.profile.limits, maxComputeWorkgroupsPerDimension: 3 },
    };
    const seg = attention({ heads: 2, kvHeads: 1, mask: m.or(m.window(20), m.segment()) });
    const compiled = compileAttention(seg, folded, { verify: true });
    const problem = { ...makeProblem(seg, 2, 200, 257, 5), ...packedSegments(2, 200, 257, 9) };
    const { o } = await load(acquired.device, compiled).run(problem);
    expect(maxAbsDiff(o, referenceAttention(seg, problem))).toBeLessThan(TOLERANCE);
  });

  it('infers seqQ and seqK from the lengths of q and k', async () => {
    const problem = makeProblem(spec, 2, 10, 20);
    const { o } = await loaded.run({ q: problem.q, k: problem.k, v: problem.v, batch: 2 });
    expect(maxAbsDiff(o, referenceAttention(spec, problem))).toBeLessThan(TOLERANCE);
  });

  it('names the input, the expected and the actual shape', async () => {
    const p = makeProblem(spec, 1, 10, 20);
    await expect(loaded.run({ ...p, v: new Float32Array(7) })).rejects.toThrow(
      "input 'v': expected [B, Hkv, Nk, Dv] = [1, 1, 20, 8] (160 elements), got 7 elements",
    );
    await expect(
      loaded.run({ ...p, q: new Float32Array(10) as unknown as Float32Array, seqQ: 10 }),
    ).rejects.toThrow(
      "input 'q': expected [B, H, Nq, D] = [1, 2, 10, 8] (160 elements), got 10 elements",
    );
    await expect(
      loaded.run({ ...p, k: new Uint32Array(3) as unknown as Float32Array }),
    ).rejects.toThrow(/input 'k': expected a Float32Array, got Uint32Array/);
  });

  it('rejects NaN and infinite input, naming the input and the first bad index', async () => {
    const p = makeProblem(spec, 1, 4, 4);
    p.k[5] = NaN;
    await expect(loaded.run(p)).rejects.toThrow("input 'k': element 5 is NaN");
    const q = makeProblem(spec, 1, 4, 4);
    q.q[7] = Infinity;
    q.q[9] = NaN;
    await expect(loaded.run(q)).rejects.toThrow(
      "input 'q': element 7 is Infinity; inputs must be finite",
    );
    const v = makeProblem(spec, 1, 4, 4);
    v.v[0] = -Infinity;
    await expect(loaded.run(v)).rejects.toThrow(
      "input 'v': element 0 is -Infinity; inputs must be finite",
    );
  });

  it('rejects infinite linformer projections and router logits', async () => {
    const text = [
      'attention lin { heads: 1; head_dim: 8; max_seq: 32; lowrank: linformer(4) }',
      'attention moh { heads: 4; head_dim: 4; head_routing: top(2) }',
    ].join('\n');
    const [lin, moh] = compile(text, { target: acquired.profile }).modules;
    const linInputs = randomInputs(lin!, { batch: 1, seqQ: 8, seqK: 8 });
    (linInputs.E as Float32Array)[3] = Infinity;
    await expect(load(acquired.device, lin!).run(linInputs)).rejects.toThrow(
      "input 'E': element 3 is Infinity; inputs must be finite",
    );
    const mohInputs = randomInputs(moh!, { batch: 1, seqQ: 5, seqK: 5 });
    (mohInputs.router as Float32Array)[2] = -Infinity;
    await expect(load(acquired.device, moh!).run(mohInputs)).rejects.toThrow(
      "input 'router': element 2 is -Infinity; inputs must be finite",
    );
  });

  it('checks run sizes against the plan and the device without any input', () => {
    const plan = loaded.compiled.plan;
    expect(() => checkRunSizes(plan, { batch: 1, seqQ: 2147483648, seqK: 2147483648 })).toThrow(
      'seqQ: expected an integer from 1 to 2147483647, got 2147483648',
    );
    expect(() =>
      checkRunSizes(
        plan,
        { batch: 1, seqQ: 4096, seqK: 4096 },
        { maxBufferSize: 65536, maxStorageBufferBindingSize: 65536, loopBudget: null },
      ),
    ).toThrow(
      /^buffer '\w+' needs \d+ bytes at batch=1, seqQ=4096, seqK=4096; the device's maxBufferSize is 65536$/,
    );
  });

  it('rejects seqQ > seqK and seqK > max_seq', async () => {
    const p = makeProblem(spec, 1, 4, 4);
    await expect(loaded.run({ ...p, seqQ: 5, seqK: 4 })).rejects.toThrow(
      'seqQ (5) must not exceed seqK (4)',
    );
    await expect(loaded.run({ ...p, seqQ: 1, seqK: 5000 })).rejects.toThrow(
      'seqK (5000) exceeds max_seq (4096)',
    );
  });

  it('names the device limit a buffer would pass', async () => {
    const wide = attention({ heads: 64, headDim: 256 });
    const big = load(acquired.device, compileAttention(wide, acquired.profile));
    const tiny = new Float32Array(4);
    await expect(big.run({ q: tiny, k: tiny, v: tiny, seqQ: 1, seqK: 4096 })).rejects.toThrow(
      /buffer 'k' needs 268435456 bytes at batch=1, seqQ=1, seqK=4096; the device's maxStorageBufferBindingSize is \d+/,
    );
  });

  it('asks for seg_q and seg_k when the mask has segment', async () => {
    const seg = attention({ mask: m.segment() });
    const segLoaded = load(acquired.device, compileAttention(seg, acquired.profile));
    const p = makeProblem(seg, 1, 8, 8);
    await expect(segLoaded.run(p)).rejects.toThrow(
      "input 'seg_q' is missing; expected u32 [B, Nq] = [1, 8] (8 elements)",
    );
    const ids = packedSegments(1, 8, 8, 3);
    await expect(segLoaded.run({ ...p, ...ids, seg_k: new Uint32Array(3) })).rejects.toThrow(
      "input 'seg_k': expected [B, Nk] = [1, 8] (8 elements), got 3 elements",
    );
  });
});
