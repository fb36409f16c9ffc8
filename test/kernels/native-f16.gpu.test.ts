// Native `shader-f16` kernels (dtype f16 rows declared `vec4<f16>`), validated by Dawn's
// WGSL compiler (Tint) and WebGPU validation on Dawn's null backend: it is the one adapter
// here that offers `shader-f16` (llvmpipe and SwiftShader do not), and it validates every
// shader, pipeline, bind group and dispatch exactly as a GPU backend would, but executes
// nothing. So these tests prove the native kernels compile and bind on a shader-f16 device;
// their numbers cannot be checked here. The memory layout is the packed path's (four halves
// per 8 bytes), whose kernels are checked against the reference on both software adapters,
// and the two paths differ only in the storage element type and its load/store conversion.

import { readdirSync, readFileSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import {
  CORE_F16_PROFILE,
  CORE_PROFILE,
  LLVMPIPE_PROFILE,
  type DeviceProfile,
} from '../../src/target/profile.js';

const examplesDir = new URL('../../examples/', import.meta.url);

/** Shapes of the three softmax variants, each with `shader-f16`. */
const PROFILES: readonly DeviceProfile[] = [
  CORE_F16_PROFILE, // tiled
  {
    ...LLVMPIPE_PROFILE,
    name: 'cpu-like-f16',
    features: { ...LLVMPIPE_PROFILE.features, shaderF16: true },
  }, // rowwise
  {
    ...CORE_PROFILE,
    name: 'core-f16-subgroups',
    features: {
      shaderF16: true,
      subgroups: true,
      subgroupMinSize: 4,
      subgroupMaxSize: 128,
      timestampQuery: false,
    },
  }, // subgroup
];

const SPECS: readonly [string, string][] = [
  ['dense', 'attention a { heads: 2; head_dim: 64; dtype: f16 }'],
  [
    'causal window | global, GQA',
    'attention a { heads: 4; kv_heads: 2; head_dim: 32; dtype: f16; causal: true; mask: window(16) | global(first: 2) }',
  ],
  [
    'dilated & blocks, value_dim, bnhd',
    'attention a { heads: 2; head_dim: 16; value_dim: 24; layout: bnhd; dtype: f16; mask: dilated(8, 2) & blocks(32) }',
  ],
  [
    'random | segment',
    'attention a { heads: 1; head_dim: 8; dtype: f16; mask: random(2, block: 16, seed: 3) | segment }',
  ],
  [
    'softcap and alibi',
    'attention a { heads: 2; head_dim: 8; dtype: f16; softcap: 20; bias: alibi }',
  ],
  [
    'head routing',
    'attention a { heads: 4; head_dim: 8; dtype: f16; causal: true; head_routing: top(2) }',
  ],
  [
    'softmax and kernelized groups',
    'attention a { head_dim: 8; dtype: f16; group s { heads: 2; mask: window(4) }; group k { heads: 2; kernel: elu1 } }',
  ],
  [
    'routed topk',
    'attention a { heads: 1; head_dim: 8; dtype: f16; mask: window(4) | topk(2, block: 16) }',
  ],
];

/** Every example with `dtype: f16` (where its dims allow it). */
function f16Examples(): [string, string][] {
  return readdirSync(examplesDir)
    .filter((f) => f.endsWith('.attn'))
    .sort()
    .map((f): [string, string] => {
      const text = readFileSync(new URL(f, examplesDir), 'utf8');
      const f16 = /\bdtype\s*:/.test(text)
        ? text.replace(/\bdtype\s*:\s*\w+/g, 'dtype: f16')
        : text.replace(/(attention\s+\w+\s*\{)/g, '$1\n  dtype: f16');
      return [`example ${f}`, f16];
    });
}

// One Dawn instance for the process, never dropped (docs/runtime.md: dropping instances
// under vitest crashed dawn.node).
const g = globalThis as Record<string, unknown>;
for (const [name, value] of Object.entries(globals as object)) if (!(name in g)) g[name] = value;
const nullGpu = create(['backend=null']);
let device: GPUDevice;

describe("native shader-f16 kernels on Dawn's null backend (WGSL and WebGPU validation)", () => {
  beforeAll(async () => {
    const adapter = await nullGpu.requestAdapter({ featureLevel: 'core' });
    if (!adapter) throw new Error("Dawn's null backend gave no adapter");
    expect(adapter.features.has('shader-f16')).toBe(true);
    device = await adapter.requestDevice({ requiredFeatures: ['shader-f16', 'subgroups'] });
  });
  afterAll(() => device?.destroy());

  for (const profile of PROFILES) {
    for (const [name, text] of [...SPECS, ...f16Examples()]) {
      it(`${name}, ${profile.name}`, async () => {
        const result = compile(text, { target: profile });
        const unsupported = result.diagnostics.filter((d) => d.code === 'E600');
        if (unsupported.length > 0) {
          // f16 with a head or value dim that is not a multiple of 4: the one E600 left.
          expect(unsupported[0]!.message).toContain('multiples of 4');
          return;
        }
        expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        for (const module of result.modules) {
          const softmax = module.plan.kernels.filter((k) => /fused softmax/.test(k.wgsl));
          for (const kernel of softmax) {
            expect(kernel.wgsl.startsWith('enable f16;\n')).toBe(true);
            expect(kernel.wgsl).toContain('array<vec4<f16>>');
            expect(kernel.wgsl).not.toContain('unpackRow');
          }
          if (softmax.length > 0) expect(module.plan.features).toContain('shader-f16');
          for (const kernel of module.plan.kernels) {
            const shader = device.createShaderModule({ code: kernel.wgsl });
            const info = await shader.getCompilationInfo();
            const errors = info.messages.filter((m) => m.type === 'error').map((m) => m.message);
            expect(errors, kernel.name).toEqual([]);
          }
          // Pipelines, bind groups and dispatches of a whole run, validated.
          device.pushErrorScope('validation');
          const loaded = load(device, module);
          const prepared = loaded.prepare(randomInputs(module, { batch: 2, seqQ: 66, seqK: 70 }));
          const out = await prepared.run();
          prepared.destroy();
          loaded.destroy();
          const error = await device.popErrorScope();
          expect(error?.message ?? null).toBeNull();
          expect(out.o.length).toBeGreaterThan(0);
        }
      });
    }
  }
});
