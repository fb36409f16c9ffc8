// How `randomInputs` shapes the values of the extra run-time inputs so every example gives a
// meaningful run from the CLI: uniform [-1, 1) values would make routing near-trivial,
// linformer outputs grow with Nk, and unnormalized centroids let one centroid win everywhere.

import type { InputName } from '../codegen/plan.js';

/**
 * Rescales uniform [-1, 1) values in place: `router` logits to [-3, 3) (softmax weights of the
 * kept heads differ clearly and top-k is non-trivial), `E`/`F` by 1/sqrt(Nk) (each projected
 * row sums Nk terms, so K' and V' stay O(1)), `centroids` rows of the last dim to unit norm.
 * Other inputs are left as they are.
 */
export function scaleRandomInput(
  name: InputName,
  data: Float32Array,
  dims: readonly number[],
  seqK: number,
): void {
  switch (name) {
    case 'router':
      for (let i = 0; i < data.length; i++) data[i]! *= 3;
      break;
    case 'E':
    case 'F': {
      const s = 1 / Math.sqrt(seqK);
      for (let i = 0; i < data.length; i++) data[i]! *= s;
      break;
    }
    case 'centroids': {
      const width = dims[dims.length - 1] ?? 1;
      for (let start = 0; start + width <= data.length; start += width) {
        let norm = 0;
        for (let d = 0; d < width; d++) norm += data[start + d]! ** 2;
        const s = norm > 0 ? 1 / Math.sqrt(norm) : 1;
        for (let d = 0; d < width; d++) data[start + d]! *= s;
      }
      break;
    }
    default:
      break;
  }
}
