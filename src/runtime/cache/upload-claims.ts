// A KV-cache store writes a call's host arrays through the queue into one staging buffer per
// tensor when the call is recorded, so one unsubmitted encoder can hold only one call of the
// store that takes a given tensor from the host: a later write would replace what the first
// call reads when the encoder is finally submitted. This refuses the second one, by name.

import type { PlacedTensor } from './cache-inputs.js';

export class UploadClaims {
  /** Per unsubmitted encoder, the tensors of this store's calls in it that were host arrays. */
  private readonly uploadsIn = new WeakMap<GPUCommandEncoder, Set<string>>();

  constructor(private readonly owner: string) {}

  /** Throws when `encoder` already holds a call with one of `placed`'s host arrays. */
  claim(encoder: GPUCommandEncoder | null | undefined, placed: readonly PlacedTensor[]): void {
    if (!encoder) return;
    const uploads = placed.filter((t) => t.upload !== null).map((t) => t.name);
    if (uploads.length === 0) return;
    const held = this.uploadsIn.get(encoder) ?? new Set<string>();
    const again = uploads.find((name) => held.has(name));
    if (again !== undefined) {
      throw new Error(
        `${this.owner}: this encoder already holds a call of this store with '${again}' from ` +
          'a host array; submit it before recording another, or pass a device tensor',
      );
    }
    uploads.forEach((name) => held.add(name));
    this.uploadsIn.set(encoder, held);
  }
}
