// The meaning of an IR mask, `allowed(p, j)`, evaluated directly. Passes must preserve it
// (tests compare masks before and after each pass with it); it is never used by kernels.

import { randomBlocks } from '../random/index.js';
import { unreachable, type Mask } from './ir.js';

export interface MaskPoint {
  /** Query row and its absolute position `p = i + seqK - seqQ`. */
  readonly i: number;
  readonly p: number;
  readonly j: number;
  readonly seqK: number;
  /** This batch entry's segment ids, when the mask has `segment`. */
  readonly segQ?: ArrayLike<number>;
  readonly segK?: ArrayLike<number>;
}

export function maskAllows(mask: Mask, at: MaskPoint): boolean {
  const { p, j } = at;
  switch (mask.kind) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'band':
      return (mask.lo === null || j - p >= mask.lo) && (mask.hi === null || j - p <= mask.hi);
    case 'dilated':
      return Math.abs(p - j) <= mask.width * mask.dilation && (p - j) % mask.dilation === 0;
    case 'stride':
      return (p - j) % mask.step === 0;
    case 'global':
      return inGlobal(mask, j) || inGlobal(mask, p);
    case 'sink':
      return j < mask.count;
    case 'blocks':
      return Math.floor(p / mask.size) === Math.floor(j / mask.size);
    case 'random':
      return randomBlocks(
        mask.seed,
        Math.floor(p / mask.block),
        mask.count,
        Math.ceil(at.seqK / mask.block),
      ).includes(Math.floor(j / mask.block));
    case 'segment':
      if (!at.segQ || !at.segK) throw new Error('maskAllows: segment needs segQ and segK');
      return at.segQ[at.i] === at.segK[j];
    case 'routed':
      throw new Error('maskAllows: routed masks (topk, cluster, lsh) depend on q and k');
    case 'union':
      return mask.terms.some((t) => maskAllows(t, at));
    case 'intersect':
      return mask.terms.every((t) => maskAllows(t, at));
    default:
      return unreachable(mask);
  }
}

export function inGlobal(
  mask: { first: number; positions: readonly number[] },
  x: number,
): boolean {
  return x < mask.first || mask.positions.includes(x);
}
