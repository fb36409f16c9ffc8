// tfjs-core with its WebGPU backend, for the page bundle: imported statically here so that
// esbuild bundles them, from a .js file (typed by tfjs-bundle.d.ts) so that TypeScript never
// loads tfjs's declarations (see demo/decode/tfjs-types.ts).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';

export { tf };
