import { describeKernelCases } from './run-cases.js';

describeKernelCases('llvmpipe', { smallOnly: false });
