// The kernels of a causal kernelized group's recurrent state in the KV cache
// (src/runtime/cache/recurrent-state.ts), on the kernel IR: S = sum phi(k) v^T and
// z = sum phi(k) per (batch, kv head). A chunk of T new tokens is staged (phi(k) and v, f32)
// and folded into S and z at the next append, so an attend in between sees the state
// *before* the chunk plus the chunk itself: query t of the chunk reads S, z and the chunk's
// keys up to t, exactly the causal prefix the reference sums. phi comes from the prefill's
// feature-map blocks (linear-blocks.ts), one feature at a time. Every kernel's work per token
// is independent of how many tokens came before. Sizes: `batch`, `seqK` = T (the chunk's
// tokens), `seqQ` = the attend's query rows.

import { featureDim } from '../../ir/ir.js';
import {
  add,
  binary,
  call,
  div,
  f32,
  index,
  KernelBuilder,
  lt,
  mod,
  mul,
  select,
  sub,
  T,
  u32,
  uniform,
  type BlockBuilder,
  type Operand,
} from '../../kernel/build.js';
import type { Expr, Kernel, KernelConst } from '../../kernel/ir.js';
import { rowIndex } from '../../kernel/blocks/layout.js';
import type { LinearShape } from '../linear-shape.js';
import { featureRowsUniform } from '../linear-shape.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import {
  favorRowPrelude,
  u32Const,
  linearCodec,
  linearConstants,
  loadFunction,
  phiBlock,
} from './linear-blocks.js';

const WORKGROUP = 64;

/** The kernelized family's epsilon (language.md section 6; src/reference/kernelized.ts). */
const LINEAR_EPSILON = 1e-6;

/** The four kernels of the store, for a group's shape (scalar loads, one feature block). */
export function recurrentStateKernels(shape: LinearShape): {
  stageKeys: Kernel;
  fold: Kernel;
  stageQueries: Kernel;
  attend: Kernel;
} {
  return {
    stageKeys: stageKeysKernel(shape),
    fold: foldKernel(shape),
    stageQueries: stageQueriesKernel(shape),
    attend: attendKernel(shape),
  };
}

/** Words of one (batch, kv head)'s state: S (features x value_dim), then z (features). */
export function recurrentStateWords(features: number, valueDim: number): number {
  return features * (valueDim + 1);
}

/** The family's constants (linear-blocks.ts) and the store's own. */
function constants(shape: LinearShape): KernelConst[] {
  const { attention } = shape;
  const features = featureDim(shape.map, attention.headDim);
  return [
    ...linearConstants(shape),
    u32Const(
      'CW',
      features + attention.valueDim,
      'One staged key of a chunk: phi(k) (DPHI), then v (DV).',
    ),
    u32Const('STATE', recurrentStateWords(features, attention.valueDim)),
  ];
}

/** Offset of FAVOR+'s W in `state`: after every (batch, kv head)'s state. */
function weightsBase(shape: LinearShape): SizeExpr {
  const features = featureDim(shape.map, shape.attention.headDim);
  return size.mul(
    'batch',
    shape.group.kvHeads,
    recurrentStateWords(features, shape.attention.valueDim),
  );
}

/** Uniforms and helpers of a kernel that computes phi of rows of `tensor` (k or q). */
function phiSetup(k: KernelBuilder, shape: LinearShape, tensor: 'k' | 'q', load: string): void {
  const base = `${tensor}Base`;
  // Tensors are bound at their own offset, so a row's index starts at 0.
  k.uniform(base, 0);
  const rows = featureRowsUniform(shape.plan);
  k.uniform(rows.name, rows.value);
  if (shape.map.kind === 'favor') k.uniform('wBase', weightsBase(shape));
  k.storage(1, `${tensor}buf`, 'read', linearCodec(shape).stored);
  k.function(loadFunction(shape, load, `${tensor}buf`, base));
}

/** phi of the row at `row` (an element index) into `target(f)` for every feature f. */
function phiOfRow(
  b: BlockBuilder,
  shape: LinearShape,
  row: Expr,
  load: string,
  tag: string,
  target: (f: Expr) => Expr,
): void {
  if (shape.map.kind === 'favor') favorRowPrelude(b, shape, row, load, tag);
  phiBlock(b, shape, { t0w: u32(0), row, load, tag, target });
}

/** Loop iterations of `phiOfRow`: the feature loop, and FAVOR+'s row and projection loops. */
function phiLoopIterations(shape: LinearShape): number {
  const D = shape.attention.headDim;
  const F = featureDim(shape.map, D);
  return shape.map.kind === 'favor' ? D + 1 + F * (D + 2) + 1 : F + 1;
}

/**
 * `stage_keys`: one invocation per (batch, kv head, token of the chunk): phi(k) and v, f32,
 * into the token's row of `chunk` ([B, KV_HEADS, T, CW]).
 */
function stageKeysKernel(shape: LinearShape): Kernel {
  const { attention, group } = shape;
  const k = new KernelBuilder(WORKGROUP);
  k.header(
    `attnc cache: recurrent state of attention ${attention.name}, group ${group.name}, phi ${shape.map.kind}: stage a chunk's phi(k) and v`,
  );
  k.consts(constants(shape));
  k.uniform('seqK', 'seqK');
  k.uniform('total', size.mul('batch', group.kvHeads, 'seqK'));
  phiSetup(k, shape, 'k', 'ldK');
  k.uniform('vBase', 0);
  k.storage(2, 'vbuf', 'read', linearCodec(shape).stored);
  k.function(loadFunction(shape, 'ldV', 'vbuf', 'vBase'));
  if (shape.map.kind === 'favor') k.storage(3, 'lin', 'read', T.f32);
  const chunk = k.storage(shape.map.kind === 'favor' ? 4 : 3, 'chunk', 'read_write', T.f32);
  const x = k.gridIndex('invocation', 'x', 'total');
  k.main((b) => {
    b.comment('x = (b * KV_HEADS + local kv head) * T + token.');
    const j = b.let('j', mod(x, uniform('seqK')));
    const bk = b.let('bk', div(x, uniform('seqK')));
    const hk = b.let('hk', add('KV_HEAD_OFFSET', mod(bk, 'KV_HEADS')));
    const batch = b.let('b', div(bk, 'KV_HEADS'));
    const out = b.let('out', mul(x, 'CW'));
    const kRow = b.let(
      'krow',
      rowIndex(attention.layout, 'TOTAL_KV_HEADS', uniform('seqK'), 'D', batch, hk, j),
    );
    // phi(k) goes straight into the chunk: the staged row is what fold and attend read.
    phiOfRow(b, shape, kRow, 'ldK', 'K', (f) => index(chunk, add(out, f)));
    const vRow = b.let(
      'vrow',
      rowIndex(attention.layout, 'TOTAL_KV_HEADS', uniform('seqK'), 'DV', batch, hk, j),
    );
    b.for(
      'd',
      u32(0),
      (d) => lt(d, 'DV'),
      (body, d) => body.store(chunk, add(out, 'DPHI', d), call('ldV', add(vRow, d))),
      { oneLine: true },
    );
  });
  return { ...k.build(), loopIterations: phiLoopIterations(shape) + attention.valueDim + 1 };
}

/**
 * `fold`: one invocation per (batch, kv head, feature, column): column c < DV adds
 * sum_t phi(k_t)_f v_t[c] to S[f][c]; column DV adds sum_t phi(k_t)_f to z[f].
 */
function foldKernel(shape: LinearShape): Kernel {
  const { attention, group } = shape;
  const k = new KernelBuilder(WORKGROUP);
  k.header(
    `attnc cache: recurrent state of attention ${attention.name}, group ${group.name}: fold a staged chunk into S and z`,
  );
  k.consts(constants(shape));
  k.uniform('seqK', 'seqK');
  k.uniform(
    'total',
    size.mul(
      'batch',
      group.kvHeads,
      featureDim(shape.map, attention.headDim),
      attention.valueDim + 1,
    ),
  );
  const chunk = k.storage(1, 'chunk', 'read', T.f32);
  const state = k.storage(2, 'state', 'read_write', T.f32);
  const x = k.gridIndex('invocation', 'x', 'total');
  k.main((b) => {
    b.comment('x = ((b * KV_HEADS + local kv head) * DPHI + feature) * (DV + 1) + column.');
    const c = b.let('c', mod(x, add('DV', u32(1))));
    const fx = b.let('fx', div(x, add('DV', u32(1))));
    const f = b.let('f', mod(fx, 'DPHI'));
    const bk = b.let('bk', div(fx, 'DPHI'));
    const first = b.let('first', mul(bk, uniform('seqK'), 'CW'));
    const sum = b.var('sum', f32(0));
    b.for(
      't',
      u32(0),
      (t) => lt(t, uniform('seqK')),
      (body, t) => {
        const row = body.let('row', add(first, mul(t, 'CW')));
        const value = select(f32(1), index(chunk, add(row, 'DPHI', c)), lt(c, 'DV'));
        body.compound(sum, '+=', mul(index(chunk, add(row, f)), value));
      },
    );
    const slot = b.let('slot', mul(bk, 'STATE'));
    const at = b.let('at', select(add(slot, 'ZOFF', f), add(slot, mul(f, 'DV'), c), lt(c, 'DV')));
    b.store(state, at, add(index(state, at), sum));
  });
  return { ...k.build(), loopIterations: size.add('seqK', 1) };
}

/** `stage_queries`: one invocation per (batch, head, query row): phi(q) into `qphi`. */
function stageQueriesKernel(shape: LinearShape): Kernel {
  const { attention, group } = shape;
  const k = new KernelBuilder(WORKGROUP);
  k.header(
    `attnc cache: recurrent state of attention ${attention.name}, group ${group.name}, phi ${shape.map.kind}: phi of the queries`,
  );
  k.consts(constants(shape));
  k.uniform('seqQ', 'seqQ');
  k.uniform('total', size.mul('batch', group.heads, 'seqQ'));
  phiSetup(k, shape, 'q', 'ldQ');
  if (shape.map.kind === 'favor') k.storage(2, 'lin', 'read', T.f32);
  const qphi = k.storage(shape.map.kind === 'favor' ? 3 : 2, 'qphi', 'read_write', T.f32);
  const x = k.gridIndex('invocation', 'x', 'total');
  k.main((b) => {
    b.comment('x = (b * HEADS + local head) * rows + row.');
    const i = b.let('i', mod(x, uniform('seqQ')));
    const bh = b.let('bh', div(x, uniform('seqQ')));
    const h = b.let('h', add('HEAD_OFFSET', mod(bh, 'HEADS')));
    const batch = b.let('b', div(bh, 'HEADS'));
    const out = b.let('out', mul(x, 'DPHI'));
    const qRow = b.let(
      'qrow',
      rowIndex(attention.layout, 'TOTAL_HEADS', uniform('seqQ'), 'D', batch, h, i),
    );
    phiOfRow(b, shape, qRow, 'ldQ', 'Q', (f) => index(qphi, add(out, f)));
  });
  return { ...k.build(), loopIterations: phiLoopIterations(shape) };
}

/**
 * `attend`: one invocation per word of o (one value, or two packed halves under f16) of
 * (batch, head, query row): the row's query at chunk position p = T - rows + i reads the state
 * before the chunk and the chunk's tokens 0..p:
 * o = (phi(q)·S + sum_t (phi(q)·phi(k_t)) v_t) / (phi(q)·z + sum_t phi(q)·phi(k_t) + 1e-6).
 */
function attendKernel(shape: LinearShape): Kernel {
  const { attention, group } = shape;
  const codec = linearCodec(shape);
  const perWord = codec.valuesPerWord;
  const half = perWord === 2;
  const k = new KernelBuilder(WORKGROUP);
  k.header(
    `attnc cache: recurrent state of attention ${attention.name}, group ${group.name}: attend the queries to the state and their chunk`,
  );
  k.consts(constants(shape));
  k.const('EPW', T.u32, u32(perWord), ['Values of o per stored word (two halves under f16).']);
  k.const('DVWORDS', T.u32, u32(attention.valueDim / perWord));
  k.const('EPSILON', T.f32, f32(LINEAR_EPSILON), [
    'The kernelized family adds it to every denominator (language.md section 6).',
  ]);
  k.uniform('seqQ', 'seqQ');
  k.uniform('seqK', 'seqK');
  k.uniform('total', size.mul('batch', group.heads, 'seqQ', attention.valueDim / perWord));
  const state = k.storage(1, 'state', 'read', T.f32);
  const chunk = k.storage(2, 'chunk', 'read', T.f32);
  const qphi = k.storage(3, 'qphi', 'read', T.f32);
  const o = k.storage(4, 'obuf', 'read_write', codec.stored);
  const x = k.gridIndex('invocation', 'x', 'total');
  k.main((b) => {
    b.comment('x = ((b * HEADS + local head) * rows + row) * DVWORDS + word.');
    const w = b.let('w', mod(x, 'DVWORDS'));
    const row = b.let('row', div(x, 'DVWORDS'));
    const i = b.let('i', mod(row, uniform('seqQ')));
    const bh = b.let('bh', div(row, uniform('seqQ')));
    const local = b.let('lh', mod(bh, 'HEADS'));
    const batch = b.let('b', div(bh, 'HEADS'));
    const bk = b.let('bk', add(mul(batch, 'KV_HEADS'), div(local, 'GROUP_SIZE')));
    const slot = b.let('slot', mul(bk, 'STATE'));
    const q0 = b.let('q0', mul(row, 'DPHI'));
    const d0 = b.let('d0', mul(w, 'EPW'));
    const vec = half ? T.vec(2, 'f32') : T.f32;
    const zero = half ? call('vec2f', f32(0)) : f32(0);
    /** The f32 values of one word of o, from consecutive f32s of `buffer` at `at`. */
    const values = (buffer: string, at: Operand): Expr =>
      half ? call('vec2f', index(buffer, at), index(buffer, add(at, u32(1)))) : index(buffer, at);
    const num = b.var('num', zero, vec);
    const den = b.var('den', f32(0));
    b.comment('The state before the chunk.');
    b.for(
      'f',
      u32(0),
      (f) => lt(f, 'DPHI'),
      (body, f) => {
        const p = body.let('p', index(qphi, add(q0, f)));
        body.compound(num, '+=', mul(p, values(state, add(slot, mul(f, 'DV'), d0))));
        body.compound(den, '+=', mul(p, index(state, add(slot, 'ZOFF', f))));
      },
    );
    b.comment("The chunk's tokens up to the query's own position.");
    const first = b.let('first', mul(bk, uniform('seqK'), 'CW'));
    const last = b.let('last', add(sub(uniform('seqK'), uniform('seqQ')), i));
    b.for(
      't',
      u32(0),
      (t) => binary('<=', t, last),
      (body, t) => {
        const kr = body.let('kr', add(first, mul(t, 'CW')));
        const s = body.var('s', f32(0));
        body.for(
          'f',
          u32(0),
          (f) => lt(f, 'DPHI'),
          (inner, f) =>
            inner.compound(s, '+=', mul(index(qphi, add(q0, f)), index(chunk, add(kr, f)))),
          { oneLine: true },
        );
        body.compound(num, '+=', mul(s, values(chunk, add(kr, 'DPHI', d0))));
        body.compound(den, '+=', s);
      },
    );
    const result = b.let('r', div(num, add(den, 'EPSILON')));
    const h = b.let('h', add('HEAD_OFFSET', local));
    const at = b.let(
      'at',
      add(rowIndex(attention.layout, 'TOTAL_HEADS', uniform('seqQ'), 'DVWORDS', batch, h, i), w),
    );
    b.store(o, at, codec.word(result));
  });
  const F = featureDim(shape.map, attention.headDim);
  // The state's feature loop, then per token of the chunk a step and its feature loop.
  const loopIterations = size.add(F + 2, size.mul('seqK', F + 2));
  return { ...k.build(), loopIterations };
}
