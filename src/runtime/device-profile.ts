// Reading a DeviceProfile off a live GPUDevice: what it was actually granted (device.limits
// and device.features), not what the adapter offered, so a browser-made device and one
// from acquireDevice are described the same way.

import { classifyAdapter, describeAdapter, type AdapterInfoLike } from './adapter-kind.js';
import {
  KERNEL_LIMIT_NAMES,
  type DeviceProfile,
  type KernelLimitName,
  type ProfileFeatures,
} from '../target/profile.js';

/** The GPUAdapterInfo fields a profile needs, with the subgroup sizes. */
export interface ProfileAdapterInfo extends AdapterInfoLike {
  readonly subgroupMinSize?: number;
  readonly subgroupMaxSize?: number;
}

export function readDeviceProfile(
  device: GPUDevice,
  info: ProfileAdapterInfo | undefined = deviceAdapterInfo(device),
): DeviceProfile {
  const granted = device.limits as unknown as Readonly<Record<string, number | undefined>>;
  const limits = {} as Record<KernelLimitName, number>;
  for (const name of KERNEL_LIMIT_NAMES) {
    const value = granted[name];
    if (typeof value !== 'number') throw new Error(`device.limits lacks ${name}`);
    limits[name] = value;
  }
  const has = (f: string): boolean => device.features.has(f);
  const subgroups = has('subgroups');
  const min = subgroups ? info?.subgroupMinSize : undefined;
  const max = subgroups ? info?.subgroupMaxSize : undefined;
  const features: ProfileFeatures = {
    shaderF16: has('shader-f16'),
    subgroups,
    ...(min !== undefined && min === max ? { subgroupSize: min } : {}),
    ...(min !== undefined ? { subgroupMinSize: min } : {}),
    ...(max !== undefined ? { subgroupMaxSize: max } : {}),
    timestampQuery: has('timestamp-query'),
  };
  return {
    name: info ? describeAdapter(info) : 'unknown adapter',
    mode: has('core-features-and-limits') ? 'core' : 'compatibility',
    limits,
    features,
    cpuLike: info !== undefined && classifyAdapter(info) !== 'hardware',
  };
}

/** GPUDevice.adapterInfo is recent (2024); older browsers lack it. */
function deviceAdapterInfo(device: GPUDevice): ProfileAdapterInfo | undefined {
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return info ?? undefined;
}
