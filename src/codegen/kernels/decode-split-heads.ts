// The split-K partial kernel's per-head state when one invocation serves every query head of
// a kv head (GQA/MQA, GROUP_SIZE > 1; decode-split.ts): each invocation owns one split of one
// row of (batch, kv head) and keeps GROUP_SIZE query rows, running maxima, sums and
// accumulators, so the key walk (softmax-walk.ts, `heads: 'kvHead'`) reads each k and v row
// once for all of them instead of once per query head.

import type { Attention, BlockPlan, Mask, Score } from '../../ir/ir.js';
import { rowIndex } from '../../kernel/blocks/layout.js';
import type { RowCodec } from '../../kernel/blocks/row-codec.js';
import {
  add,
  call,
  construct,
  div,
  f32,
  index,
  lt,
  mul,
  T,
  u32,
  uniform,
  type BlockBuilder,
} from '../../kernel/build.js';
import type { Expr } from '../../kernel/ir.js';
import { constantLoopCost, loopCost } from '../wgsl/loop-budget.js';
import type { SoftmaxKernelSetup } from '../wgsl/softmax-kernel-setup.js';
import { overVectors } from './softmax.js';
import { keyRowBases } from './softmax-rows.js';

type Binding = { readonly name: string; readonly binding: number };
type FusedStep = { readonly score: Score; readonly mask: Mask; readonly plan: BlockPlan };

/**
 * Vectors of a key row plus a value row (DW + DVW) up to which the partial kernel serves a kv
 * head's query heads in one invocation. LLVM's first compile of the per-head loops grows fast
 * with the row length on llvmpipe (measured, GQA 8/2, shader cache off: head_dim 64 0.7 s to
 * 2.3 s, head_dim 128 2.5 s to 16.6 s, head_dim 256 with f16 over 10 minutes), so longer rows
 * keep one query head an invocation.
 */
export const KV_HEAD_MAX_VECTORS = 32;

/**
 * The most query heads one invocation takes: each keeps its query row and accumulator in
 * private arrays (GROUP_SIZE x the row's vectors), which must stay small (and within WGSL's
 * array size limit at `heads: 65536; kv_heads: 1`).
 */
export const KV_HEAD_MAX_GROUP = 16;

/** Whether the partial kernel takes every query head of a kv head in one invocation. */
export function servesKvHead(
  groupSize: number,
  headDim: number,
  valueDim: number,
  width: number,
): boolean {
  return (
    groupSize > 1 &&
    groupSize <= KV_HEAD_MAX_GROUP &&
    (headDim + valueDim) / width <= KV_HEAD_MAX_VECTORS
  );
}

/** `for (var g = 0u; g < GROUP_SIZE; g++)`: over the query heads of the kv head. */
export function overHeads(b: BlockBuilder, body: (b: BlockBuilder, g: Expr) => void): void {
  b.for('g', u32(0), (g) => lt(g, 'GROUP_SIZE'), body);
}

/**
 * The kv head's key and value row bases, every query head's pre-scaled row (`qrows[g]`), its
 * running state (`ms`, `ls`, `accs`), the alibi `slopes`, the staging rows `krow` and `vrow`
 * and the row's segment. Expects kvHeadSplitRows's names.
 */
export function kvHeadQueryRows(
  b: BlockBuilder,
  attention: Attention,
  step: FusedStep,
  setup: SoftmaxKernelSetup,
  bindings: { readonly q: Binding; readonly aux: Binding | null },
  codec: RowCodec,
): void {
  const layout = attention.layout;
  const seqQ = uniform('seqQ');
  keyRowBases(b, attention);
  const vec = step.plan.vectorWidth === 4 ? T.vec(4, 'f32') : T.f32;
  const perHead = (type: ReturnType<typeof T.array> | typeof T.f32) => T.array(type, 'GROUP_SIZE');
  b.var('qrows', undefined, perHead(T.array(vec, 'DW')));
  b.var('accs', undefined, perHead(T.array(vec, 'DVW')));
  b.var('ms', undefined, perHead(T.f32));
  b.var('ls', undefined, perHead(T.f32));
  if (step.score.bias === 'alibi') b.var('slopes', undefined, perHead(T.f32));
  b.var('krow', undefined, T.array(vec, 'DW'));
  b.var('vrow', undefined, T.array(vec, 'DVW'));
  const zero = step.plan.vectorWidth === 4 ? construct(vec, f32(0)) : f32(0);
  overHeads(b, (head, g) => {
    const hl = head.let('hl', add(mul('hkl', 'GROUP_SIZE'), g));
    const h = head.let('h', add('HEAD_OFFSET', hl));
    const qRow = head.let(
      'qRow',
      add(uniform('qBase'), rowIndex(layout, 'TOTAL_HEADS', seqQ, 'DW', 'b', h, 'row')),
    );
    overVectors(head, 'DW', (body, d) =>
      body.assign(
        index(index('qrows', g), d),
        mul(codec.load(index(bindings.q.name, add(qRow, d))), f32(setup.qFactor)),
      ),
    );
    overVectors(head, 'DVW', (body, d) => body.assign(index(index('accs', g), d), zero));
    head.assign(index('ms', g), 'NEG_BIG');
    head.assign(index('ls', g), f32(0));
    if (step.score.bias === 'alibi')
      head.assign(
        index('slopes', g),
        call(
          'exp2',
          div(mul(f32(-8), construct(T.f32, add(hl, u32(1)))), construct(T.f32, 'HEADS')),
        ),
      );
  });
  const aux = bindings.aux?.name;
  const segRow =
    setup.hasSegment && aux ? index(aux, add(uniform('segQBase'), mul('b', seqQ), 'row')) : u32(0);
  b.let('segRow', segRow);
}

/**
 * The partial kernel's loop costs for GROUP_SIZE heads an invocation. GROUP_SIZE is a constant
 * loop (at most 16 trips) that Mesa may or may not unroll around its row loops, so its trips
 * are counted as paid. Per key: the g loop; the staging of the k and v rows and each head's
 * score and value loops are short loops (short-loops.ts), unrolled and free. Per row: the init
 * and record g loops, and in them each head's q, acc and record loops over its vectors.
 */
export function kvHeadLoopCosts(
  groupSize: number,
  headDim: number,
  valueDim: number,
  width: number,
): { readonly perKey: number; readonly perRow: number } {
  const rowLoops = constantLoopCost(headDim / width) + 2 * constantLoopCost(valueDim / width);
  return {
    perKey: loopCost(groupSize),
    perRow: 2 * loopCost(groupSize) + groupSize * (rowLoops + 2),
  };
}
