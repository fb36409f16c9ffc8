// Bench cases for compiled attnc kernels: dense, causal and window(256) softmax attention, one
// head, D from the shape, each in the variant the device's profile picks and in the GPU-shaped
// (tiled) variant. They run the host plan through the runtime's PreparedRun, so what is timed
// is exactly what `load(...).run(...)` dispatches, minus uploads and readback.

import type { CheckedAttention, MaskNode } from '../src/check/checked.js';
import { compileAttention } from '../src/codegen/compile.js';
import { readDeviceProfile } from '../src/runtime/device-profile.js';
import { load } from '../src/runtime/loaded-kernel.js';
import { randomMatrix } from './baseline.js';
import type { BenchCase, CaseCheck, CaseFactory, RunContext } from './harness.js';
import { benchSpec, NO_SPAN } from './bench-spec.js';
import { checkRows, keyRange } from './reference-rows.js';

const S = NO_SPAN;

function spec(d: number, mask: MaskNode, causal: boolean): CheckedAttention {
  return benchSpec(d, { group: { mask, causal } });
}

/** Fraction of (p, j) pairs with |p - j| <= w. */
export function windowDensity(n: number, w: number): number {
  let allowed = 0;
  for (let p = 0; p < n; p++) allowed += Math.min(p + w, n - 1) - Math.max(p - w, 0) + 1;
  return allowed / (n * n);
}

/** Fraction of (p, j) pairs with j <= p. */
export function causalDensity(n: number): number {
  return (n + 1) / (2 * n);
}

interface AttncShape {
  /** Half-width of a symmetric window, or null for all keys. */
  readonly window: number | null;
  readonly causal: boolean;
  /** The GPU-shaped (tiled) variant even where the profile is CPU-like. */
  readonly forceTiled: boolean;
}

function attncFactory(name: string, variant: AttncShape): CaseFactory {
  const { window, causal, forceTiled } = variant;
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
      const loaded = load(device, compileAttention(spec(d, mask, causal), profile));
      const q = randomMatrix(n * d, 1);
      const k = randomMatrix(n * d, 2);
      const v = randomMatrix(n * d, 3);
      const prepared = loaded.prepare({ q, k, v });
      let lastOutput: Promise<Float32Array> | null = null;
      return {
        name,
        density: causal ? causalDensity(n) : window === null ? 1 : windowDensity(n, window),
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
          return checkRows(await lastOutput, { q, k, v, n, d }, keyRange(n, { causal, window }));
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
    attncFactory('attnc-dense', { window: null, causal: false, forceTiled: false }),
    attncFactory('attnc-causal', { window: null, causal: true, forceTiled: false }),
    attncFactory('attnc-window256', { window: 256, causal: false, forceTiled: false }),
    attncFactory('attnc-dense-tiled', { window: null, causal: false, forceTiled: true }),
    attncFactory('attnc-causal-tiled', { window: null, causal: true, forceTiled: true }),
    attncFactory('attnc-window256-tiled', { window: 256, causal: false, forceTiled: true }),
  ];
}
