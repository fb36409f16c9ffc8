// Kernel IR blocks of the linear-attention kernels: the group's constants, loads of q/k/v in
// units of the plan's vector width W (f32, or f16 halves packed two per u32), row addressing
// for both layouts, and the feature map phi on W features at a time (elu1, relu, FAVOR+).
// phi is only ever computed into registers or workgroup memory, never into a storage buffer.
// The states and output kernels build on these.

import { featureDim } from '../../ir/ir.js';
import {
  add,
  call,
  construct,
  f32,
  gt,
  index,
  lt,
  max,
  min,
  mul,
  paren,
  select,
  sub,
  T,
  u32,
  uniform,
  type BlockBuilder,
  type Operand,
} from '../../kernel/build.js';
import type { Expr, HelperFunction, KernelConst, Type } from '../../kernel/ir.js';
import { wordCodec, type WordCodec } from '../../kernel/blocks/row-codec.js';
import type { LinearShape } from '../linear-shape.js';
import { slotWords } from '../linear-shape.js';

/** The plan's vector type and its zero. */
export function linearVector(shape: LinearShape): { vec: Type; zero: Expr } {
  return shape.plan.vectorWidth === 4
    ? { vec: T.vec(4, 'f32'), zero: construct(T.vec(4, 'f32'), f32(0)) }
    : { vec: T.f32, zero: f32(0) };
}

/** A dot product that also works on scalars (`(a * b)`). */
export function linearDot(shape: LinearShape, a: Operand, b: Operand): Expr {
  return shape.plan.vectorWidth === 4 ? call('dot', a, b) : paren(mul(a, b));
}

/** A u32 constant of the family's kernels, with its doc line. */
export function u32Const(name: string, value: number, doc?: string): KernelConst {
  return { name, type: T.u32, value: u32(value), ...(doc ? { doc: [doc] } : {}) };
}

export function linearConstants(shape: LinearShape): KernelConst[] {
  const { attention, group, plan, map } = shape;
  const features = featureDim(map, attention.headDim);
  const W = plan.vectorWidth;
  const list = [
    u32Const('W', W),
    u32Const('D', attention.headDim),
    u32Const('DV', attention.valueDim),
    u32Const('DPHI', features),
    u32Const('DW', attention.headDim / W),
    u32Const('DVW', attention.valueDim / W),
    u32Const('DPHIW', features / W),
    u32Const(
      'SLOT',
      slotWords(features, attention.valueDim) / W,
      'One state slot in vectors: S (DPHI rows of DVW) then z (DPHIW).',
    ),
    u32Const('ZOFF', (features * attention.valueDim) / W),
    u32Const('C', plan.chunk),
    u32Const('F', plan.featureBlock),
    u32Const('FW', plan.featureBlock / W),
    u32Const('HEADS', group.heads),
    u32Const('KV_HEADS', group.kvHeads),
    u32Const('GROUP_SIZE', group.heads / group.kvHeads),
    u32Const('HEAD_OFFSET', group.headOffset),
    u32Const('KV_HEAD_OFFSET', group.kvHeadOffset),
    u32Const('TOTAL_HEADS', attention.heads),
    u32Const('TOTAL_KV_HEADS', attention.kvHeads),
  ];
  if (map.kind === 'favor')
    list.push(
      {
        name: 'IN_SCALE',
        type: T.f32,
        value: f32(Math.pow(attention.headDim, -0.25)),
        doc: [
          "FAVOR+: x' = x D^(-1/4); phi(x)_t = exp(W_t·x' - |x'|^2/2) / sqrt(m) (no stabilizer, as the reference).",
        ],
      },
      { name: 'OUT_SCALE', type: T.f32, value: f32(1 / Math.sqrt(map.features)) },
    );
  return list;
}

/** How the group's q/k/v/o are stored, read W values at a time (row-codec.ts). */
export function linearCodec(shape: LinearShape): WordCodec {
  return wordCodec(shape.attention.dtype, shape.plan.vectorWidth);
}

/** Element type of a q/k/v/o binding (u32 words of packed halves under f16) or a state one. */
export function linearElement(shape: LinearShape, kind: 'tensor' | 'state'): Type {
  return kind === 'tensor' ? linearCodec(shape).stored : linearVector(shape).vec;
}

/**
 * `fn NAME(e: u32) -> VEC`: vector `e` (in units of W elements) of a tensor whose offset is the
 * uniform `base` (vectors under f32, words under f16).
 */
export function loadFunction(
  shape: LinearShape,
  name: string,
  buffer: string,
  base: string,
): HelperFunction {
  return linearCodec(shape).loader(name, buffer, uniform(base));
}

export interface PhiBlock {
  readonly t0w: Operand;
  readonly row: Operand;
  /** The load function of the row's tensor (`loadFunction`). */
  readonly load: string;
  /** Suffix of the FAVOR+ row prelude's names (`xK`, `halfNormK`). */
  readonly tag: string;
  /** Where phi vector `fw` of the block goes. */
  readonly target: (fw: Expr) => Expr;
}

/**
 * The phi vectors `t0w + fw` (fw < FW, in units of W features) of a row, each assigned to
 * `target(fw)`. Elementwise maps read vector `t` of the row through `load`; FAVOR+ needs the
 * row in `x<tag>` and its `halfNorm<tag>` (`favorRowPrelude`), and reads W from `lin` at
 * `P.wBase`. Vectors past DPHIW (a partial last block) are 0, so they add nothing.
 */
export function phiBlock(b: BlockBuilder, shape: LinearShape, o: PhiBlock): void {
  const { map, plan, attention } = shape;
  const partial = featureDim(map, attention.headDim) % plan.featureBlock !== 0;
  const { vec, zero } = linearVector(shape);
  b.for(
    'fw',
    u32(0),
    (fw) => lt(fw, uniform('featureRows')),
    (body, fw) => {
      const t = body.let('t', add(o.t0w, fw));
      const guard = (value: Expr) => (partial ? select(zero, value, lt(t, 'DPHIW')) : value);
      const clamped = partial ? min(t, sub('DPHIW', u32(1))) : t;
      const put = (value: Expr) => body.assign(o.target(fw), guard(value));
      switch (map.kind) {
        case 'elu1': {
          const x = body.let('x', call(o.load, add(o.row, clamped)));
          return put(select(call('exp', x), add(x, f32(1)), gt(x, zero)));
        }
        case 'relu': {
          const x = body.let('x', call(o.load, add(o.row, clamped)));
          return put(max(x, zero));
        }
        case 'favor': {
          const w0 = body.let('w0', add(uniform('wBase'), mul(clamped, 'W', 'DW')));
          const s = body.var('s', zero);
          favorProjection(body, shape, w0, s, `x${o.tag}`);
          const scaled = sub(mul(s, 'IN_SCALE'), construct(vec, `halfNorm${o.tag}`));
          return put(mul(call('exp', scaled), 'OUT_SCALE'));
        }
        default: {
          const never: never = map;
          throw new Error(`internal error: feature map ${JSON.stringify(never)}`);
        }
      }
    },
  );
}

/** s += W_t · x for the W features of one phi vector (rows of W at `w0`, DW apart). */
function favorProjection(b: BlockBuilder, shape: LinearShape, w0: Expr, s: Expr, x: string) {
  const lin = (row: Operand) => index('lin', row);
  if (shape.plan.vectorWidth !== 4)
    return b.for(
      'x',
      u32(0),
      (i) => lt(i, 'DW'),
      (body, i) => {
        body.compound(s, '+=', mul(lin(add(w0, i)), index(x, i)));
      },
      { oneLine: true },
    );
  b.for(
    'x',
    u32(0),
    (i) => lt(i, 'DW'),
    (body, i) => {
      const xv = body.let('xv', index(x, i));
      const rowOf = (k: number) =>
        k === 0 ? add(w0, i) : add(w0, k === 1 ? 'DW' : mul(u32(k), 'DW'), i);
      const dots = [0, 1, 2, 3].map((k) => call('dot', lin(rowOf(k)), xv));
      body.compound(s, '+=', construct(T.vec(4, 'f32'), ...dots));
    },
  );
}

/** FAVOR+ only: the row into `x<tag>` (DW vectors) and `halfNorm<tag> = |x'|^2 / 2`. */
export function favorRowPrelude(
  b: BlockBuilder,
  shape: LinearShape,
  row: Operand,
  load: string,
  tag: string,
): void {
  const { vec } = linearVector(shape);
  const xs = b.var(`x${tag}`, undefined, T.array(vec, 'DW'));
  const norm = b.var(`norm${tag}`, f32(0));
  b.for(
    'd',
    u32(0),
    (d) => lt(d, 'DW'),
    (body, d) => {
      const x = body.let('x', call(load, add(row, d)));
      body.assign(index(xs, d), x);
      body.compound(norm, '+=', linearDot(shape, x, x));
    },
    { oneLine: true },
  );
  b.let(`halfNorm${tag}`, mul(norm, 'IN_SCALE', 'IN_SCALE', f32(0.5)));
}
