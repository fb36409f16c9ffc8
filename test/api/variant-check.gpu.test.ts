// Each kernel variant proves itself on the device before the runtime trusts it (issue 8):
// a variant whose probe disagrees with the CPU reference, or that the device rejects, is
// replaced by its fallback, reported once, and never checked twice. A corrupted probe stands
// for a driver the kernels did not expect.

import { describe, expect, it } from 'vitest';
import { compareOutput } from '../../src/api/compare-output.js';
import { compile, type CompiledModule } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import { createRuntime } from '../../src/api/runtime.js';
import { checkVariant, variantsOf, type VariantName } from '../../src/api/variant-check.js';
import type { DeviceProfile } from '../../src/target/profile.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';

const llvmpipe = await adapterAvailability('llvmpipe');
const swiftshader = await adapterAvailability('swiftshader');

const SPEC = 'attention user { heads: 4; kv_heads: 2; head_dim: 8; mask: window(5) | global(0) }';

function compiled(profile: DeviceProfile): CompiledModule {
  const result = compile(SPEC, { target: profile });
  expect(result.diagnostics).toEqual([]);
  return result.modules[0]!;
}

/** The probe with its dispatches removed: its output stays all zeros. */
function writesZeros(module: CompiledModule): CompiledModule {
  return {
    ...module,
    plan: { ...module.plan, steps: module.plan.steps.filter((s) => s.kind !== 'dispatch') },
  };
}

/** A probe hook that corrupts the listed variants and counts every probe. */
function corrupting(...bad: VariantName[]) {
  const probed: VariantName[] = [];
  return {
    probed,
    probe(variant: VariantName, module: CompiledModule): CompiledModule {
      probed.push(variant);
      return bad.includes(variant) ? writesZeros(module) : module;
    },
  };
}

async function expectMatchesReference(
  kernel: { run: (i: ReturnType<typeof randomInputs>) => Promise<{ o: Float32Array }> },
  module: CompiledModule,
) {
  const inputs = randomInputs(module, { batch: 2, seqQ: 70, seqK: 75, seed: 3 });
  const { o } = await kernel.run(inputs);
  expect(compareOutput(o, reference(module, inputs).o).relativeError).toBeLessThan(1e-4);
}

describe.runIf(llvmpipe.run)('kernel variant self-check on llvmpipe', () => {
  it('trusts a variant that passes, and checks it once per runtime', async () => {
    const hook = corrupting();
    const runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: hook });
    try {
      const module = compiled(runtime.profile);
      expect(variantsOf(module)).toEqual(['rowwise']);
      const first = await runtime.load(module);
      const second = await runtime.load(module);
      expect(hook.probed).toEqual(['rowwise']);
      expect(first.fallbacks).toEqual([]);
      expect(runtime.fallbacks).toEqual([]);
      expect(second.compiled).toBe(module);
      await expectMatchesReference(second, module);
    } finally {
      runtime.destroy();
    }
  });

  it('falls back from a failing variant to tiled, says so once, and computes right', async () => {
    const hook = corrupting('rowwise');
    const runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: hook });
    try {
      const module = compiled(runtime.profile);
      const kernel = await runtime.load(module);
      expect(kernel.fallbacks).toHaveLength(1);
      expect(kernel.fallbacks[0]).toMatchObject({ variant: 'rowwise', fallback: 'tiled' });
      expect(kernel.fallbacks[0]!.message).toMatch(
        /^kernel variant 'rowwise' failed its self-check on llvmpipe.*, so tiled is used instead: its output differs from the CPU reference by 1\.00e\+0 \(relative; tolerance 0\.0001\)$/,
      );
      expect(variantsOf(kernel.compiled as CompiledModule)).toEqual(['tiled']);
      await expectMatchesReference(kernel, module);
      // A second module: no new probe, no new report, same fallback applied.
      const again = await runtime.load(module);
      expect(hook.probed).toEqual(['rowwise', 'tiled']);
      expect(runtime.fallbacks).toHaveLength(1);
      expect(again.fallbacks).toEqual(kernel.fallbacks);
    } finally {
      runtime.destroy();
    }
  });

  it('a variant the device rejects fails its self-check with the device message', async () => {
    const runtime = await createRuntime({
      adapter: 'llvmpipe',
      selfCheck: {
        probe: (variant, module) =>
          variant !== 'rowwise'
            ? module
            : {
                ...module,
                plan: {
                  ...module.plan,
                  kernels: module.plan.kernels.map((k) => ({
                    ...k,
                    wgsl: k.wgsl.replace('fn main', 'fn main(broken'),
                  })),
                },
              },
      },
    });
    try {
      const kernel = await runtime.load(compiled(runtime.profile));
      expect(kernel.fallbacks[0]!.reason).toMatch(
        /^attention 'attnc_self_check', kernel '[^']+': the device rejected the kernel's WGSL:\n {2}WGSL line \d+:\d+: /,
      );
    } finally {
      runtime.destroy();
    }
  });

  it('when the portable variant fails too, load says no variant can be trusted', async () => {
    const runtime = await createRuntime({
      adapter: 'llvmpipe',
      selfCheck: corrupting('rowwise', 'tiled'),
    });
    try {
      await expect(runtime.load(compiled(runtime.profile))).rejects.toThrow(
        /^'user': no kernel variant can be trusted on llvmpipe.*: the portable variant 'tiled' failed its self-check: its output differs from the CPU reference by 1\.00e\+0/,
      );
      expect(runtime.fallbacks.map((f) => f.variant)).toEqual(['rowwise', 'tiled']);
    } finally {
      runtime.destroy();
    }
  });

  it('a lost device is not blamed on the variant', async () => {
    const runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
    runtime.device.destroy();
    await runtime.device.lost;
    await expect(checkVariant(runtime.device, runtime.profile, 'rowwise')).rejects.toThrow(
      "attention 'attnc_self_check': the device cannot be used: it was destroyed (device.destroy())",
    );
    runtime.destroy();
  });

  it('selfCheck: false loads modules as they are', async () => {
    const runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
    try {
      const module = compiled(runtime.profile);
      const kernel = await runtime.load(module);
      expect(kernel.compiled).toBe(module);
      expect(kernel.fallbacks).toEqual([]);
    } finally {
      runtime.destroy();
    }
  });
});

describe.runIf(swiftshader.run)('kernel variant self-check on SwiftShader (subgroups)', () => {
  it('the subgroup variant proves itself on a real subgroup device, and falls back when not', async () => {
    const hook = corrupting();
    const runtime = await createRuntime({ adapter: 'swiftshader', selfCheck: hook });
    try {
      // SwiftShader is CPU-like (rowwise); as a GPU-shaped profile it gets the subgroup kernel.
      const gpuShaped = { ...runtime.profile, cpuLike: false };
      const module = compiled(gpuShaped);
      expect(variantsOf(module)).toEqual(['subgroup']);
      const kernel = await runtime.load(module);
      expect(hook.probed).toEqual(['subgroup']);
      expect(kernel.fallbacks).toEqual([]);
      await expectMatchesReference(kernel, module);
    } finally {
      runtime.destroy();
    }
    const failing = await createRuntime({
      adapter: 'swiftshader',
      selfCheck: corrupting('subgroup'),
    });
    try {
      const module = compiled({ ...failing.profile, cpuLike: false });
      const kernel = await failing.load(module);
      expect(kernel.fallbacks.map((f) => [f.variant, f.fallback])).toEqual([
        ['subgroup', 'rowwise'],
      ]);
      expect(variantsOf(kernel.compiled as CompiledModule)).toEqual(['rowwise']);
      await expectMatchesReference(kernel, module);
    } finally {
      failing.destroy();
    }
  });
});
