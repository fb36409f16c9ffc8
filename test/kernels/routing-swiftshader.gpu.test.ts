// Data-dependent masks (topk, cluster, lsh) on SwiftShader: the small routing cases.
import { describeRoutingCases } from './run-routing.js';

describeRoutingCases('swiftshader');
