// SwiftShader is about 10x slower than llvmpipe: the cases with at most ~300 keys.
import { describeKernelCases } from './run-cases.js';

describeKernelCases('swiftshader', { smallOnly: true });
