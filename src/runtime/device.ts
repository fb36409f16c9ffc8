// acquireDevice: the one way the runtime gets a GPUDevice. In Node it finds an adapter
// through dawn.node (hardware first, then the software adapters that need no GPU); in a
// browser the page passes its own device in. Either way the caller gets the device with
// the limits and features the kernels need, and a DeviceProfile describing it.
//
// This module must stay loadable in a browser bundle: dawn.node and Node built-ins are
// reached only through the dynamic import of ./node-adapters.js on the Node path.

import { describeAdapter } from './adapter-kind.js';
import {
  AdapterNotFoundError,
  type AdapterAttempt,
  type NodeAdapterKind,
} from './adapter-not-found.js';
import { planDeviceRequest, type RequiredLimits } from './device-request.js';
import { readDeviceProfile } from './device-profile.js';
import type { DeviceProfile, KernelFeatureName } from '../target/profile.js';

export type AdapterChoice = 'auto' | NodeAdapterKind;
export type DeviceKind = NodeAdapterKind | 'external';

export const ADAPTER_CHOICES: readonly AdapterChoice[] = [
  'auto',
  'hardware',
  'llvmpipe',
  'swiftshader',
];

/** The order `auto` tries: a real GPU, then the faster of the two CPU adapters. */
const AUTO_ORDER: readonly NodeAdapterKind[] = ['hardware', 'llvmpipe', 'swiftshader'];

export interface AcquireOptions {
  /** Which adapter to find in Node; default: env ATTNC_ADAPTER, else 'auto'. */
  readonly adapter?: AdapterChoice;
  /** Limits to request instead of the adapter's maxima (checked against the adapter). */
  readonly requiredLimits?: RequiredLimits;
  /** Optional features to enable when the adapter has them; default all three. */
  readonly features?: readonly KernelFeatureName[];
  /** A device made elsewhere (a browser page): used as is, kind 'external'. */
  readonly device?: GPUDevice;
  readonly label?: string;
}

export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly adapterName: string;
  readonly kind: DeviceKind;
  readonly profile: DeviceProfile;
  /**
   * Destroys the device (idempotent); after it, nothing of ours keeps Node's event loop
   * alive, so the process exits by itself. An external device belongs to its caller and
   * is left alone.
   */
  destroy(): void;
}

export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  if (options.device !== undefined) return adoptExternalDevice(options.device);
  if (!isNode()) {
    throw new Error(
      'acquireDevice finds adapters only in Node; in a browser, request a device from ' +
        'navigator.gpu and pass it as { device }',
    );
  }
  const choice = options.adapter ?? defaultAdapterChoice();
  const kinds = choice === 'auto' ? AUTO_ORDER : [choice];
  const { openNodeAdapter } = await import('./node-adapters.js');
  const attempts: AdapterAttempt[] = [];
  for (const kind of kinds) {
    const outcome = await openNodeAdapter(kind, (adapter) =>
      adapter.requestDevice({
        ...(options.label !== undefined ? { label: options.label } : {}),
        ...planDeviceRequest(adapter, options.requiredLimits, options.features),
      }),
    );
    if (!outcome.ok) {
      attempts.push({ kind, reason: outcome.reason });
      continue;
    }
    const { adapter, value: device } = outcome.opened;
    let destroyed = false;
    return {
      device,
      adapterName: describeAdapter(adapter.info),
      kind,
      profile: readDeviceProfile(device, adapter.info),
      destroy() {
        if (destroyed) return;
        destroyed = true;
        device.destroy();
      },
    };
  }
  throw new AdapterNotFoundError(choice, attempts);
}

function adoptExternalDevice(device: GPUDevice): AcquiredDevice {
  const profile = readDeviceProfile(device);
  return { device, adapterName: profile.name, kind: 'external', profile, destroy() {} };
}

function defaultAdapterChoice(): AdapterChoice {
  const fromEnv = process.env['ATTNC_ADAPTER'];
  if (fromEnv === undefined || fromEnv === '') return 'auto';
  if (!isAdapterChoice(fromEnv)) {
    throw new Error(`ATTNC_ADAPTER=${fromEnv}: expected one of ${ADAPTER_CHOICES.join(', ')}`);
  }
  return fromEnv;
}

export function isAdapterChoice(value: string): value is AdapterChoice {
  return (ADAPTER_CHOICES as readonly string[]).includes(value);
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}
