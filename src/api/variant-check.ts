// Kernel variants prove themselves on the device before they are trusted. The compiler picks
// a softmax variant (rowwise, tiled, subgroup) and f16 storage (native `vec4<f16>` or packed
// halves) from the device's profile; a driver whose subgroup size, f16 rounding or barriers
// differ from what the kernels expect would compute a wrong answer without any error. So the
// first time a runtime meets a variant, it compiles a tiny spec that uses it, runs it and
// compares it with the CPU reference. A variant that fails is not used again by that
// runtime: modules that use it are recompiled for the runtime's profile with that variant
// turned off (subgroup -> tiled, or rowwise on a CPU-like adapter; f16-native -> packed
// halves; rowwise -> tiled), and the fallback is reported once. `tiled` with packed halves
// is the portable variant: it needs no optional feature, so it has nothing to fall back to.
//
// This lives in the API layer because it needs both the compiler and the runtime.

import { compileAttention } from '../codegen/compile.js';
import type { KernelVariant } from '../ir/ir.js';
import { DeviceError } from '../runtime/device-errors.js';
import { loadChecked } from '../runtime/loaded-kernel.js';
import type { DeviceProfile } from '../target/profile.js';
import { compareOutput } from './compare-output.js';
import { compile, type CompiledModule } from './compile.js';
import { randomInputs } from './random-inputs.js';
import { reference } from './reference.js';

/** The softmax variants, plus native f16 storage, which is chosen independently of them. */
export type VariantName = KernelVariant | 'f16-native';

export interface VariantFallback {
  /** The variant that failed its self-check on this device. */
  readonly variant: VariantName;
  /** What is used instead. */
  readonly fallback: string;
  /** Why it failed: the error against the reference, or the device's error. */
  readonly reason: string;
  /** One sentence for a log: the adapter, the variant, the fallback and the reason. */
  readonly message: string;
}

export interface VariantVerdict {
  readonly variant: VariantName;
  readonly ok: boolean;
  /** Set when `ok` is false. */
  readonly reason?: string;
}

export interface SelfCheckOptions {
  /**
   * Replaces a variant's probe module before it runs. For tests: a corrupted probe stands
   * for a driver on which the variant computes garbage.
   */
  readonly probe?: (variant: VariantName, module: CompiledModule) => CompiledModule;
}

/** Relative error a probe may show: f32 kernels vs the float64 reference, and f16 storage. */
const PROBE_TOLERANCE = 1e-4;
const PROBE_TOLERANCE_F16 = 4e-3;

/**
 * Small enough to cost a few milliseconds, large enough to cross a 64-row tile and a partial
 * key tile, with two query heads sharing one kv head and a mask that skips tiles.
 */
const PROBE_SIZES = { batch: 1, seqQ: 67, seqK: 70, seed: 7 };

function probeSpec(f16: boolean): string {
  return [
    'attention attnc_self_check {',
    '  heads: 2',
    '  kv_heads: 1',
    '  head_dim: 16',
    '  causal: true',
    '  mask: window(40) | sink(2)',
    ...(f16 ? ['  dtype: f16'] : []),
    '}',
  ].join('\n');
}

/** The variants a compiled module's kernels use, in a fixed order. */
export function variantsOf(module: CompiledModule): VariantName[] {
  const found = new Set<VariantName>();
  for (const group of module.ir.groups) {
    const mechanism = group.mechanism;
    if (mechanism.kind === 'softmax' && mechanism.plan) found.add(mechanism.plan.variant);
  }
  if (module.plan.features?.includes('shader-f16')) found.add('f16-native');
  const order: readonly VariantName[] = ['rowwise', 'tiled', 'subgroup', 'f16-native'];
  return order.filter((v) => found.has(v));
}

/** `profile` with `variant` turned off, or null when nothing is left to fall back to. */
export function withoutVariant(profile: DeviceProfile, variant: VariantName): DeviceProfile | null {
  switch (variant) {
    case 'subgroup': {
      const {
        subgroupSize: _s,
        subgroupMinSize: _min,
        subgroupMaxSize: _max,
        ...rest
      } = profile.features;
      return { ...profile, features: { ...rest, subgroups: false } };
    }
    case 'f16-native':
      return { ...profile, features: { ...profile.features, shaderF16: false } };
    case 'rowwise':
      return { ...profile, cpuLike: false };
    case 'tiled':
      return null;
  }
}

/** What replaces a variant when modules are recompiled for `profile` without it. */
export function fallbackName(variant: VariantName, profile: DeviceProfile): string {
  switch (variant) {
    case 'subgroup':
      return profile.cpuLike ? 'rowwise' : 'tiled';
    case 'rowwise':
      return 'tiled';
    case 'f16-native':
      return 'f16 packed in u32 words';
    case 'tiled':
      return 'nothing (tiled is the portable variant)';
  }
}

/** The profile a probe of `variant` is compiled for: the device's, steered to that variant. */
function probeProfile(device: DeviceProfile, variant: VariantName): DeviceProfile {
  switch (variant) {
    case 'rowwise':
      return { ...device, cpuLike: true };
    case 'tiled':
      return { ...withoutVariant(device, 'subgroup')!, cpuLike: false };
    case 'subgroup':
      return { ...device, cpuLike: false };
    case 'f16-native':
      // Native f16 on the device's plainest softmax variant, so a failure is f16's own.
      return withoutVariant(device, 'subgroup')!;
  }
}

/**
 * Runs `variant`'s probe on `device` and compares it with the CPU reference. Never throws for
 * a wrong result or a device error: they are the verdict.
 */
export async function checkVariant(
  device: GPUDevice,
  profile: DeviceProfile,
  variant: VariantName,
  options: SelfCheckOptions = {},
): Promise<VariantVerdict> {
  const f16 = variant === 'f16-native';
  const compiled = compile(probeSpec(f16), { target: probeProfile(profile, variant) });
  const built = compiled.modules[0];
  if (!built || !variantsOf(built).includes(variant)) {
    throw new Error(
      `internal error: the self-check probe for variant '${variant}' does not use it on profile '${profile.name}'`,
    );
  }
  const probe = options.probe ? options.probe(variant, built) : built;
  const reason = await checkAgainstReference(device, probe, PROBE_SIZES, f16);
  return reason === null ? { variant, ok: true } : { variant, ok: false, reason };
}

/**
 * Runs `module` on `device` at `sizes` on random inputs and compares it with the CPU
 * reference: null when it agrees within the self-check's tolerance (f16 storage gets a looser
 * one), else why not (the relative error, or the error the device raised for the kernel).
 * A lost device, or an error of someone else's work, is thrown: it says nothing of the module.
 */
export async function checkAgainstReference(
  device: GPUDevice,
  module: CompiledModule,
  sizes: { batch: number; seqQ: number; seqK: number; seed: number },
  f16 = module.attention.dtype === 'f16',
): Promise<string | null> {
  const inputs = randomInputs(module, sizes);
  let output: Float32Array;
  try {
    const loaded = await loadChecked(device, module);
    try {
      output = (await loaded.run(inputs)).o;
    } finally {
      loaded.destroy();
    }
  } catch (error) {
    if (error instanceof DeviceError && error.origin === 'device') throw error;
    return (error as Error).message;
  }
  const { relativeError } = compareOutput(output, reference(module, inputs).o);
  const tolerance = f16 ? PROBE_TOLERANCE_F16 : PROBE_TOLERANCE;
  if (relativeError <= tolerance) return null;
  return `its output differs from the CPU reference by ${relativeError.toExponential(2)} (relative; tolerance ${tolerance})`;
}

/**
 * One runtime's memory of its variants: each is checked at most once (concurrent loads share
 * the check), and a failure becomes a fallback reported once.
 */
export class VariantTrust {
  private readonly verdicts = new Map<VariantName, Promise<VariantVerdict>>();
  private readonly reported: VariantFallback[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly profile: DeviceProfile,
    private readonly options: SelfCheckOptions = {},
  ) {}

  /** Every fallback so far, in the order they were found. */
  get fallbacks(): readonly VariantFallback[] {
    return this.reported;
  }

  private verdict(variant: VariantName): Promise<VariantVerdict> {
    let verdict = this.verdicts.get(variant);
    if (!verdict) {
      verdict = checkVariant(this.device, this.profile, variant, this.options).then((v) => {
        if (!v.ok) {
          const fallback = fallbackName(variant, this.profile);
          this.reported.push({
            variant,
            fallback,
            reason: v.reason!,
            message:
              `kernel variant '${variant}' failed its self-check on ${this.profile.name}, so ` +
              `${fallback} is used instead: ${v.reason}`,
          });
        }
        return v;
      });
      this.verdicts.set(variant, verdict);
      // A check that could not run (the device failed) is not a verdict: try again next time.
      verdict.catch(() => this.verdicts.delete(variant));
    }
    return verdict;
  }

  /**
   * `module` if every variant it uses passed its self-check; else the module recompiled for
   * the runtime's profile with the failed variants off (checked in turn), with the fallbacks
   * that applied. Throws when a variant with no fallback fails.
   */
  async trusted(
    module: CompiledModule,
  ): Promise<{ module: CompiledModule; fallbacks: VariantFallback[] }> {
    let current = module;
    let profile = this.profile;
    const applied: VariantFallback[] = [];
    // Each round turns at least one more variant off, and there are four.
    for (let round = 0; round < 4; round++) {
      const verdicts = await Promise.all(variantsOf(current).map((v) => this.verdict(v)));
      const failed = verdicts.filter((v) => !v.ok);
      if (failed.length === 0) return { module: current, fallbacks: applied };
      for (const verdict of failed) {
        const next = withoutVariant(profile, verdict.variant);
        if (next === null) {
          throw new Error(
            `'${module.name}': no kernel variant can be trusted on ${this.profile.name}: ` +
              `the portable variant '${verdict.variant}' failed its self-check: ${verdict.reason}`,
          );
        }
        profile = next;
        const fallback = this.reported.find((f) => f.variant === verdict.variant);
        if (fallback) applied.push(fallback);
      }
      current = { ...compileAttention(module.attention, profile), attention: module.attention };
    }
    throw new Error(`internal error: '${module.name}' kept using variants that failed`);
  }
}
