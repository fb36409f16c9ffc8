// Head routing's row source for per-query kernels (one query row per invocation, `tile` rows
// per workgroup, with or without barriers): workgroup `linear` takes tile `linear - start` of
// the kept-row list (b, local head) whose running tile total passes it, so only kept
// (row, head) pairs are ever computed (codegen/wgsl/emit-head-routing.ts lays the lists out
// in `aux` and names the Params fields: keptRowUniforms). Needs the constants HEADS,
// HEAD_OFFSET and TOTAL_HEADS.

import {
  add,
  block,
  call,
  div,
  eq,
  ge,
  gt,
  index,
  lt,
  max,
  min,
  mod,
  mul,
  select,
  sub,
  T,
  u32,
  uniform,
  workgroupUniformLoad,
  type BlockBuilder,
} from '../build.js';
import type { Expr, HelperFunction, WorkgroupVar } from '../ir.js';
import { f32OfBits } from './row-codec.js';

/** Reads word `at` of the buffer that holds the kept-row lists. */
export type AuxRead = (at: Expr) => Expr;

/** First kept-row list (in (b, local head) order) whose running tile total passes `linear`. */
export function findKeptList(read: AuxRead): HelperFunction {
  return {
    name: 'findKeptList',
    params: [{ name: 'linear', type: T.u32 }],
    returns: T.u32,
    doc: [
      'First kept-row list e (in (b, local head) order) whose running tile total passes `linear`.',
    ],
    body: block((b) => {
      const routeBatch = uniform('routeBatch');
      const base = b.let('base', add(uniform('routeTileEndBase'), mul(routeBatch, 'HEAD_OFFSET')));
      const lo = b.var('lo', u32(0));
      const hi = b.var('hi', mul(routeBatch, 'HEADS'));
      b.while(lt(lo, hi), (body) => {
        const mid = body.let('mid', div(add(lo, hi), u32(2)));
        body.if(
          gt(read(add(base, mid)), 'linear'),
          (then) => then.assign(hi, mid),
          (otherwise) => otherwise.assign(lo, add(mid, u32(1))),
          { oneLine: true },
        );
      });
      b.return(lo);
    }),
  };
}

/**
 * The row selection (`linear` and `lid` in scope; the kernel declares `findKeptList`):
 * defines b, hl, h, routeRow (this invocation's query row) and routeWeight (its head's
 * routing weight). By default an invocation past the list's end returns: the kernel has no
 * barriers. A kernel with barriers passes `inWorkgroup` (and declares `KEPT_LIST_VAR`): the
 * list is found once per workgroup and read through `workgroupUniformLoad`, so control flow
 * stays uniform, and an idle invocation keeps the tile's last row with `routeActive` false
 * (it must not write); routeFirst and routeLast then bound the tile's slots in the list.
 */
export function selectKeptRow(
  b: BlockBuilder,
  read: AuxRead,
  tile: number,
  options: { readonly inWorkgroup?: boolean } = {},
): void {
  const shared = options.inWorkgroup === true;
  const routeBatch = uniform('routeBatch');
  const routeSeqQ = uniform('routeSeqQ');
  b.comment('Head routing: this workgroup walks one tile of a kept-row list (b, local head).');
  if (shared)
    b.if(
      eq('lid', u32(0)),
      (t) => t.assign(KEPT_LIST_VAR.name, call('findKeptList', 'linear')),
      undefined,
      {
        oneLine: true,
      },
    );
  const list = b.let(
    'routeList',
    shared ? uniformLoad(KEPT_LIST_VAR.name) : call('findKeptList', 'linear'),
  );
  b.returnIf(ge(list, mul(routeBatch, 'HEADS')));
  const hl = b.let('hl', mod(list, 'HEADS'));
  const batch = b.let('b', div(list, 'HEADS'));
  const h = b.let('h', add('HEAD_OFFSET', hl));
  const previousEnd = add(uniform('routeTileEndBase'), mul(routeBatch, 'HEAD_OFFSET'));
  const start = b.let(
    'routeStart',
    select(u32(0), read(sub(add(previousEnd, max(list, u32(1))), u32(1))), gt(list, u32(0))),
  );
  const listRow = add(mul(batch, 'TOTAL_HEADS'), h);
  const kept = b.let(
    'routeKept',
    read(add(uniform('routeCountsBase'), mul(batch, 'TOTAL_HEADS'), h)),
  );
  const rows = b.let('routeRows', add(uniform('routeRowsBase'), mul(listRow, routeSeqQ)));
  const first = b.let('routeFirst', mul(sub('linear', start), u32(tile)));
  const last = shared ? b.let('routeLast', sub(min(add(first, u32(tile)), kept), u32(1))) : null;
  const slot = b.let('routeSlot', add(first, 'lid'));
  let row: Expr;
  if (last !== null) {
    b.let('routeActive', lt(slot, kept));
    row = b.let('routeRow', read(add(rows, min(slot, last))));
  } else {
    b.comment('No barriers in this kernel: an invocation past the list returns.');
    b.returnIf(ge(slot, kept));
    row = b.let('routeRow', read(add(rows, slot)));
  }
  const weightAt = add(
    uniform('routeWeightsBase'),
    mul(add(mul(batch, routeSeqQ), row), 'TOTAL_HEADS'),
    h,
  );
  b.let('routeWeight', f32OfBits(read(weightAt)));
}

/** The workgroup's kept-row list, for `selectKeptRow` with `inWorkgroup`. */
export const KEPT_LIST_VAR: WorkgroupVar = { name: 'wgKeptList', type: T.u32 };

/** `workgroupUniformLoad(&name)`: a workgroup variable read as a uniform value (WGSL's rule). */
export function uniformLoad(name: string): Expr {
  return workgroupUniformLoad(name);
}

/** Kept-row lists read straight from a `u32` storage binding. */
export const auxWords =
  (binding: string): AuxRead =>
  (at) =>
    index(binding, at);
