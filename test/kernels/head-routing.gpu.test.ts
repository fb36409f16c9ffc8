// Mixture of heads and head groups on both software adapters (cases: head-routing-cases.ts).
import {
  describeRoutingCases,
  GROUP_CASES,
  ROUTING_CASES,
  KEPT_ROW_CASES,
} from './head-routing-cases.js';

const CASES = [...ROUTING_CASES, ...KEPT_ROW_CASES, ...GROUP_CASES];

describeRoutingCases('llvmpipe', CASES, { smallOnly: false });
// SwiftShader is about 10x slower: the cases with at most ~300 keys.
describeRoutingCases('swiftshader', CASES, { smallOnly: true });
