// Whether kernel tests may run on an adapter kind. In CI (CI=true) they always run, so a
// missing adapter fails loudly instead of skipping; elsewhere a machine without the
// software adapters installed skips them with the reason and the fix.

import { acquireDevice, type AdapterChoice } from '../../src/runtime/device.js';

export const inCI = process.env['CI'] === 'true' || process.env['CI'] === '1';

export interface Availability {
  readonly run: boolean;
  readonly reason?: string;
}

export async function adapterAvailability(adapter: AdapterChoice): Promise<Availability> {
  if (inCI) return { run: true };
  try {
    const acquired = await acquireDevice({ adapter });
    acquired.destroy();
    return { run: true };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    console.warn(`skipping ${adapter} kernel tests (outside CI): ${reason}`);
    return { run: false, reason };
  }
}
