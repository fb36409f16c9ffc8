// The runtime without the compiler: a WebGPU device (found in Node, or a browser's passed in)
// plus the plan executor. `await load(module)` builds a module's pipelines once and waits until
// the device has accepted every kernel; the loaded kernel's `run` validates, uploads,
// dispatches and reads back. `destroy()` releases the device so the process can exit;
// afterwards every call says the runtime was destroyed. The variant self-check compiles probe
// kernels, so it comes in as a `VariantGate` from src/api/runtime.ts (the full API) and this
// module, which `attnc/runtime` exports, stays free of the compiler.

import { loadChecked, type LoadedAttention, type LoadOwner } from '../runtime/loaded-kernel.js';
import { acquireDevice, type AcquireOptions, type DeviceKind } from '../runtime/device.js';
import { assertDeviceUsable, watchDevice } from '../runtime/device-errors.js';
import type { DeviceProfile } from '../target/profile.js';
import type { CompiledModule } from './compile.js';
import type { GroupTuning, TuneOptions, TuneResult } from './tune.js';
import type { SelfCheckOptions, VariantFallback } from './variant-check.js';

export interface RuntimeOptions extends AcquireOptions {
  /**
   * Whether each kernel variant runs a small case against the CPU reference the first time
   * this runtime uses it (default true). Options are for tests (a corrupted probe).
   */
  readonly selfCheck?: boolean | SelfCheckOptions;
  /**
   * Whether `load` picks each softmax group's schedule by measuring candidates on the device
   * (src/api/tune.ts; default false). Each choice is remembered for the runtime's life per
   * kernel and size class, and in a file too when `cacheFile` says so. Needs the compiler.
   */
  readonly tune?: boolean | TuneOptions;
}

export interface LoadOptions {
  /** Overrides the runtime's `tune` for this module. */
  readonly tune?: boolean | TuneOptions;
}

/** A loaded module, with the variant fallbacks that were applied to it (usually none). */
export interface LoadedModule extends LoadedAttention<CompiledModule> {
  readonly fallbacks: readonly VariantFallback[];
  /** Per softmax group, how its schedule was chosen when the load tuned; else empty. */
  readonly tuning: readonly GroupTuning[];
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
   * device's error (attention, kernel, WGSL line, message). With `tune` (here or in the
   * runtime's options) the module is first recompiled with the schedules measured fastest.
   */
  load(module: CompiledModule, options?: LoadOptions): Promise<LoadedModule>;
  destroy(): void;
}

const TUNE_NEEDS_COMPILER =
  "tuning compiles candidate kernels, which attnc/runtime cannot: use createRuntime from 'attnc'";

/** What the runtime asks before loading a module: which variants it may trust (variant-check.ts). */
export interface VariantGate {
  readonly fallbacks: readonly VariantFallback[];
  trusted(
    module: CompiledModule,
  ): Promise<{ module: CompiledModule; fallbacks: readonly VariantFallback[] }>;
}

export type VariantGateFactory = (
  device: GPUDevice,
  profile: DeviceProfile,
  options: SelfCheckOptions,
) => VariantGate;

/** Tunes modules for one device (tune.ts); made once per runtime, on first use. */
export interface ModuleTuner {
  tune(module: CompiledModule, options: TuneOptions): Promise<TuneResult>;
}

export type ModuleTunerFactory = (device: GPUDevice, profile: DeviceProfile) => ModuleTuner;

/**
 * A runtime that loads modules as they are, with no variant self-check: what `attnc/runtime`
 * exports (`selfCheck` must be false or absent there).
 */
export function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  return createRuntimeCore(options, null);
}

/**
 * The runtime, with `gate` deciding which kernel variants to trust (null: all of them), and
 * `tuner` choosing schedules when asked (null: tuning is refused).
 */
export async function createRuntimeCore(
  options: RuntimeOptions = {},
  gate: VariantGateFactory | null = null,
  tunerFactory: ModuleTunerFactory | null = null,
): Promise<Runtime> {
  const selfCheck = options.selfCheck ?? gate !== null;
  if (selfCheck !== false && gate === null) {
    throw new Error(
      "the variant self-check compiles probe kernels, which attnc/runtime cannot: use createRuntime from 'attnc', or pass selfCheck: false",
    );
  }
  if (options.tune && tunerFactory === null) throw new Error(TUNE_NEEDS_COMPILER);
  const acquired = await acquireDevice(options);
  const device = acquired.device;
  watchDevice(device);
  const loaded = new Set<LoadedAttention>();
  const trust =
    selfCheck === false || gate === null
      ? null
      : gate(device, acquired.profile, selfCheck === true ? {} : selfCheck);
  let tuner: ModuleTuner | null = null;
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
    async load(module, loadOptions = {}) {
      const what = `load '${module.name}'`;
      assertUsable(what);
      const tune = loadOptions.tune ?? options.tune ?? false;
      let tuning: readonly GroupTuning[] = [];
      if (tune !== false) {
        if (tunerFactory === null) throw new Error(TUNE_NEEDS_COMPILER);
        tuner ??= tunerFactory(device, acquired.profile);
        const tuned = await tuner.tune(module, tune === true ? {} : tune);
        module = tuned.module;
        tuning = tuned.groups;
        assertUsable(what);
      }
      const { module: trusted, fallbacks } = trust
        ? await trust.trusted(module)
        : { module, fallbacks: [] };
      assertUsable(what);
      const kernel = await loadChecked(device, trusted, owner);
      loaded.add(kernel);
      return { ...kernel, fallbacks, tuning };
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const kernel of loaded) kernel.destroy();
      acquired.destroy();
    },
  };
}
