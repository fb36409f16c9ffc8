// DeviceProfile: what a kernel generator may assume about the WebGPU device it targets.
// Layer-neutral on purpose: codegen reads a profile to choose tile sizes and features
// (`attnc compile --target portable`), and the runtime builds one from a live device.
// It holds only plain numbers and booleans, never GPU objects, so codegen stays free of
// any device and two equal profiles give byte-identical kernels.

/** The device limits the kernels depend on, and so the ones the runtime requests. */
export const KERNEL_LIMIT_NAMES = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupSizeX',
] as const;

export type KernelLimitName = (typeof KERNEL_LIMIT_NAMES)[number];

export type KernelLimits = { readonly [K in KernelLimitName]: number };

/** The optional WebGPU features a kernel may use, by their WebGPU names. */
export const KERNEL_FEATURE_NAMES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;

export type KernelFeatureName = (typeof KERNEL_FEATURE_NAMES)[number];

export interface ProfileFeatures {
  readonly shaderF16: boolean;
  readonly subgroups: boolean;
  /** Set only when `subgroups` is on and the adapter reports a single subgroup size. */
  readonly subgroupSize?: number;
  /** The adapter's subgroup size range, when `subgroups` is on. */
  readonly subgroupMinSize?: number;
  readonly subgroupMaxSize?: number;
  readonly timestampQuery: boolean;
}

export interface DeviceProfile {
  readonly name: string;
  /** 'compatibility' is WebGPU's compatibility feature level (OpenGL-class devices). */
  readonly mode: 'core' | 'compatibility';
  readonly limits: KernelLimits;
  readonly features: ProfileFeatures;
  /**
   * True for CPU-emulated adapters (llvmpipe, SwiftShader). On them barriers switch
   * coroutines and private arrays spill, so the plain one-query-per-invocation kernel
   * beats the tiled GPU-shaped one (docs/runtime.md has the numbers).
   */
  readonly cpuLike: boolean;
}

const MiB = 1024 * 1024;

const NO_FEATURES: ProfileFeatures = { shaderF16: false, subgroups: false, timestampQuery: false };

/**
 * WebGPU compatibility-mode default limits, the least any WebGPU device offers. Values
 * from the WebGPU spec's limits table (compatibility column), as Dawn's Limits.cpp has them.
 */
export const PORTABLE_PROFILE: DeviceProfile = {
  name: 'portable',
  mode: 'compatibility',
  limits: {
    maxStorageBufferBindingSize: 128 * MiB,
    maxBufferSize: 256 * MiB,
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeInvocationsPerWorkgroup: 128,
    maxStorageBuffersPerShaderStage: 4,
    maxComputeWorkgroupsPerDimension: 65535,
    maxComputeWorkgroupSizeX: 128,
  },
  features: NO_FEATURES,
  cpuLike: false,
};

/** WebGPU core default limits: what any core-feature-level device offers unasked. */
export const CORE_PROFILE: DeviceProfile = {
  name: 'core',
  mode: 'core',
  limits: {
    maxStorageBufferBindingSize: 128 * MiB,
    maxBufferSize: 256 * MiB,
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeInvocationsPerWorkgroup: 256,
    maxStorageBuffersPerShaderStage: 8,
    maxComputeWorkgroupsPerDimension: 65535,
    maxComputeWorkgroupSizeX: 256,
  },
  features: NO_FEATURES,
  cpuLike: false,
};

/**
 * WebGPU core default limits plus `shader-f16`, which most desktop and mobile GPUs offer: dtype
 * f16 kernels declare their rows as `vec4<f16>` instead of packing halves in u32s.
 */
export const CORE_F16_PROFILE: DeviceProfile = {
  ...CORE_PROFILE,
  name: 'core-f16',
  features: { ...NO_FEATURES, shaderF16: true },
};

/**
 * Mesa llvmpipe (LLVM 15) through Dawn's OpenGL backend, as measured with webgpu@0.6.2
 * on Debian 12: the adapter's maxima, which acquireDevice requests.
 */
export const LLVMPIPE_PROFILE: DeviceProfile = {
  name: 'llvmpipe',
  mode: 'compatibility',
  limits: {
    maxStorageBufferBindingSize: 128 * MiB,
    maxBufferSize: 2048 * MiB,
    maxComputeWorkgroupStorageSize: 32768,
    maxComputeInvocationsPerWorkgroup: 1024,
    maxStorageBuffersPerShaderStage: 16,
    maxComputeWorkgroupsPerDimension: 65535,
    maxComputeWorkgroupSizeX: 1024,
  },
  features: NO_FEATURES,
  cpuLike: true,
};

/** SwiftShader 5.0.0 (Chromium's) through Dawn's Vulkan backend, measured likewise. */
export const SWIFTSHADER_PROFILE: DeviceProfile = {
  name: 'swiftshader',
  mode: 'core',
  limits: {
    maxStorageBufferBindingSize: 1024 * MiB,
    maxBufferSize: 1024 * MiB,
    maxComputeWorkgroupStorageSize: 32768,
    maxComputeInvocationsPerWorkgroup: 256,
    maxStorageBuffersPerShaderStage: 12,
    maxComputeWorkgroupsPerDimension: 65535,
    maxComputeWorkgroupSizeX: 256,
  },
  features: {
    shaderF16: false,
    subgroups: true,
    subgroupSize: 4,
    subgroupMinSize: 4,
    subgroupMaxSize: 4,
    timestampQuery: true,
  },
  cpuLike: true,
};

/** The static targets `attnc compile --target NAME` accepts, by name. */
export const STATIC_PROFILES: ReadonlyMap<string, DeviceProfile> = new Map(
  [PORTABLE_PROFILE, CORE_PROFILE, CORE_F16_PROFILE, LLVMPIPE_PROFILE, SWIFTSHADER_PROFILE].map(
    (p) => [p.name, p],
  ),
);

export function staticProfile(name: string): DeviceProfile | undefined {
  return STATIC_PROFILES.get(name);
}

/** Whether a kernel built for `target` may run on a device described by `device`. */
export function profileFits(target: DeviceProfile, device: DeviceProfile): boolean {
  for (const name of KERNEL_LIMIT_NAMES) {
    if (target.limits[name] > device.limits[name]) return false;
  }
  const t = target.features;
  const d = device.features;
  if (t.shaderF16 && !d.shaderF16) return false;
  if (t.subgroups && !d.subgroups) return false;
  if (t.subgroupSize !== undefined && t.subgroupSize !== d.subgroupSize) return false;
  return !(target.mode === 'core' && device.mode === 'compatibility');
}
