// Bench cases for low-rank attention: linformer(256) with max_seq = N and nystrom(64, iters: 6),
// one head, D from the shape, in the variant the device's profile picks. `density` is the
// dense-equivalent fraction of pairs, so GFLOP/s compares with dense softmax: linformer scores
// r keys per query and projects r rows from N keys (2 r N pairs of 4 D FLOPs), nystrom has
// m landmark rows over N keys and N queries over m landmarks (2 m N pairs). The check compares
// three rows with the CPU reference.

import type { CheckedAttention, LowRank } from '../src/check/checked.js';
import { compileAttention } from '../src/codegen/compile.js';
import { referenceAttention } from '../src/reference/index.js';
import { readDeviceProfile } from '../src/runtime/device-profile.js';
import { load } from '../src/runtime/loaded-kernel.js';
import { randomMatrix } from './baseline.js';
import type { BenchCase, CaseCheck, CaseFactory, RunContext } from './harness.js';
import { benchSpec, NO_SPAN } from './bench-spec.js';

const S = NO_SPAN;

function spec(d: number, n: number, lowrank: LowRank): CheckedAttention {
  return benchSpec(d, { attention: { maxSeq: n }, group: { lowrank } });
}

function lowRankFactory(name: string, lowrank: LowRank, rows: number): CaseFactory {
  return {
    name,
    create(device: GPUDevice, shape: { readonly n: number; readonly d: number }): BenchCase {
      const { n, d } = shape;
      const attention = spec(d, n, lowrank);
      const loaded = load(device, compileAttention(attention, readDeviceProfile(device)));
      const q = randomMatrix(n * d, 1);
      const k = randomMatrix(n * d, 2);
      const v = randomMatrix(n * d, 3);
      // Linformer projections scaled like the paper's initialization, ~ 1/sqrt(N) per entry.
      const projection = (seed: number) =>
        randomMatrix(rows * n, seed).map((x) => x / Math.sqrt(n));
      const extra = lowrank.kind === 'linformer' ? { E: projection(4), F: projection(5) } : {};
      const inputs = { q, k, v, ...extra };
      const prepared = loaded.prepare(inputs);
      let lastOutput: Promise<Float32Array> | null = null;
      return {
        name,
        density: Math.min(1, (2 * rows) / n),
        n,
        d,
        heads: 1,
        run(ctx: RunContext) {
          const encoder = device.createCommandEncoder();
          prepared.encode(encoder, (e) => ctx.beginComputePass(e));
          device.queue.submit([encoder.finish()]);
        },
        async check(): Promise<CaseCheck> {
          lastOutput ??= prepared.run().then((r) => r.o);
          const o = await lastOutput;
          const want = referenceAttention(attention, { ...inputs, batch: 1, seqQ: n, seqK: n });
          const checked = [...new Set([0, n >> 1, n - 1])];
          let maxAbsError = 0;
          for (const row of checked) {
            for (let c = 0; c < d; c++) {
              const x = row * d + c;
              maxAbsError = Math.max(maxAbsError, Math.abs(o[x]! - want[x]!));
            }
          }
          return { maxAbsError, checked: `rows ${checked.join(', ')}` };
        },
        destroy() {
          prepared.destroy();
          loaded.destroy();
        },
      };
    },
  };
}

export function lowRankFactories(): CaseFactory[] {
  return [
    lowRankFactory('lowrank-linformer256', { kind: 'linformer', rank: 256, span: S }, 256),
    lowRankFactory('lowrank-nystrom64', { kind: 'nystrom', landmarks: 64, iters: 6, span: S }, 64),
  ];
}
