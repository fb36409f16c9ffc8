// Low-rank kernels on SwiftShader (about 10x slower than llvmpipe): the cases up to ~300 keys.
import { describeLowRankCases } from './lowrank-cases.js';

describeLowRankCases('swiftshader', { smallOnly: true });
