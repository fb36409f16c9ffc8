// Every device error becomes an exception that names its cause (issue 8: "never a silent
// wrong answer"): a kernel the device rejects, a kernel over a device limit, a run the
// device rejects, an error nobody captured, a lost device, and anything destroyed. Each
// case would otherwise have produced zeros with no error.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type CompiledModule } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { createRuntime } from '../../src/api/runtime.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { DeviceError, withErrorScopes } from '../../src/runtime/device-errors.js';
import { load, loadChecked } from '../../src/runtime/loaded-kernel.js';
import type { DeviceProfile } from '../../src/target/profile.js';
import { adapterAvailability } from './gpu-availability.js';

const llvmpipe = await adapterAvailability('llvmpipe');

const SPEC = 'attention probe { heads: 2; kv_heads: 1; head_dim: 8; causal: true }';
// 17 query rows: the fused softmax kernel (kernels[0]) runs; up to 16 rows run the split-K
// decode kernels instead.
const SIZES = { batch: 1, seqQ: 17, seqK: 17 };

function compiled(profile: DeviceProfile | string, text = SPEC): CompiledModule {
  const result = compile(text, { target: profile });
  expect(result.diagnostics).toEqual([]);
  return result.modules[0]!;
}

/** `module` with its first kernel's WGSL passed through `edit`. */
function withEditedKernel(module: CompiledModule, edit: (wgsl: string) => string): CompiledModule {
  const [first, ...rest] = module.plan.kernels;
  return {
    ...module,
    plan: { ...module.plan, kernels: [{ ...first!, wgsl: edit(first!.wgsl) }, ...rest] },
  };
}

describe.runIf(llvmpipe.run)('device errors on llvmpipe', () => {
  let acquired: AcquiredDevice;
  beforeAll(async () => {
    acquired = await acquireDevice({ adapter: 'llvmpipe' });
  });
  afterAll(() => acquired?.destroy());

  it('a kernel the device rejects: load names the attention, kernel, WGSL line and message', async () => {
    const good = compiled(acquired.profile);
    const kernelName = good.plan.kernels[0]!.name;
    // Line 3 of the kernel gets a call to a function that does not exist.
    const broken = withEditedKernel(good, (wgsl) => {
      const lines = wgsl.split('\n');
      lines.splice(2, 0, 'const broken_here = no_such_function(1);');
      return lines.join('\n');
    });
    const failure = loadChecked(acquired.device, broken);
    await expect(failure).rejects.toBeInstanceOf(DeviceError);
    await expect(failure).rejects.toThrow(
      new RegExp(
        `attention 'probe', kernel '${kernelName.replace('.', '\\.')}': the device rejected the kernel's WGSL:\\n` +
          `  WGSL line 3:\\d+: .*no_such_function.*\\n` +
          `    3 \\| const broken_here = no_such_function\\(1\\);`,
      ),
    );
    // The synchronous load gives a kernel whose run rejects the same way, never zeros.
    const loaded = load(acquired.device, broken);
    await expect(loaded.run(randomInputs(broken, SIZES))).rejects.toThrow(/no_such_function/);
    // ... and so do prepare and encode once the verdict is in.
    expect(() => loaded.prepare(randomInputs(broken, SIZES))).toThrow(/no_such_function/);
  });

  it('a kernel over the device limit on workgroup storage is rejected at load', async () => {
    // The tiled kernel sized for 64 KiB of workgroup storage; llvmpipe offers 32 KiB.
    const roomy: DeviceProfile = {
      ...acquired.profile,
      name: 'roomy',
      cpuLike: false,
      limits: { ...acquired.profile.limits, maxComputeWorkgroupStorageSize: 65536 },
    };
    const module = compiled(roomy, 'attention wide { heads: 1; head_dim: 256; causal: true }');
    expect(module.ir.groups[0]!.mechanism).toMatchObject({ plan: { variant: 'tiled' } });
    await expect(loadChecked(acquired.device, module)).rejects.toThrow(
      /attention 'wide', kernel '[^']+': the device rejected the kernel \(validation error: .*workgroup storage.*32768/s,
    );
  });

  it('a kernel over the device limit on workgroup size is rejected at load', async () => {
    const module = withEditedKernel(compiled(acquired.profile), (wgsl) =>
      wgsl.replace(/@workgroup_size\([^)]*\)/, '@workgroup_size(4096)'),
    );
    await expect(loadChecked(acquired.device, module)).rejects.toThrow(
      /the device rejected the kernel \(validation error: .*workgroup_size\(4096, 1, 1\) that exceeds the maximum allowed/s,
    );
  });

  it('a run the device rejects (a buffer bound as input and output at once) rejects, never zeros', async () => {
    const good = compiled(acquired.profile);
    const kernel = good.plan.kernels[0]!;
    const output = kernel.bindings.find((b) => b.type === 'storage')!.buffer;
    const aliased: CompiledModule = {
      ...good,
      plan: {
        ...good.plan,
        kernels: [
          {
            ...kernel,
            bindings: kernel.bindings.map((b) =>
              b.type === 'read-only-storage' ? { ...b, buffer: output } : b,
            ),
          },
          ...good.plan.kernels.slice(1),
        ],
      },
    };
    const loaded = await loadChecked(acquired.device, aliased);
    const prepared = loaded.prepare(randomInputs(aliased, SIZES));
    await expect(prepared.run()).rejects.toThrow(
      /attention 'probe': (preparing a run|running) at batch=1, seqQ=17, seqK=17: validation error: /,
    );
    prepared.destroy();
    loaded.destroy();
  });

  it('a buffer the device refuses rejects the run, naming the buffer size and the limit', async () => {
    // A device that claims a larger maxBufferSize than it has: the runtime's own limit check
    // passes, so the refusal has to come back from the device through the error scopes.
    const real = acquired.device;
    const limits = new Proxy(real.limits, {
      get: (target, key) =>
        key === 'maxBufferSize' || key === 'maxStorageBufferBindingSize'
          ? 2 ** 40
          : Reflect.get(target, key),
    });
    const liar = new Proxy(real, {
      get: (target, key) => {
        if (key === 'limits') return limits;
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function'
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      },
    });
    const module = compiled(acquired.profile);
    // One more buffer in the plan, 256 GiB: past the real 2 GiB, within the claimed 1 TiB.
    const huge: CompiledModule = {
      ...module,
      plan: {
        ...module.plan,
        buffers: [...module.plan.buffers, { name: 'scratch', kind: 'storage', size: 2 ** 38 }],
      },
    };
    const loaded = await loadChecked(liar, huge);
    const prepared = loaded.prepare(randomInputs(huge, SIZES));
    await expect(prepared.run()).rejects.toThrow(
      /^attention 'probe': preparing a run at batch=1, seqQ=17, seqK=17: validation error: Buffer size \(274877906944\) exceeds the max buffer size limit \(2147483648\)/,
    );
    prepared.destroy();
  });

  it('an error nobody captured is reported by the next call on the device', async () => {
    const module = compiled(acquired.profile);
    const loaded = await loadChecked(acquired.device, module);
    // Outside any error scope: the device raises it as an uncaptured error.
    acquired.device.createBuffer({ size: 2 ** 40, usage: GPUBufferUsage.STORAGE });
    await new Promise((r) => setTimeout(r, 50));
    await expect(loaded.run(randomInputs(module, SIZES))).rejects.toThrow(
      /the device reported an error outside any runtime call .*:\n {2}validation error: Buffer size \(1099511627776\) exceeds the max buffer size limit/,
    );
    // Reported once: the next run works.
    const { o } = await loaded.run(randomInputs(module, SIZES));
    expect(o.some((x) => x !== 0)).toBe(true);
    loaded.destroy();
  });

  it('error scopes give back the body and the first error', async () => {
    const scoped = withErrorScopes(acquired.device, () => {
      acquired.device.createBuffer({ size: 2 ** 40, usage: GPUBufferUsage.STORAGE });
      return 42;
    });
    expect(scoped.value).toBe(42);
    expect(await scoped.error).toMatch(/^validation error: Buffer size \(1099511627776\)/);
    const clean = withErrorScopes(acquired.device, () => 1);
    expect(await clean.error).toBeNull();
    // A throwing body still pops its scopes (a later scope would otherwise catch old errors).
    expect(() =>
      withErrorScopes(acquired.device, () => {
        throw new Error('body failed');
      }),
    ).toThrow('body failed');
    expect(await withErrorScopes(acquired.device, () => 0).error).toBeNull();
  });

  it('destroyed kernels and prepared runs say what was destroyed', async () => {
    const module = compiled(acquired.profile);
    const loaded = await loadChecked(acquired.device, module);
    const prepared = loaded.prepare(randomInputs(module, SIZES));
    prepared.destroy();
    await expect(prepared.run()).rejects.toThrow(
      "this prepared run of attention 'probe' (batch=1, seqQ=17, seqK=17) was destroyed (its destroy() was called); prepare it again",
    );
    loaded.destroy();
    await expect(loaded.run(randomInputs(module, SIZES))).rejects.toThrow(
      "attention 'probe' was destroyed (its destroy() was called); load the module again",
    );
  });
});

describe.runIf(llvmpipe.run)('runtime lifetime on llvmpipe', () => {
  it('after runtime.destroy() every call says the runtime was destroyed', async () => {
    const runtime = await createRuntime({ adapter: 'llvmpipe', selfCheck: false });
    const module = compiled(runtime.profile);
    const kernel = await runtime.load(module);
    const prepared = kernel.prepare(randomInputs(module, SIZES));
    runtime.destroy();
    const destroyed = /its runtime was destroyed \(runtime\.destroy\(\)\); create a new one/;
    await expect(kernel.run(randomInputs(module, SIZES))).rejects.toThrow(destroyed);
    await expect(prepared.run()).rejects.toThrow(destroyed);
    await expect(runtime.load(module)).rejects.toThrow(/load 'probe': its runtime was destroyed/);
  });

  it('a lost device makes every later call fail with the loss', async () => {
    const acquired = await acquireDevice({ adapter: 'llvmpipe' });
    const module = compiled(acquired.profile);
    const loaded = await loadChecked(acquired.device, module);
    acquired.device.destroy(); // what a driver reset looks like to the runtime
    await acquired.device.lost;
    await expect(loaded.run(randomInputs(module, SIZES))).rejects.toThrow(
      "attention 'probe': the device cannot be used: it was destroyed (device.destroy())",
    );
    expect(() => load(acquired.device, module)).toThrow(/the device cannot be used/);
  });
});
