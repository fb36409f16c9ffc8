// The deterministic generator shared by the compiler, its host code and the CPU reference.
// The algorithm is documented in docs/random.md.

export {
  fmix32,
  randomU32,
  randomUniform,
  randomUniformOpen,
  randomGaussian,
} from './generator.js';
export { randomBlocks } from './blocks.js';
export { gaussianMatrix, GAUSSIAN_STREAM } from './gaussian-matrix.js';
