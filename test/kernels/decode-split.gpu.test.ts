// The split-K decode kernels (kernels/decode-split.ts) on llvmpipe against the CPU reference: a
// step of 1 or 4 query rows over 1 to 70,000 keys (past the old single-invocation limit of
// ~64.5K keys set by llvmpipe's loop budget; splits of 64 keys and more), for dense causal,
// window | sink, a segment mask and f16 storage, all GQA (8 heads, 2 kv heads); the other
// static masks, layouts, modifiers and the packed portable target at small sizes; with the LSE
// output; and at 17 rows the plan takes the fused kernel again. A few GQA, MQA and plain-head
// cases on SwiftShader too.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutput } from '../../src/api/compare-output.js';
import { compile, type CompiledModule } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { createRuntime, type Runtime } from '../../src/api/runtime.js';
import { holds } from '../../src/codegen/plan.js';
import { referenceAttention, referenceAttentionWithLse } from '../../src/reference/index.js';
import type { DeviceProfile } from '../../src/target/profile.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const llvmpipe = await adapterAvailability('llvmpipe');
const swiftshader = await adapterAvailability('swiftshader');
const SHAPE = 'heads: 8; kv_heads: 2; head_dim: 64';

function moduleOf(text: string, target: string | DeviceProfile, lse = false): CompiledModule {
  const result = compile(text, { target, lse });
  const module = result.modules[0];
  if (!module) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  return module;
}

/** The kernels a run at these sizes dispatches, in order. */
function dispatched(module: CompiledModule, seqQ: number, seqK: number): string[] {
  return module.plan.steps.flatMap((s) =>
    s.kind === 'dispatch' && holds(s.when, { batch: 1, seqQ, seqK }) ? [s.kernel] : [],
  );
}

describe('split-K decode plan', () => {
  it('takes the decode kernels up to 16 rows and the fused kernel past them', () => {
    const module = moduleOf(`attention d { ${SHAPE}; causal: true }`, 'llvmpipe');
    expect(dispatched(module, 1, 4096)).toEqual(['d.decode_partial', 'd.decode_merge']);
    expect(dispatched(module, 16, 4096)).toEqual(['d.decode_partial', 'd.decode_merge']);
    expect(dispatched(module, 17, 4096)).toEqual(['d.softmax']);
  });

  it('cuts routed masks by position too, with the same merge', () => {
    const module = moduleOf(
      `attention r { ${SHAPE}; causal: true; mask: topk(2, block: 64) }`,
      'llvmpipe',
    );
    expect(dispatched(module, 1, 4096)).toEqual([
      'r.topk0.means',
      'r.decode_partial',
      'r.decode_merge',
    ]);
    expect(dispatched(module, 17, 4096)).toEqual(['r.topk0.means', 'r.softmax']);
  });
});

describe.skipIf(!llvmpipe.run)('split-K decode on llvmpipe', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
  });
  afterAll(() => runtime?.destroy());

  async function expectStep(module: CompiledModule, seqQ: number, seqK: number): Promise<void> {
    const loaded = await runtime.load(module);
    try {
      const inputs = randomInputs(module, { batch: 1, seqQ, seqK, seed: seqK + seqQ });
      const { o, lse } = await loaded.run(inputs);
      const f16 = module.plan.outputs[0]!.storage === 'f16';
      const tolerance = f16 ? 4e-3 : 1e-4;
      if (lse) {
        const expected = referenceAttentionWithLse(module.attention, inputs);
        expect(compareOutput(o, expected.o).relativeError).toBeLessThan(tolerance);
        for (let r = 0; r < expected.lse.length; r++) {
          const e = expected.lse[r]!;
          if (e === -Infinity) expect(lse[r], `lse row ${r}`).toBe(-Infinity);
          else
            expect(Math.abs(lse[r]! - e), `lse row ${r}`).toBeLessThan(
              1e-4 * Math.max(1, Math.abs(e)),
            );
        }
      } else {
        const expected = referenceAttention(module.attention, inputs);
        expect(compareOutput(o, expected).relativeError).toBeLessThan(tolerance);
      }
    } finally {
      loaded.destroy();
    }
  }

  const cases: readonly [string, string, readonly number[]][] = [
    // 3000 keys: 188 tiles in 16 splits of 12, the last one of 8.
    ['dense causal', `${SHAPE}; causal: true`, [1, 63, 64, 65, 1000, 3000, 70000]],
    [
      'window(left: 1024) | sink(4)',
      `${SHAPE}; causal: true; mask: window(left: 1024) | sink(4)`,
      [1, 63, 64, 65, 1000, 70000],
    ],
    ['segment', `${SHAPE}; causal: true; mask: segment`, [1, 63, 64, 65, 1000]],
    ['f16 storage', `${SHAPE}; dtype: f16; causal: true`, [1, 63, 64, 65, 1000]],
  ];
  for (const [name, body, lengths] of cases) {
    for (const seqQ of [1, 4]) {
      it(`${name}, seqQ ${seqQ}: equals the reference at seqK ${lengths.join(', ')}`, async () => {
        const module = moduleOf(`attention t { ${body} }`, runtime.profile);
        for (const seqK of lengths) {
          if (seqK < seqQ) continue;
          expect(dispatched(module, seqQ, seqK)).toContain('t.decode_partial');
          await expectStep(module, seqQ, seqK);
        }
      }, 120_000);
    }
  }

  const SMALL = 'heads: 4; kv_heads: 2; head_dim: 16';
  const masks: readonly [string, string, string | null][] = [
    ['dilated', 'causal: true; mask: dilated(4, 3)', null],
    ['stride', 'mask: stride(5)', null],
    ['global', 'mask: window(3) | global(first: 2) | global(60, 299)', null],
    ['blocks & stride | sink', 'mask: (blocks(16) & stride(3)) | sink(2)', null],
    ['random | window (bigbird)', 'mask: window(4) | random(2, block: 8, seed: 1)', null],
    ['rows with no allowed key', 'causal: true; mask: sink(2) & window(left: 1)', null],
    ['window & segment, bnhd', 'layout: bnhd; mask: window(20) & segment', null],
    ['softcap and alibi', 'causal: true; softcap: 5; bias: alibi; mask: window(left: 9)', null],
    // The invocations of a kv head's query heads are neighbours (splitRows): one kv head for
    // every query head, and one query head per kv head.
    ['MQA (4 heads, 1 kv head)', 'kv_heads: 1; causal: true; mask: window(left: 40)', null],
    [
      'packed q/k/v (portable, tiled)',
      'causal: true; mask: window(left: 30) | sink(4)',
      'portable',
    ],
  ];
  for (const [name, body, target] of masks) {
    it(`${name}: seqQ 1 and 4 over 63 and 300 keys equal the reference`, async () => {
      const shape = body.startsWith('kv_heads: 1') ? 'heads: 4; head_dim: 16' : SMALL;
      const module = moduleOf(`attention t { ${shape}; ${body} }`, target ?? runtime.profile);
      for (const seqQ of [1, 4])
        for (const seqK of [63, 300]) {
          expect(dispatched(module, seqQ, seqK)).toContain('t.decode_partial');
          await expectStep(module, seqQ, seqK);
        }
    }, 60_000);
  }

  // One invocation serves every query head of its kv head (decode-split-heads.ts): the
  // largest group (16 heads on one kv head) with per-head alibi slopes, and f16 storage.
  const groups: readonly [string, string][] = [
    [
      '16 heads on 1 kv head, alibi and softcap',
      'heads: 16; kv_heads: 1; head_dim: 16; causal: true; softcap: 5; bias: alibi',
    ],
    [
      'head_dim 32, f16, GQA 4/2',
      'heads: 4; kv_heads: 2; head_dim: 32; dtype: f16; mask: window(left: 100) | sink(4)',
    ],
  ];
  for (const [name, body] of groups)
    it(`${name}: seqQ 1 and 4 over 63 and 300 keys equal the reference`, async () => {
      const module = moduleOf(`attention t { ${body} }`, runtime.profile);
      for (const seqQ of [1, 4])
        for (const seqK of [63, 300]) {
          expect(dispatched(module, seqQ, seqK)).toContain('t.decode_partial');
          await expectStep(module, seqQ, seqK);
        }
    }, 300_000);

  it('writes the LSE of each row, and 17 rows take the fused kernel with the same result', async () => {
    const module = moduleOf(
      `attention l { ${SHAPE}; causal: true; mask: window(left: 100) | sink(4) }`,
      runtime.profile,
      true,
    );
    await expectStep(module, 3, 1000);
    await expectStep(module, 17, 1000);
  }, 60_000);
});

// The same kernels on SwiftShader (a GPU-like profile: workgroups of 64, so a workgroup holds
// many splits of each head of a GQA group), at small sizes: GQA 8/2, MQA and plain heads.
describe.skipIf(!swiftshader.run)('split-K decode on swiftshader', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await createRuntime({ adapter: 'swiftshader', selfCheck: false });
  });
  afterAll(() => runtime?.destroy());

  const shapes: readonly [string, string][] = [
    ['GQA 8/2, dense causal', `${SHAPE}; causal: true`],
    ['GQA 8/2, window | sink', `${SHAPE}; causal: true; mask: window(left: 100) | sink(4)`],
    [
      'MQA 4/1, window',
      'heads: 4; kv_heads: 1; head_dim: 16; causal: true; mask: window(left: 40)',
    ],
    ['MHA 3/3, dense causal', 'heads: 3; head_dim: 16; causal: true'],
  ];
  for (const [name, body] of shapes) {
    it(`${name}: seqQ 1 and 4 over 63, 300 and 1000 keys equal the reference`, async () => {
      const module = moduleOf(`attention t { ${body} }`, runtime.profile);
      const loaded = await runtime.load(module);
      try {
        for (const seqQ of [1, 4])
          for (const seqK of [63, 300, 1000]) {
            expect(dispatched(module, seqQ, seqK)).toContain('t.decode_partial');
            const inputs = randomInputs(module, { batch: 1, seqQ, seqK, seed: seqK + seqQ });
            const { o } = await loaded.run(inputs);
            const expected = referenceAttention(module.attention, inputs);
            expect(compareOutput(o, expected).relativeError).toBeLessThan(1e-4);
          }
      } finally {
        loaded.destroy();
      }
    }, 120_000);
  }
});
