// `createRuntime(options)`: a WebGPU device (found in Node, or a browser's passed in) plus the
// plan executor. `load(module)` builds a module's pipelines once; the loaded kernel's `run`
// validates, uploads, dispatches and reads back. `destroy()` releases the device so the
// process can exit.

import { load, type LoadedAttention } from '../runtime/loaded-kernel.js';
import { acquireDevice, type AcquireOptions, type DeviceKind } from '../runtime/device.js';
import type { DeviceProfile } from '../target/profile.js';
import type { CompiledModule } from './compile.js';

export type RuntimeOptions = AcquireOptions;

export interface Runtime {
  readonly device: GPUDevice;
  readonly adapterName: string;
  readonly kind: DeviceKind;
  /** Pass as `compile(text, { target: runtime.profile })` for kernels tuned to this device. */
  readonly profile: DeviceProfile;
  load(module: CompiledModule): LoadedAttention;
  destroy(): void;
}

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const acquired = await acquireDevice(options);
  const loaded = new Set<LoadedAttention>();
  let destroyed = false;
  return {
    device: acquired.device,
    adapterName: acquired.adapterName,
    kind: acquired.kind,
    profile: acquired.profile,
    load(module) {
      if (destroyed) throw new Error('this runtime was destroyed; create a new one');
      const kernel = load(acquired.device, module);
      loaded.add(kernel);
      return kernel;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const kernel of loaded) kernel.destroy();
      acquired.destroy();
    },
  };
}
