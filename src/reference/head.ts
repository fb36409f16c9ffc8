// One (batch, head) of the work, as every mechanism sees it: float64 rows already taken
// out of the layout, plus the position of the head within its group (for alibi).

import type { Matrix } from './linalg.js';
import type { MaskContext } from './mask.js';

export interface HeadInputs {
  readonly seqQ: number;
  readonly seqK: number;
  readonly valueDim: number;
  /** Index of the head within its group, `0 <= localHead < group.heads`. */
  readonly localHead: number;
  /** `[Nq][D]` */
  readonly q: Matrix;
  /** `[Nk][D]`, of the head's kv head. */
  readonly k: Matrix;
  /** `[Nk][Dv]`, of the head's kv head. */
  readonly v: Matrix;
  /** Everything the mask may read (sizes, rows, segments, centroids). */
  readonly mask: MaskContext;
  /** linformer's `E` and `F` of the kv head, `[r][Nk]` (only the first Nk columns). */
  readonly E?: Matrix;
  readonly F?: Matrix;
}

/** Query position of row `i` under bottom-right alignment. */
export function queryPosition(head: Pick<HeadInputs, 'seqQ' | 'seqK'>, i: number): number {
  return i + head.seqK - head.seqQ;
}
