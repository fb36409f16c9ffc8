// Data-dependent masks (topk, cluster, lsh) on llvmpipe: every routing case, N up to 4096.
import { describeRoutingCases } from './run-routing.js';

describeRoutingCases('llvmpipe');
