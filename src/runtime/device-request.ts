// What acquireDevice asks an adapter for: the adapter's own maxima for every limit the
// kernels depend on (a device gets only default limits unless it asks), and the optional
// features the kernels can use when the adapter has them. Caller overrides win, checked
// against the adapter first so the error names the limit instead of Dawn's generic text.

import {
  KERNEL_FEATURE_NAMES,
  KERNEL_LIMIT_NAMES,
  type KernelFeatureName,
} from '../target/profile.js';

export type RequiredLimits = Readonly<Record<string, number>>;

export interface AdapterCapabilities {
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySet<string>;
}

export interface DeviceRequest {
  readonly requiredLimits: Record<string, number>;
  readonly requiredFeatures: GPUFeatureName[];
}

export function planDeviceRequest(
  adapter: AdapterCapabilities,
  overrides: RequiredLimits = {},
  wantedFeatures: readonly KernelFeatureName[] = KERNEL_FEATURE_NAMES,
): DeviceRequest {
  const supported = adapter.limits as unknown as Readonly<Record<string, number | undefined>>;
  const requiredLimits: Record<string, number> = {};
  for (const name of KERNEL_LIMIT_NAMES) {
    const value = supported[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const tooHigh: string[] = [];
  for (const [name, value] of Object.entries(overrides)) {
    const offered = supported[name];
    if (offered === undefined) {
      tooHigh.push(`${name} (the adapter does not know this limit)`);
    } else if (name.startsWith('max') && value > offered) {
      tooHigh.push(`${name}: asked ${value}, adapter offers ${offered}`);
    }
    requiredLimits[name] = value;
  }
  if (tooHigh.length > 0) {
    throw new Error(`requiredLimits exceed what the adapter offers: ${tooHigh.join('; ')}`);
  }
  const requiredFeatures = wantedFeatures.filter((f) => adapter.features.has(f));
  return { requiredLimits, requiredFeatures };
}
