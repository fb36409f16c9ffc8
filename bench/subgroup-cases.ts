// Bench cases comparing the three softmax kernel variants on one device: `rowwise` (CPU-shaped),
// `tiled` (K/V tiles in workgroup memory) and `subgroup` (tiles + lanes of a subgroup sharing a
// query row, `subgroupAdd` scores). The variant is forced through the profile the spec is
// compiled for (cpuLike, subgroups), so `subgroup` cases need a device with `subgroups`
// (SwiftShader has them). Dense and window(256), one head, D from the shape:
//   npm run bench -- --adapter swiftshader --seq 1024,2048 --case subgroup-

import type { CheckedAttention, MaskNode } from '../src/check/checked.js';
import { compileAttention } from '../src/codegen/compile.js';
import type { KernelVariant } from '../src/ir/ir.js';
import { readDeviceProfile } from '../src/runtime/device-profile.js';
import { load } from '../src/runtime/loaded-kernel.js';
import type { DeviceProfile } from '../src/target/profile.js';
import { windowDensity } from './attnc-cases.js';
import { randomMatrix } from './baseline.js';
import {
  CaseNotApplicable,
  type BenchCase,
  type CaseCheck,
  type CaseFactory,
  type RunContext,
} from './harness.js';
import { benchSpec, NO_SPAN } from './bench-spec.js';

const S = NO_SPAN;

function spec(d: number, mask: MaskNode): CheckedAttention {
  return benchSpec(d, { group: { mask } });
}

/** The device's profile changed so that plan-blocks picks `variant`. */
function profileFor(device: DeviceProfile, variant: KernelVariant): DeviceProfile {
  switch (variant) {
    case 'rowwise':
      return { ...device, cpuLike: true };
    case 'tiled':
      return { ...device, cpuLike: false, features: { ...device.features, subgroups: false } };
    case 'subgroup':
      return { ...device, cpuLike: false };
    default:
      throw new Error(`no profile forces variant ${variant}`);
  }
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

function variantFactory(window: number | null, variant: KernelVariant): CaseFactory {
  const name = `subgroup-${window === null ? 'dense' : `window${window}`}-${variant}`;
  return {
    name,
    create(device: GPUDevice, shape: { readonly n: number; readonly d: number }): BenchCase {
      const { n, d } = shape;
      const mask: MaskNode =
        window === null
          ? { kind: 'full', span: S }
          : { kind: 'window', left: window, right: window, span: S };
      const compiled = compileAttention(
        spec(d, mask),
        profileFor(readDeviceProfile(device), variant),
      );
      const plan = compiled.ir.groups[0]?.mechanism.plan;
      if (plan?.variant !== variant)
        throw new CaseNotApplicable(
          `${name}: this device's profile gives ${plan?.variant}, not ${variant}`,
        );
      const loaded = load(device, compiled);
      const q = randomMatrix(n * d, 1);
      const k = randomMatrix(n * d, 2);
      const v = randomMatrix(n * d, 3);
      const prepared = loaded.prepare({ q, k, v });
      let lastOutput: Promise<Float32Array> | null = null;
      return {
        name: `${name} (TQ ${plan.queryTile}, TK ${plan.keyTile})`,
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

export function subgroupFactories(): CaseFactory[] {
  const variants: KernelVariant[] = ['subgroup', 'tiled', 'rowwise'];
  return [null, 256].flatMap((window) => variants.map((v) => variantFactory(window, v)));
}
