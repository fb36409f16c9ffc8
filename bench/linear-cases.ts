// Bench cases for compiled linear (kernelized) attention: elu1, one head, D from the shape,
// causal and not, in the variant the device's profile picks. Like attnc-cases.ts they run the
// host plan through the runtime's PreparedRun. `density` is that of the softmax mask the same
// spec would have (1 full, (N + 1) / 2N causal), so GFLOP/s reads as softmax-equivalent work
// and compares directly with attnc-dense; the real work is O(N D Dv).

import type { CheckedAttention } from '../src/check/checked.js';
import { compileAttention } from '../src/codegen/compile.js';
import { readDeviceProfile } from '../src/runtime/device-profile.js';
import { load } from '../src/runtime/loaded-kernel.js';
import { randomMatrix } from './baseline.js';
import type { BenchCase, CaseCheck, CaseFactory, RunContext } from './harness.js';
import { benchSpec, NO_SPAN } from './bench-spec.js';

const S = NO_SPAN;

function linearSpec(d: number, causal: boolean): CheckedAttention {
  return benchSpec(d, { group: { causal, kernel: { kind: 'elu1', span: S } } });
}

const elu1 = (x: number) => (x > 0 ? x + 1 : Math.exp(x));

/** Rows of elu1 linear attention in float64, for the keys j <= row (causal) or all keys. */
function referenceRows(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  n: number,
  d: number,
  rows: readonly number[],
  causal: boolean,
): Map<number, Float64Array> {
  const state = new Float64Array(d * d);
  const z = new Float64Array(d);
  const out = new Map<number, Float64Array>();
  const add = (j: number) => {
    for (let t = 0; t < d; t++) {
      const f = elu1(k[j * d + t]!);
      z[t]! += f;
      for (let c = 0; c < d; c++) state[t * d + c]! += f * v[j * d + c]!;
    }
  };
  let included = 0;
  if (!causal) for (; included < n; included++) add(included);
  for (const row of [...rows].sort((a, b) => a - b)) {
    if (causal) for (; included <= row; included++) add(included);
    const o = new Float64Array(d);
    let den = 1e-6;
    for (let t = 0; t < d; t++) {
      const f = elu1(q[row * d + t]!);
      den += f * z[t]!;
      for (let c = 0; c < d; c++) o[c]! += f * state[t * d + c]!;
    }
    out.set(
      row,
      o.map((x) => x / den),
    );
  }
  return out;
}

function linearFactory(name: string, causal: boolean): CaseFactory {
  return {
    name,
    create(device: GPUDevice, shape: { readonly n: number; readonly d: number }): BenchCase {
      const { n, d } = shape;
      const profile = readDeviceProfile(device);
      const loaded = load(device, compileAttention(linearSpec(d, causal), profile));
      const q = randomMatrix(n * d, 1);
      const k = randomMatrix(n * d, 2);
      const v = randomMatrix(n * d, 3);
      const prepared = loaded.prepare({ q, k, v });
      let lastOutput: Promise<Float32Array> | null = null;
      return {
        name,
        density: causal ? (n + 1) / (2 * n) : 1,
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
          const rows = [...new Set([0, n >> 1, n - 1])];
          const want = referenceRows(q, k, v, n, d, rows, causal);
          let maxAbsError = 0;
          for (const row of rows) {
            const w = want.get(row)!;
            for (let c = 0; c < d; c++)
              maxAbsError = Math.max(maxAbsError, Math.abs(o[row * d + c]! - w[c]!));
          }
          return { maxAbsError, checked: `rows ${rows.join(', ')}` };
        },
        destroy() {
          prepared.destroy();
          loaded.destroy();
        },
      };
    },
  };
}

export function linearFactories(): CaseFactory[] {
  return [
    linearFactory('attnc-linear-elu1', false),
    linearFactory('attnc-linear-elu1-causal', true),
  ];
}
