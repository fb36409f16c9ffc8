// Bench cases for compiled attnc kernels: dense and window(256) softmax attention, one head,
// D from the shape, each in the variant the device's profile picks and in the GPU-shaped
// (tiled) variant. They run the host plan through the runtime's PreparedRun, so what is timed
// is exactly what `load(...).run(...)` dispatches, minus uploads and readback.

import type { CheckedAttention, MaskNode } from '../src/check/checked.js';
import { compileAttention } from '../src/codegen/compile.js';
import { readDeviceProfile } from '../src/runtime/device-profile.js';
import { load } from '../src/runtime/loaded-kernel.js';
import { randomMatrix } from './baseline.js';
import type { BenchCase, CaseCheck, CaseFactory, RunContext } from './harness.js';
import { benchSpec, NO_SPAN } from './bench-spec.js';

const S = NO_SPAN;

function spec(d: number, mask: MaskNode): CheckedAttention {
  return benchSpec(d, { group: { mask } });
}

/** Fraction of (p, j) pairs with |p - j| <= w. */
export function windowDensity(n: number, w: number): number {
  let allowed = 0;
  for (let p = 0; p < n; p++) allowed += Math.min(p + w, n - 1) - Math.max(p - w, 0) + 1;
  return allowed / (n * n);
}

/** One row of softmax attention over keys [lo, hi], in float64. */
function referenceRow(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  d: number,
  row: number,
  lo: number,
  hi: number,
): Float64Array {
  const scale = 1 / Math.sqrt(d);
  const scores: number[] = [];
  for (let j = lo; j <= hi; j++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += q[row * d + c]! * k[j * d + c]!;
    scores.push(s * scale);
  }
  const max = Math.max(...scores);
  const out = new Float64Array(d);
  let sum = 0;
  scores.forEach((s, t) => {
    const p = Math.exp(s - max);
    sum += p;
    for (let c = 0; c < d; c++) out[c]! += p * v[(lo + t) * d + c]!;
  });
  return out.map((x) => x / sum);
}

function attncFactory(name: string, window: number | null, forceTiled: boolean): CaseFactory {
  return {
    name,
    create(device: GPUDevice, shape: { readonly n: number; readonly d: number }): BenchCase {
      const { n, d } = shape;
      const mask: MaskNode =
        window === null
          ? { kind: 'full', span: S }
          : { kind: 'window', left: window, right: window, span: S };
      const deviceProfile = readDeviceProfile(device);
      const profile = forceTiled ? { ...deviceProfile, cpuLike: false } : deviceProfile;
      const loaded = load(device, compileAttention(spec(d, mask), profile));
      const q = randomMatrix(n * d, 1);
      const k = randomMatrix(n * d, 2);
      const v = randomMatrix(n * d, 3);
      const prepared = loaded.prepare({ q, k, v });
      let lastOutput: Promise<Float32Array> | null = null;
      return {
        name,
        density: window === null ? 1 : windowDensity(n, window),
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
          let maxAbsError = 0;
          for (const row of rows) {
            const lo = window === null ? 0 : Math.max(0, row - window);
            const hi = window === null ? n - 1 : Math.min(n - 1, row + window);
            const want = referenceRow(q, k, v, d, row, lo, hi);
            for (let c = 0; c < d; c++)
              maxAbsError = Math.max(maxAbsError, Math.abs(o[row * d + c]! - want[c]!));
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

export function attncFactories(): CaseFactory[] {
  return [
    attncFactory('attnc-dense', null, false),
    attncFactory('attnc-window256', 256, false),
    attncFactory('attnc-dense-tiled', null, true),
    attncFactory('attnc-window256-tiled', 256, true),
  ];
}
