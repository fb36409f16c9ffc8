// Data-dependent masks (topk, cluster, lsh) on SwiftShader: the small routing cases (and the
// f16 and random-union cases at N = 1000).
import { describeRoutingCases } from './run-routing.js';

describeRoutingCases('swiftshader');
