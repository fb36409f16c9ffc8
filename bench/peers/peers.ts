// `npm run bench -- --peers`: what a web developer would use instead of attnc, timed in the
// same loop, on the same device, at the same shapes. Both peers are devDependencies; one that
// is not installed is skipped with a message saying so, and the bench goes on without it.

import {
  acquireDevice,
  type AcquiredDevice,
  type AdapterChoice,
} from '../../src/runtime/device.js';
import type { CaseFactory } from '../harness.js';
import { allAdapterLimits, installNavigatorGpu } from './navigator-gpu.js';
import { loadOrt, ortMissing } from './ort.js';
import { ortFactories } from './ort-cases.js';
import { loadTfjs, tfjsFactories } from './tfjs-cases.js';

/** The cases a `--peers` run times when --case does not say: attnc's and the peers'. */
export const PEER_DEFAULT_CASES = ['=attnc-dense', '=attnc-causal', 'tfjs-', 'ort-'];

/**
 * The bench's device when peers run: on the adapter `choice` finds, requested with every
 * limit the adapter offers (ORT asks for them), after `navigator.gpu` hands out that same
 * kind of adapter to the libraries that look for it there.
 */
export async function acquirePeerDevice(choice: AdapterChoice): Promise<AcquiredDevice> {
  const found = await acquireDevice({ adapter: choice });
  const kind = found.kind;
  found.destroy();
  if (kind === 'external') throw new Error('peers need an adapter the bench opens itself');
  const adapter = await installNavigatorGpu(kind);
  return acquireDevice({ adapter: kind, requiredLimits: allAdapterLimits(adapter) });
}

export interface Peers {
  readonly factories: readonly CaseFactory[];
  /** One line per peer that is not installed. */
  readonly skipped: readonly string[];
  /** Undoes what loading did to globals (ORT's writeBuffer wrapper). */
  close(): void;
}

function isModuleMissing(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'ERR_MODULE_NOT_FOUND';
}

/** Loads the installed peers onto `device` (from acquirePeerDevice). */
export async function loadPeers(device: GPUDevice): Promise<Peers> {
  const factories: CaseFactory[] = [];
  const skipped: string[] = [];
  try {
    factories.push(...tfjsFactories(await loadTfjs(device)));
  } catch (error) {
    if (!isModuleMissing(error)) throw error;
    skipped.push(
      'tfjs-webgpu is not installed (@tensorflow/tfjs-core and @tensorflow/tfjs-backend-webgpu ' +
        'are devDependencies: npm ci)',
    );
  }
  const missing = ortMissing();
  let restore = () => {};
  if (missing === undefined) {
    const loaded = await loadOrt();
    restore = loaded.restore;
    factories.push(...ortFactories(loaded.ort));
  } else {
    skipped.push(missing);
  }
  return { factories, skipped, close: restore };
}
