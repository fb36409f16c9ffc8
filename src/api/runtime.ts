// `createRuntime(options)`: a WebGPU device (found in Node, or a browser's passed in) plus the
// plan executor. `await load(module)` builds a module's pipelines once, waits until the device
// has accepted every kernel, and first proves each kernel variant the module uses on this
// device (src/api/variant-check.ts); the loaded kernel's `run` validates, uploads, dispatches
// and reads back. `destroy()` releases the device so the process can exit; afterwards every
// call says the runtime was destroyed.

import { loadChecked, type LoadedAttention, type LoadOwner } from '../runtime/loaded-kernel.js';
import { acquireDevice, type AcquireOptions, type DeviceKind } from '../runtime/device.js';
import { assertDeviceUsable, watchDevice } from '../runtime/device-errors.js';
import type { DeviceProfile } from '../target/profile.js';
import type { CompiledModule } from './compile.js';
import { VariantTrust, type SelfCheckOptions, type VariantFallback } from './variant-check.js';

export interface RuntimeOptions extends AcquireOptions {
  /**
   * Whether each kernel variant runs a small case against the CPU reference the first time
   * this runtime uses it (default true). Options are for tests (a corrupted probe).
   */
  readonly selfCheck?: boolean | SelfCheckOptions;
}

/** A loaded module, with the variant fallbacks that were applied to it (usually none). */
export interface LoadedModule extends LoadedAttention {
  readonly fallbacks: readonly VariantFallback[];
}

export interface Runtime {
  readonly device: GPUDevice;
  readonly adapterName: string;
  readonly kind: DeviceKind;
  /** Pass as `compile(text, { target: runtime.profile })` for kernels tuned to this device. */
  readonly profile: DeviceProfile;
  /** Every kernel variant that failed its self-check so far, and what replaced it. */
  readonly fallbacks: readonly VariantFallback[];
  /**
   * Self-checks the module's variants (once per runtime), recompiles it without any that
   * failed, builds its pipelines and waits until the device accepted them. Rejects with the
   * device's error (attention, kernel, WGSL line, message).
   */
  load(module: CompiledModule): Promise<LoadedModule>;
  destroy(): void;
}

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const acquired = await acquireDevice(options);
  const device = acquired.device;
  watchDevice(device);
  const loaded = new Set<LoadedAttention>();
  const selfCheck = options.selfCheck ?? true;
  const trust =
    selfCheck === false
      ? null
      : new VariantTrust(device, acquired.profile, selfCheck === true ? {} : selfCheck);
  let destroyed = false;
  const owner: LoadOwner = {
    assertUsable(what) {
      if (destroyed) {
        throw new Error(
          `${what}: its runtime was destroyed (runtime.destroy()); create a new one with createRuntime()`,
        );
      }
    },
  };
  const assertUsable = (what: string) => {
    owner.assertUsable(what);
    assertDeviceUsable(device, what);
  };
  return {
    device,
    adapterName: acquired.adapterName,
    kind: acquired.kind,
    profile: acquired.profile,
    get fallbacks() {
      return trust?.fallbacks ?? [];
    },
    async load(module) {
      const what = `load '${module.name}'`;
      assertUsable(what);
      const { module: trusted, fallbacks } = trust
        ? await trust.trusted(module)
        : { module, fallbacks: [] };
      assertUsable(what);
      const kernel = await loadChecked(device, trusted, owner);
      loaded.add(kernel);
      return { ...kernel, fallbacks };
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const kernel of loaded) kernel.destroy();
      acquired.destroy();
    },
  };
}
