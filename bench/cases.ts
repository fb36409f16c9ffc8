// The registry of benchmark suites. The first factory is the reference the ratios are
// taken against, so keep the baseline first; compiled attnc kernels are added after it
// as further CaseFactory values (a name and a create(device, shape) returning a case).

import { attncFactories } from './attnc-cases.js';
import { baselineFactory } from './baseline.js';
import { linearFactories } from './linear-cases.js';
import { lowRankFactories } from './lowrank-cases.js';
import { routingHeadsFactories } from './routing-heads-cases.js';
import { routingFactories } from './routing-cases.js';
import { subgroupFactories } from './subgroup-cases.js';
import type { CaseFactory } from './harness.js';

export interface CaseOptions {
  /** Workgroup sizes to run the baseline at; one case each. */
  readonly baselineWorkgroupSizes: readonly number[];
}

export function benchFactories(options: CaseOptions): CaseFactory[] {
  const baselines = options.baselineWorkgroupSizes.map((workgroupSize) => ({
    ...baselineFactory({ workgroupSize }),
    name: `baseline-wg${workgroupSize}`,
  }));
  return [
    ...baselines,
    ...attncFactories(),
    ...routingHeadsFactories(),
    ...routingFactories(),
    ...linearFactories(),
    ...lowRankFactories(),
    ...subgroupFactories(),
  ];
}
