// Nystromformer kernels (the small softmax products are lowrank-attend.ts):
//  - landmarks: invocation (b, head, t) averages segment t of q (its head) and of k (its kv
//    head), `[floor(t N / m), floor((t+1) N / m))`, into `[B, H, m, 2 D]` (Ql then Kl; f32
//    even under dtype f16, where q and k rows are unpacked on load);
//  - pinv: a chain of small kernels builds `A = softmax(scale Ql Kl^T)` (m x m), runs the
//    iterative pseudo-inverse of src/reference/lowrank.ts on it and multiplies the landmark
//    values: `mixed = pinv(A) (softmax(scale Ql K^T) V)`. The m x m matrices live in storage
//    (six of them: 96 KiB at m = 64, beyond portable workgroup memory). O(m^3 iters) per
//    head: small next to the O(N m D) of the other kernels.

import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import {
  abs,
  add,
  call,
  construct,
  div,
  eq,
  f32,
  ge,
  index,
  lt,
  max,
  mod,
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
import { rowStart, type TensorLayout } from '../../kernel/blocks/layout.js';
import type { Expr, Kernel } from '../../kernel/ir.js';
import {
  type ArrayPlace,
  bufferView,
  declareBuffers,
  type GroupShape,
  type KernelBuffer,
  LOWEST_SCORE,
  lowRankKernel,
  LOWRANK_WORKGROUP,
  totalOf,
  tensorUnitWords,
} from './lowrank-blocks.js';

export interface LandmarkArrays {
  readonly q: ArrayPlace;
  readonly k: ArrayPlace;
  readonly landmarks: ArrayPlace;
}

const oneLine = { oneLine: true };

export function nystromLandmarksKernel(
  shape: GroupShape,
  layout: TensorLayout,
  landmarks: number,
  buffers: readonly KernelBuffer[],
  arrays: LandmarkArrays,
): Kernel {
  const W = shape.width;
  const unit = tensorUnitWords(shape);
  const { k, main, build } = lowRankKernel(
    'nystrom landmarks (segment means)',
    shape,
    totalOf(shape.heads, landmarks),
    {
      name: 'tiles',
      value: Math.ceil(landmarks / LOWRANK_WORKGROUP),
    },
  );
  const seqQ = k.uniform('seqQ', 'seqQ');
  const seqK = k.uniform('seqK', 'seqK');
  const qBase = k.uniform('qBase', size.ceilDiv(arrays.q.base, unit));
  const kBase = k.uniform('kBase', size.ceilDiv(arrays.k.base, unit));
  const outBase = k.uniform('landmarksBase', size.ceilDiv(arrays.landmarks.base, W));
  declareBuffers(k, buffers);
  const M = k.constBeforeMain('M', T.u32, u32(landmarks));
  const vec = W === 4 ? T.vec(4, 'f32') : T.f32;
  const zero = W === 4 ? construct(vec, f32(0)) : f32(0);
  const view = (name: string) => bufferView(buffers, name);
  const out = view(arrays.landmarks.buffer);

  /** Averages rows [t N / M, (t + 1) N / M) of one head into `out + offset + d`. */
  const segmentMean = (
    b: BlockBuilder,
    from: { view: string; base: Expr; head: string; heads: string; seq: Expr },
    ends: [string, string],
    offset: Operand | null,
  ) => {
    const source = view(from.view);
    b.range('d', 'DW', (body, d) => body.assign(index('sum', d), zero), oneLine);
    const first = b.let(ends[0], div(mul('t', from.seq), M));
    const last = b.let(ends[1], div(mul(add('t', u32(1)), from.seq), M));
    b.for(
      'n',
      first,
      (n) => lt(n, last),
      (body, n) => {
        const place = { batch: 'b', head: from.head, heads: from.heads, seq: from.seq, row: n };
        const r = body.let('r', rowStart(layout, from.base, place, 'DW'));
        body.range(
          'd',
          'DW',
          (inner, d) => inner.compound(index('sum', d), '+=', source.load(add(r, d))),
          oneLine,
        );
      },
    );
    const at = (d: Expr) => (offset === null ? add('out', d) : add('out', offset, d));
    const mean = (d: Expr) => div(index('sum', d), construct(T.f32, sub(last, first)));
    b.range('d', 'DW', (body, d) => out.store(body, at(d), mean(d)), oneLine);
  };

  main((b) => {
    const hl = b.let('hl', mod('bh', 'HEADS'));
    b.let('b', div('bh', 'HEADS'));
    b.let('h', add('HEAD_OFFSET', hl));
    b.let('hk', add('KV_HEAD_OFFSET', div(hl, 'GROUP_SIZE')));
    const t = b.let('t', add(mul('tile', 'WG'), 'lid'));
    b.returnIf(ge(t, M));
    b.var('sum', undefined, T.array(vec, 'DW'));
    b.let('out', add(outBase, mul(add(mul(add(mul('b', 'HEADS'), hl), M), t), u32(2), 'DW')));
    b.comment(
      'Segment t of N rows: [floor(t N / M), floor((t + 1) N / M)); the runtime checks N >= M.',
    );
    const q = { view: arrays.q.buffer, base: qBase, head: 'h', heads: 'TOTAL_HEADS', seq: seqQ };
    segmentMean(b, q, ['qa', 'qb'], null);
    const kk = {
      view: arrays.k.buffer,
      base: kBase,
      head: 'hk',
      heads: 'TOTAL_KV_HEADS',
      seq: seqK,
    };
    segmentMean(b, kk, ['ka', 'kb'], 'DW');
  });
  return build();
}

export interface PinvArrays {
  /** All in one f32 buffer (word offsets). */
  readonly landmarks: SizeExpr;
  readonly landmarkValues: SizeExpr;
  readonly work: SizeExpr;
  readonly mixed: SizeExpr;
}

/** Words of pinv scratch per (batch, head): A, Z (twice), AZ, T, U, and two m-vectors. */
export function pinvWorkWords(landmarks: number): number {
  return 6 * landmarks * landmarks + 2 * landmarks;
}

/** One kernel of the pseudo-inverse chain; `name` is unique within the group. */
export interface PinvKernel {
  readonly name: string;
  readonly kernel: Kernel;
}

/** The chain's kernels, each built once, and the order to dispatch them (names repeat). */
export interface PinvChain {
  readonly kernels: readonly PinvKernel[];
  readonly dispatches: readonly string[];
}

interface PinvContext {
  readonly shape: GroupShape;
  readonly landmarks: number;
  readonly buffer: KernelBuffer;
  readonly arrays: PinvArrays;
}

/**
 * One kernel of the chain: invocation `x` of `items` per (batch, head) `bh`, with `work` the
 * start of that head's scratch (the matrices at the constant offsets A, Z0, ... in it).
 */
function pinvKernel(
  c: PinvContext,
  title: string,
  items: number,
  body: (b: BlockBuilder, x: Expr) => void,
): Kernel {
  const m = c.landmarks;
  const { k, main, build } = lowRankKernel(
    `nystrom pseudo-inverse: ${title}`,
    c.shape,
    totalOf(c.shape.heads, items),
    { name: 'tiles', value: Math.ceil(items / LOWRANK_WORKGROUP) },
  );
  k.uniform('landmarksBase', c.arrays.landmarks);
  k.uniform('valuesBase', c.arrays.landmarkValues);
  const workBase = k.uniform('workBase', c.arrays.work);
  k.uniform('mixedBase', c.arrays.mixed);
  declareBuffers(k, [c.buffer]);
  const constants: [string, number][] = [
    ['M', m],
    ['D', c.shape.headDim],
    ['DV', c.shape.valueDim],
    ['A', 0],
    ['Z0', m * m],
    ['Z1', 2 * m * m],
    ['AZ', 3 * m * m],
    ['T', 4 * m * m],
    ['U', 5 * m * m],
    ['rowSum', 6 * m * m],
    ['colSum', 6 * m * m + m],
  ];
  for (const [name, value] of constants) k.constBeforeMain(name, T.u32, u32(value));
  main((b) => {
    const x = b.let('x', add(mul('tile', 'WG'), 'lid'));
    b.returnIf(ge(x, u32(items)));
    b.let('work', add(workBase, mul('bh', u32(pinvWorkWords(m)))));
    body(b, x);
  });
  return build();
}

export function nystromPinvChain(
  shape: GroupShape,
  scale: number,
  landmarks: number,
  iters: number,
  buffer: KernelBuffer,
  arrays: PinvArrays,
): PinvChain {
  const c: PinvContext = { shape, landmarks, buffer, arrays };
  const parities = (['even', 'odd'] as const).slice(0, Math.min(iters, 2));
  const kernels: PinvKernel[] = [
    ...pinvStart(c, scale),
    ...parities.flatMap((parity) => pinvIteration(c, parity)),
    pinvMix(c, iters % 2 === 0 ? 'Z0' : 'Z1'),
  ];
  const iteration = (parity: string) => ['az', 't', 'u', 'z'].map((p) => `${parity}.${p}`);
  const dispatches = [
    'kernel2',
    'colsum',
    'z0',
    ...Array.from({ length: iters }, (_, step) =>
      iteration(step % 2 === 0 ? 'even' : 'odd'),
    ).flat(),
    'mix',
  ];
  return { kernels, dispatches };
}

/** Element (i, j) of an m x m matrix in this head's scratch: `s[work + matrix + (i) * M + j]`. */
function matrixAt(c: PinvContext) {
  const at = (matrix: string, i: Operand, j: Operand) => add('work', matrix, mul(paren(i), 'M'), j);
  return {
    load: (matrix: string, i: Operand, j: Operand) => index(c.buffer.name, at(matrix, i, j)),
    store: (b: BlockBuilder, matrix: string, i: Operand, j: Operand, value: Operand) =>
      b.store(c.buffer.name, at(matrix, i, j), value),
  };
}

type MatrixAt = ReturnType<typeof matrixAt>;

/** A = softmax(scale Ql Kl^T) with its row and column sums of |A|, then Z0 from them. */
function pinvStart(c: PinvContext, scale: number): PinvKernel[] {
  const s = c.buffer.name;
  const m = c.landmarks;
  const A = matrixAt(c);
  return [
    {
      name: 'kernel2',
      kernel: pinvKernel(c, 'A = softmax(scale Ql Kl^T), row sums', m, (b, x) =>
        softmaxRows(b, x, s, scale, A),
      ),
    },
    {
      name: 'colsum',
      kernel: pinvKernel(c, 'column sums of |A|', m, (b, x) => {
        const sum = b.var('c', f32(0));
        b.range('i', 'M', (body, i) => body.compound(sum, '+=', abs(A.load('A', i, x))), oneLine);
        b.store(s, add('work', 'colSum', x), sum);
      }),
    },
    {
      name: 'z0',
      kernel: pinvKernel(c, 'Z0 = A^T / (max column sum * max row sum)', m * m, (b, x) => {
        const maxRow = b.var('maxRow', f32(0));
        const maxCol = b.var('maxCol', f32(0));
        b.range('i', 'M', (body, i) => {
          body.assign(maxRow, max(maxRow, index(s, add('work', 'rowSum', i))));
          body.assign(maxCol, max(maxCol, index(s, add('work', 'colSum', i))));
        });
        const transposed = A.load('A', mod(x, 'M'), div(x, 'M'));
        b.store(s, add('work', 'Z0', x), div(transposed, mul(maxRow, maxCol)));
      }),
    },
  ];
}

/** `result = factor * left (diag I - right)` (`diag` null: `left right`). */
interface Product {
  readonly result: string;
  readonly left: string;
  readonly right: string;
  readonly diag: number | null;
  readonly factor?: number;
}

/** One iteration of the pseudo-inverse on Z0 (even) or Z1 (odd), into the other. */
function pinvIteration(c: PinvContext, parity: 'even' | 'odd'): PinvKernel[] {
  const z = parity === 'even' ? 'Z0' : 'Z1';
  const next = parity === 'even' ? 'Z1' : 'Z0';
  const which = `${parity} iterations`;
  const step = (part: string, title: string, product: Product): PinvKernel => ({
    name: `${parity}.${part}`,
    kernel: pinvKernel(c, `${which}: ${title}`, c.landmarks * c.landmarks, (b, x) =>
      matmulElement(b, x, c, product),
    ),
  });
  return [
    step('az', 'AZ = A Z', { result: 'AZ', left: 'A', right: z, diag: null }),
    step('t', 'T = AZ (7 I - AZ)', { result: 'T', left: 'AZ', right: 'AZ', diag: 7 }),
    step('u', 'U = AZ (15 I - T)', { result: 'U', left: 'AZ', right: 'T', diag: 15 }),
    step('z', "Z' = 0.25 Z (13 I - U)", {
      result: next,
      left: z,
      right: 'U',
      diag: 13,
      factor: 0.25,
    }),
  ];
}

/** Element x of a product (row x / M, column x % M). */
function matmulElement(b: BlockBuilder, x: Expr, c: PinvContext, product: Product): void {
  const M = matrixAt(c);
  const i = b.let('i', div(x, 'M'));
  const j = b.let('j', mod(x, 'M'));
  const acc = b.var('acc', f32(0));
  const right = (k: Expr) => M.load(product.right, k, j);
  const term = (k: Expr) =>
    product.diag === null ? right(k) : sub(select(f32(0), f32(product.diag), eq(k, j)), right(k));
  const step = (b: BlockBuilder, k: Expr) =>
    b.compound(acc, '+=', mul(M.load(product.left, i, k), paren(term(k))));
  b.range('k', 'M', step, oneLine);
  const factor = product.factor ?? 1;
  b.store(
    c.buffer.name,
    add('work', product.result, x),
    factor === 1 ? acc : mul(f32(factor), acc),
  );
}

/** mixed = Z (landmark values), element x. */
function pinvMix(c: PinvContext, z: string): PinvKernel {
  const s = c.buffer.name;
  const M = matrixAt(c);
  const items = c.landmarks * c.shape.valueDim;
  return {
    name: 'mix',
    kernel: pinvKernel(c, 'mixed = Z (landmark values)', items, (b, x) => {
      const i = b.let('i', div(x, 'DV'));
      const col = b.let('c', mod(x, 'DV'));
      const values = b.let('values', add(uniform('valuesBase'), mul('bh', 'M', 'DV')));
      const acc = b.var('acc', f32(0));
      const value = (k: Expr) => index(s, add(values, mul(k, 'DV'), col));
      const step = (body: BlockBuilder, k: Expr) =>
        body.compound(acc, '+=', mul(M.load(z, i, k), value(k)));
      b.range('k', 'M', step, oneLine);
      b.store(s, add(uniform('mixedBase'), mul('bh', 'M', 'DV'), x), acc);
    }),
  };
}

/** Row x of `A = softmax(scale Ql Kl^T)` into A, and the row's sum of |A| into rowSum. */
function softmaxRows(b: BlockBuilder, x: Expr, s: string, scale: number, A: MatrixAt): void {
  const i = b.let('i', x);
  const landmark = (row: Operand) =>
    add(uniform('landmarksBase'), mul(add(mul('bh', 'M'), row), u32(2), 'D'));
  const overRow = (body: (b: BlockBuilder, j: Expr) => void) => b.range('j', 'M', body);
  const ql = b.let('ql', landmark(i));
  const mx = b.var('mx', LOWEST_SCORE);
  overRow((body, j) => {
    const kl = body.let('kl', add(landmark(j), 'D'));
    const acc = body.var('acc', f32(0));
    const product = (d: Expr) => mul(index(s, add(ql, d)), index(s, add(kl, d)));
    body.range('d', 'D', (inner, d) => inner.compound(acc, '+=', product(d)), oneLine);
    const sc = body.let('sc', mul(acc, f32(scale)));
    A.store(body, 'A', i, j, sc);
    body.assign(mx, max(mx, sc));
  });
  const total = b.var('total', f32(0));
  overRow((body, j) => {
    const p = body.let('p', call('exp', sub(A.load('A', i, j), mx)));
    A.store(body, 'A', i, j, p);
    body.compound(total, '+=', p);
  });
  const sumAbs = b.var('sumAbs', f32(0));
  overRow((body, j) => {
    const p = body.let('p', div(A.load('A', i, j), total));
    A.store(body, 'A', i, j, p);
    body.compound(sumAbs, '+=', abs(p));
  });
  b.store(s, add('work', 'rowSum', i), sumAbs);
}
