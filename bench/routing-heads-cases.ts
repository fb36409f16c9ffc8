// Bench cases for mixture of heads: 8 causal heads computed in full (`heads8-causal`) against
// the same spec with `head_routing: top(2)` (`heads8-top2-causal`), D from the shape. The
// routed case's time includes the routing kernels (select, scan, scatter); it computes about
// a quarter of the (row, head) pairs, so the ideal ratio is about 4x. The `-elu1-` pair is the
// same for a kernelized group (`kernel: elu1`, causal): there top(2) skips the dropped rows'
// output pass (phi(q) against the prefix state plus the own chunk's keys) but not the
// per-(batch, head) key-side states and scan. All run the host plan through PreparedRun,
// like bench/attnc-cases.ts.

import type { CheckedAttention } from '../src/check/checked.js';
import { compileAttention } from '../src/codegen/compile.js';
import { headRoutingWeights } from '../src/reference/head-routing.js';
import { readDeviceProfile } from '../src/runtime/device-profile.js';
import { load } from '../src/runtime/loaded-kernel.js';
import { randomMatrix } from './baseline.js';
import type { BenchCase, CaseCheck, CaseFactory, RunContext } from './harness.js';
import { benchSpec, NO_SPAN } from './bench-spec.js';

const S = NO_SPAN;
const HEADS = 8;

type Mechanism = 'softmax' | 'elu1';

function spec(d: number, k: number | null, mechanism: Mechanism): CheckedAttention {
  return benchSpec(d, {
    name: `heads8${k === null ? '' : `_top${k}`}${mechanism === 'elu1' ? '_elu1' : ''}`,
    heads: HEADS,
    attention: k === null ? {} : { headRouting: { k, span: S } },
    group: {
      causal: true,
      mask: { kind: 'causal', span: S },
      ...(mechanism === 'elu1' ? { kernel: { kind: 'elu1', span: S } } : {}),
    },
  });
}

/** Causal elu1 linear attention of one (head, row), times `weight`, in float64. */
function referenceRowElu1(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  n: number,
  d: number,
  head: number,
  row: number,
  weight: number,
): Float64Array {
  const base = head * n * d;
  const phi = (x: number) => (x > 0 ? x + 1 : Math.exp(x));
  const out = new Float64Array(d);
  let den = 0;
  for (let j = 0; j <= row; j++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += phi(q[base + row * d + c]!) * phi(k[base + j * d + c]!);
    den += s;
    for (let c = 0; c < d; c++) out[c]! += s * v[base + j * d + c]!;
  }
  return out.map((x) => (x / (den + 1e-6)) * weight);
}

/** Causal softmax of one (head, row), times `weight`, in float64. */
function referenceRow(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  n: number,
  d: number,
  head: number,
  row: number,
  weight: number,
): Float64Array {
  const base = head * n * d;
  const scores: number[] = [];
  for (let j = 0; j <= row; j++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += q[base + row * d + c]! * k[base + j * d + c]!;
    scores.push(s / Math.sqrt(d));
  }
  const max = Math.max(...scores);
  const out = new Float64Array(d);
  let sum = 0;
  scores.forEach((s, j) => {
    const p = Math.exp(s - max);
    sum += p;
    for (let c = 0; c < d; c++) out[c]! += p * v[base + j * d + c]!;
  });
  return out.map((x) => (x / sum) * weight);
}

function routingFactory(name: string, k: number | null, mechanism: Mechanism): CaseFactory {
  return {
    name,
    create(device: GPUDevice, shape: { readonly n: number; readonly d: number }): BenchCase {
      const { n, d } = shape;
      const loaded = load(
        device,
        compileAttention(spec(d, k, mechanism), readDeviceProfile(device)),
      );
      const q = randomMatrix(HEADS * n * d, 1);
      const kk = randomMatrix(HEADS * n * d, 2);
      const v = randomMatrix(HEADS * n * d, 3);
      const router = randomMatrix(n * HEADS, 4).map((x) => 3 * x);
      const prepared = loaded.prepare({ q, k: kk, v, ...(k === null ? {} : { router }) });
      let lastOutput: Promise<Float32Array> | null = null;
      // Pairs scored: causal density (n+1)/(2n) over the heads actually computed.
      // (For elu1 the same fraction of the output pass; GFLOP/s are not comparable.)
      const causal = (n + 1) / (2 * n);
      return {
        name,
        density: k === null ? causal : (causal * k) / HEADS,
        n,
        d,
        heads: HEADS,
        run(ctx: RunContext) {
          const encoder = device.createCommandEncoder();
          prepared.encode(encoder, (e) => ctx.beginComputePass(e));
          device.queue.submit([encoder.finish()]);
        },
        async check(): Promise<CaseCheck> {
          lastOutput ??= prepared.run().then((r) => r.o);
          const o = await lastOutput;
          const rows = [...new Set([0, n >> 1, n - 1])];
          let maxAbsError = 0;
          for (const row of rows) {
            const weights =
              k === null
                ? new Float64Array(HEADS).fill(1)
                : headRoutingWeights(router.subarray(row * HEADS, (row + 1) * HEADS), k);
            for (let h = 0; h < HEADS; h++) {
              const want = (mechanism === 'elu1' ? referenceRowElu1 : referenceRow)(
                q,
                kk,
                v,
                n,
                d,
                h,
                row,
                weights[h]!,
              );
              for (let c = 0; c < d; c++) {
                const got = o[(h * n + row) * d + c]!;
                maxAbsError = Math.max(maxAbsError, Math.abs(got - want[c]!));
              }
            }
          }
          return { maxAbsError, checked: `rows ${rows.join(', ')} of all ${HEADS} heads` };
        },
        destroy() {
          prepared.destroy();
          loaded.destroy();
        },
      };
    },
  };
}

export function routingHeadsFactories(): CaseFactory[] {
  return [
    routingFactory('heads8-causal', null, 'softmax'),
    routingFactory('heads8-top2-causal', 2, 'softmax'),
    routingFactory('heads8-elu1-causal', null, 'elu1'),
    routingFactory('heads8-top2-elu1-causal', 2, 'elu1'),
  ];
}
