// The state kernel of a linear group: one workgroup per (batch, kv head, slot) reduces the
// slot's keys to `S = sum_j phi(k_j) v_j^T` [features x value_dim] and `z = sum_j phi(k_j)`.
// Keys are taken C at a time (one per invocation) and their phi is staged in workgroup memory F
// features at a time; then every invocation owns a tile of S: one vector of value columns by FG
// features (a "task"), accumulated in registers, and invocations below F / W sum z. The per-key
// work is a rank-1 update, FG vector FMAs per key per task, with every loop short and constant
// so llvmpipe keeps the accumulators in registers. phi(K) never reaches a storage buffer.
// Without causal a slot's keys grow with seqK, so the kernel carries its loop-iteration bound
// for llvmpipe's budget (docs/runtime.md, `statesLoopIterations`).

import { featureDim } from '../../ir/ir.js';
import {
  add,
  and,
  call,
  construct,
  div,
  ge,
  index,
  KernelBuilder,
  lt,
  member,
  min,
  mod,
  mul,
  paren,
  sub,
  T,
  u32,
  uniform,
  type BlockBuilder,
} from '../../kernel/build.js';
import type { Expr, Kernel } from '../../kernel/ir.js';
import { loopCost } from '../wgsl/loop-budget.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import {
  featureRowsUniform,
  inVectors,
  type LinearBinding,
  type LinearShape,
  linearSlots,
  tensorBase,
} from '../linear-shape.js';
import {
  favorRowPrelude,
  linearConstants,
  linearElement,
  linearVector,
  loadFunction,
  phiBlock,
} from './linear-blocks.js';
import { rowIndex } from '../../kernel/blocks/layout.js';

/** Features per task: the largest divisor of the feature block that is at most this. */
const TASK_FEATURES = 16;

export interface LinearStatesArrays {
  /** Word offsets of k, v, the states table and (FAVOR+) W. */
  readonly k: SizeExpr;
  readonly v: SizeExpr;
  readonly states: SizeExpr;
  readonly weights: SizeExpr | null;
}

export interface LinearStatesBindings {
  readonly k: LinearBinding;
  readonly v: LinearBinding;
  readonly lin: LinearBinding;
}

export function linearStatesKernel(
  shape: LinearShape,
  bindings: LinearStatesBindings,
  arrays: LinearStatesArrays,
): Kernel {
  const { attention, group, map, plan } = shape;
  const W = plan.vectorWidth;
  const { slots, keysPerSlot } = linearSlots(shape);
  const taskFeatures = W * largestDivisorAtMost(plan.featureBlock / W, TASK_FEATURES / W);
  const tasks = (attention.valueDim / W) * (plan.featureBlock / taskFeatures);
  const k = new KernelBuilder(plan.chunk);
  k.header(
    `attnc linear states: attention ${attention.name}, group ${group.name}, phi ${map.kind}${shape.causal ? ', causal (one slot per chunk)' : ''}`,
  );
  k.consts(linearConstants(shape));
  k.const('FG', T.u32, u32(taskFeatures), [
    'A task: value vector cq = task % DVW, features fg * FG .. fg * FG + FG of the block.',
  ]);
  k.const('TASKS', T.u32, u32(tasks));
  k.const('TPL', T.u32, u32(Math.ceil(tasks / plan.chunk)));
  k.uniform('seqK', 'seqK');
  k.uniform('slots', slots);
  k.uniform('keysPerSlot', keysPerSlot);
  k.uniform('total', size.mul('batch', group.kvHeads, slots));
  k.uniform('kBase', tensorBase(shape, arrays.k));
  k.uniform('vBase', tensorBase(shape, arrays.v));
  k.uniform('stBase', inVectors(arrays.states, plan));
  const rows = featureRowsUniform(plan);
  k.uniform(rows.name, rows.value);
  if (arrays.weights !== null) k.uniform('wBase', inVectors(arrays.weights, plan));
  k.storage(bindings.k.binding, bindings.k.name, 'read', linearElement(shape, 'tensor'));
  if (bindings.v.name !== bindings.k.name)
    k.storage(bindings.v.binding, bindings.v.name, 'read', linearElement(shape, 'tensor'));
  k.storage(bindings.lin.binding, bindings.lin.name, 'read_write', linearElement(shape, 'state'));
  k.workgroupVar('kf', T.array(linearVector(shape).vec, mul('C', 'FW')), [
    'phi(k) of the C staged keys, F features each: kf[r * FW + fw].',
  ]);
  k.function(loadFunction(shape, 'ldK', bindings.k.name, 'kBase'));
  k.function(loadFunction(shape, 'ldV', bindings.v.name, 'vBase'));
  const linear = k.gridIndex('workgroup', 'linear', 'total');
  k.main((b) => {
    b.let('slot', mod(linear, uniform('slots')));
    const bk = b.let('bk', div(linear, uniform('slots')));
    b.let('hk', add('KV_HEAD_OFFSET', mod(bk, 'KV_HEADS')));
    b.let('b', div(bk, 'KV_HEADS'));
    const j0 = b.let('j0', mul('slot', uniform('keysPerSlot')));
    b.let('j1', min(add(j0, uniform('keysPerSlot')), uniform('seqK')));
    b.comment(
      'Slots of one (batch, kv head) are contiguous: linear = (b * KV_HEADS + local kv head) * slots + slot.',
    );
    b.let('out', add(uniform('stBase'), mul(linear, 'SLOT')));
    b.for(
      't0w',
      u32(0),
      (t) => lt(t, 'DPHIW'),
      (block, t0w) => featureBlock(block, shape, bindings, t0w),
      {
        step: 'FW',
      },
    );
  });
  const loopIterations = statesLoopIterations(shape, keysPerSlot, taskFeatures, tasks);
  return { ...k.build(), loopIterations };
}

/**
 * An upper bound of one invocation's loop iterations, every loop counted as paid (Mesa may
 * unroll the short constant ones): per feature block, per step of C keys the staging of one
 * key's phi (or the padding) and C rank-one updates, then the block's write.
 */
function statesLoopIterations(
  shape: LinearShape,
  keysPerSlot: SizeExpr,
  taskFeatures: number,
  tasks: number,
): SizeExpr {
  const { attention, map, plan } = shape;
  const W = plan.vectorWidth;
  const C = plan.chunk;
  const DW = attention.headDim / W;
  const FW = plan.featureBlock / W;
  const TPL = Math.ceil(tasks / C);
  const blocks = Math.ceil(featureDim(map, attention.headDim) / W / FW);
  const favor = map.kind === 'favor';
  const phi = loopCost(FW) + (favor ? loopCost(DW) + FW * loopCost(DW) : 0);
  const perKey = 1 + loopCost(TPL) + TPL * loopCost(W === 4 ? taskFeatures / 4 : taskFeatures);
  const perStep = 1 + Math.max(phi, loopCost(FW)) + 1 + C * perKey;
  const steps = size.add(size.ceilDiv(keysPerSlot, C), 1);
  const write = loopCost(TPL) + TPL * loopCost(taskFeatures);
  return size.add(size.mul(blocks, size.add(size.mul(steps, perStep), 1 + write)), 1);
}

/** One block of FW phi vectors: accumulate over the slot's keys, then write S and z rows. */
function featureBlock(
  b: BlockBuilder,
  shape: LinearShape,
  bindings: LinearStatesBindings,
  t0w: Expr,
): void {
  const { zero } = linearVector(shape);
  b.comment('Explicitly zeroed: a declaration inside a loop must reset it on every block.');
  b.var('acc', construct(T.array(linearVector(shape).vec, mul('TPL', 'FG'))));
  const zacc = b.var('zacc', zero);
  b.for(
    'ja',
    'j0',
    (ja) => lt(ja, 'j1'),
    (keys, ja) => {
      const j = keys.let('j', add(ja, 'lid'));
      const staged = (fw: Expr) => index('kf', add(mul('lid', 'FW'), fw));
      keys.if(
        lt(j, 'j1'),
        (stage) => stageKey(stage, shape, t0w, j, staged),
        (pad) =>
          pad.for(
            'fw',
            u32(0),
            (fw) => lt(fw, 'FW'),
            (body, fw) => body.assign(staged(fw), zero),
            {
              oneLine: true,
            },
          ),
      );
      keys.barrier();
      const n = keys.let('n', min('C', sub('j1', ja)));
      keys.for(
        'r',
        u32(0),
        (r) => lt(r, n),
        (key, r) => {
          const layout = shape.attention.layout;
          const vrow = key.let(
            'vrow',
            rowIndex(layout, 'TOTAL_KV_HEADS', uniform('seqK'), 'DVW', 'b', 'hk', ja, r),
          );
          key.for(
            'u',
            u32(0),
            (u) => lt(u, 'TPL'),
            (tasks, u) => rankOne(tasks, shape, u, r, vrow),
          );
          key.compound(zacc, '+=', index('kf', add(mul(r, 'FW'), min('lid', sub('FW', u32(1))))));
        },
      );
      keys.barrier();
    },
    { step: 'C' },
  );
  writeBlock(b, shape, bindings, t0w, zacc);
}

/** phi of key j into its row of the staged block. */
function stageKey(
  b: BlockBuilder,
  shape: LinearShape,
  t0w: Expr,
  j: Expr,
  target: (fw: Expr) => Expr,
): void {
  const layout = shape.attention.layout;
  const row = b.let('row', rowIndex(layout, 'TOTAL_KV_HEADS', uniform('seqK'), 'DW', 'b', 'hk', j));
  if (shape.map.kind === 'favor') favorRowPrelude(b, shape, row, 'ldK', 'K');
  phiBlock(b, shape, { t0w, row, load: 'ldK', tag: 'K', target });
}

/** Task u of this invocation: staged phi vector of key r times the value vector. */
function rankOne(b: BlockBuilder, shape: LinearShape, u: Expr, r: Expr, vrow: Expr): void {
  const task = b.let('task', min(add('lid', mul(u, 'C')), sub('TASKS', u32(1))));
  const vq = b.let('vq', call('ldV', add(vrow, mod(task, 'DVW'))));
  const fb = b.let('fb', mul(paren(div(task, 'DVW')), 'FG'));
  if (shape.plan.vectorWidth !== 4) {
    b.for(
      'f',
      u32(0),
      (f) => lt(f, 'FG'),
      (body, f) =>
        body.compound(
          index('acc', add(mul(u, 'FG'), f)),
          '+=',
          mul(index('kf', add(mul(r, 'FW'), fb, f)), vq),
        ),
      { oneLine: true },
    );
    return;
  }
  b.for(
    'g',
    u32(0),
    (g) => lt(g, div('FG', u32(4))),
    (body, g) => {
      const k4 = body.let('k4', index('kf', add(mul(r, 'FW'), div(fb, u32(4)), g)));
      const a = body.let('a', add(mul(u, 'FG'), mul(u32(4), g)));
      ['x', 'y', 'z', 'w'].forEach((lane, i) =>
        body.compound(index('acc', i === 0 ? a : add(a, u32(i))), '+=', mul(member(k4, lane), vq)),
      );
    },
  );
}

/** Rows fb .. fb + FG of S for each task of this invocation, and this block of z. */
function writeBlock(
  b: BlockBuilder,
  shape: LinearShape,
  bindings: LinearStatesBindings,
  t0w: Expr,
  zacc: Expr,
): void {
  const partial = featureDim(shape.map, shape.attention.headDim) % shape.plan.featureBlock !== 0;
  const lin = bindings.lin.name;
  b.for(
    'u',
    u32(0),
    (u) => lt(u, 'TPL'),
    (tasks, u) => {
      const task = tasks.let('task', add('lid', mul(u, 'C')));
      tasks.if(ge(task, 'TASKS'), (t) => t.break(), undefined, { oneLine: true });
      const cq = tasks.let('cq', mod(task, 'DVW'));
      const fb = tasks.let('fb', add(mul(t0w, 'W'), mul(paren(div(task, 'DVW')), 'FG')));
      tasks.for(
        'f',
        u32(0),
        (f) => lt(f, 'FG'),
        (row, f) => {
          if (partial)
            row.if(ge(add(fb, f), 'DPHI'), (t) => t.break(), undefined, { oneLine: true });
          row.store(
            lin,
            add('out', mul(add(fb, f), 'DVW'), cq),
            index('acc', add(mul(u, 'FG'), f)),
          );
        },
      );
    },
  );
  const writesZ = partial ? and(lt('lid', 'FW'), lt(add(t0w, 'lid'), 'DPHIW')) : lt('lid', 'FW');
  b.if(writesZ, (t) => t.store(lin, add('out', 'ZOFF', t0w, 'lid'), zacc), undefined, {
    oneLine: true,
  });
}

function largestDivisorAtMost(n: number, most: number): number {
  for (let d = Math.min(n, most); d > 1; d--) if (n % d === 0) return d;
  return 1;
}
