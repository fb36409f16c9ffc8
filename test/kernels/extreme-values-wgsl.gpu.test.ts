// Every spec of extreme-specs.ts (each argument at its largest allowed value) compiles for
// every kernel variant, and every kernel it emits passes Dawn's WGSL compiler (Tint) and
// pipeline validation on the null backend, which validates without executing. A kernel Tint rejects never runs: its
// output stays zero, which a check against tiny reference values could miss
// (`window(2147483647)` once emitted `2147483648i`, `head_routing` over 100000 heads
// `array<u32, 100000>`).

import { create, globals } from 'webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import {
  CORE_F16_PROFILE,
  CORE_PROFILE,
  LLVMPIPE_PROFILE,
  PORTABLE_PROFILE,
  type DeviceProfile,
} from '../../src/target/profile.js';
import { EXTREME_SPECS } from './extreme-specs.js';

/** The tiled (portable, core-f16), row-wise (llvmpipe) and subgroup softmax variants. */
const PROFILES: readonly DeviceProfile[] = [
  PORTABLE_PROFILE,
  LLVMPIPE_PROFILE,
  CORE_F16_PROFILE,
  {
    ...CORE_PROFILE,
    name: 'core-subgroups',
    features: {
      shaderF16: false,
      subgroups: true,
      subgroupMinSize: 4,
      subgroupMaxSize: 128,
      timestampQuery: false,
    },
  },
];

// One Dawn instance for the process, never dropped (docs/runtime.md).
const g = globalThis as Record<string, unknown>;
for (const [name, value] of Object.entries(globals as object)) if (!(name in g)) g[name] = value;
const nullGpu = create(['backend=null']);
let device: GPUDevice;

describe("kernels at the largest argument values pass Tint (Dawn's null backend)", () => {
  beforeAll(async () => {
    const adapter = await nullGpu.requestAdapter({ featureLevel: 'core' });
    if (!adapter) throw new Error("Dawn's null backend gave no adapter");
    // The adapter's own limits, at least the largest profile's (llvmpipe: 32 KiB workgroup
    // memory), so pipeline creation checks each kernel against what its profile promised.
    device = await adapter.requestDevice({
      requiredFeatures: ['shader-f16', 'subgroups'],
      requiredLimits: {
        maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      },
    });
  });
  afterAll(() => device?.destroy());

  for (const [name, text] of EXTREME_SPECS) {
    it(name, async () => {
      for (const profile of PROFILES) {
        const result = compile(text, { target: profile });
        expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        expect(result.modules.length).toBe(1);
        for (const kernel of result.modules[0]!.plan.kernels) {
          const shader = device.createShaderModule({ code: kernel.wgsl });
          const info = await shader.getCompilationInfo();
          const errors = info.messages.filter((m) => m.type === 'error').map((m) => m.message);
          expect(errors, `${kernel.name} on ${profile.name}`).toEqual([]);
          // The pipeline too: workgroup memory and workgroup size against the device limits.
          device.pushErrorScope('validation');
          device.createComputePipeline({
            layout: 'auto',
            compute: { module: shader, entryPoint: kernel.entryPoint },
          });
          const error = await device.popErrorScope();
          expect(error?.message ?? null, `${kernel.name} pipeline on ${profile.name}`).toBeNull();
        }
      }
    });
  }
});
