import type { Tf } from '../../../../demo/decode/tfjs-types.js';

export declare const tf: Tf;
