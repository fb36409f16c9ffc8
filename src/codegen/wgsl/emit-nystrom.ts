// Nystromformer kernels (the small softmax products use emit-lowrank-attend.ts):
//  - landmarks: invocation (b, head, t) averages segment t of q (its head) and of k (its kv
//    head), `[floor(t N / m), floor((t+1) N / m))`, into `[B, H, m, 2 D]` (Ql then Kl; f32
//    even under dtype f16, where q and k rows are unpacked on load);
//  - pinv: a chain of small kernels builds `A = softmax(scale Ql Kl^T)` (m x m), runs the
//    iterative pseudo-inverse of src/reference/lowrank.ts on it and multiplies the landmark
//    values: `mixed = pinv(A) (softmax(scale Ql K^T) V)`. The m x m matrices live in storage
//    (six of them: 96 KiB at m = 64, beyond portable workgroup memory). O(m^3 iters) per
//    head: small next to the O(N m D) of the other kernels.

import type { SizeExpr } from '../plan.js';
import {
  type GroupShape,
  type KernelBuffer,
  kernelPrelude,
  loadFrom,
  type LowRankKernel,
  mainOpening,
  tensorRow,
  tensorUnitWords,
  totalOf,
  WORKGROUP,
} from './emit-lowrank-attend.js';
import { f32Lit } from '../../kernel/f32-literal.js';

export interface LandmarkArrays {
  readonly q: { readonly buffer: string; readonly base: SizeExpr };
  readonly k: { readonly buffer: string; readonly base: SizeExpr };
  readonly landmarks: { readonly buffer: string; readonly base: SizeExpr };
}

export function emitNystromLandmarks(
  shape: GroupShape,
  layout: 'bhnd' | 'bnhd',
  landmarks: number,
  buffers: readonly KernelBuffer[],
  arrays: LandmarkArrays,
): LowRankKernel {
  const W = shape.width;
  const vec = W === 4 ? 'vec4<f32>' : 'f32';
  const zero = W === 4 ? 'vec4<f32>(0.0)' : '0.0';
  const tensorUnit = tensorUnitWords(shape);
  const uniforms: { name: string; value: SizeExpr }[] = [
    { name: 'total', value: totalOf(shape.heads, landmarks) },
    { name: 'tiles', value: Math.ceil(landmarks / WORKGROUP) },
    { name: 'seqQ', value: 'seqQ' },
    { name: 'seqK', value: 'seqK' },
    { name: 'qBase', value: { op: 'ceilDiv', args: [arrays.q.base, tensorUnit] } },
    { name: 'kBase', value: { op: 'ceilDiv', args: [arrays.k.base, tensorUnit] } },
    { name: 'landmarksBase', value: { op: 'ceilDiv', args: [arrays.landmarks.base, W] } },
  ];
  const L = kernelPrelude('nystrom landmarks (segment means)', shape, uniforms, buffers);
  const q = arrays.q.buffer;
  const k = arrays.k.buffer;
  const out = arrays.landmarks.buffer;
  L.push(
    `const M: u32 = ${landmarks}u;`,
    '',
    ...mainOpening('tiles'),
    '  let hl = bh % HEADS;',
    '  let b = bh / HEADS;',
    '  let h = HEAD_OFFSET + hl;',
    '  let hk = KV_HEAD_OFFSET + hl / GROUP_SIZE;',
    '  let t = tile * WG + lid;',
    '  if (t >= M) { return; }',
    `  var sum: array<${vec}, DW>;`,
    '  let out = P.landmarksBase + ((b * HEADS + hl) * M + t) * 2u * DW;',
    '  // Segment t of N rows: [floor(t N / M), floor((t + 1) N / M)); the runtime checks N >= M.',
    `  for (var d = 0u; d < DW; d++) { sum[d] = ${zero}; }`,
    '  let qa = t * P.seqQ / M;',
    '  let qb = (t + 1u) * P.seqQ / M;',
    '  for (var n = qa; n < qb; n++) {',
    `    let r = ${tensorRow(layout, 'P.qBase', 'h', 'TOTAL_HEADS', 'P.seqQ', 'n', 'DW')};`,
    `    for (var d = 0u; d < DW; d++) { sum[d] += ${loadFrom(buffers, q, 'r + d')}; }`,
    '  }',
    `  for (var d = 0u; d < DW; d++) { ${out}[out + d] = sum[d] / f32(qb - qa); }`,
    `  for (var d = 0u; d < DW; d++) { sum[d] = ${zero}; }`,
    '  let ka = t * P.seqK / M;',
    '  let kb = (t + 1u) * P.seqK / M;',
    '  for (var n = ka; n < kb; n++) {',
    `    let r = ${tensorRow(layout, 'P.kBase', 'hk', 'TOTAL_KV_HEADS', 'P.seqK', 'n', 'DW')};`,
    `    for (var d = 0u; d < DW; d++) { sum[d] += ${loadFrom(buffers, k, 'r + d')}; }`,
    '  }',
    `  for (var d = 0u; d < DW; d++) { ${out}[out + DW + d] = sum[d] / f32(kb - ka); }`,
    '}',
  );
  return { wgsl: L.join('\n') + '\n', workgroupSize: WORKGROUP, uniforms };
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
  readonly kernel: LowRankKernel;
}

/** The chain's kernels, each emitted once, and the order to dispatch them (names repeat). */
export interface PinvChain {
  readonly kernels: readonly PinvKernel[];
  readonly dispatches: readonly string[];
}

export function emitNystromPinv(
  shape: GroupShape,
  scale: number,
  landmarks: number,
  iters: number,
  buffer: KernelBuffer,
  arrays: PinvArrays,
): PinvChain {
  const m = landmarks;
  const s = buffer.name;
  const D = shape.headDim;
  const DV = shape.valueDim;
  const work = pinvWorkWords(m);
  const offsets = {
    A: 0,
    Z0: m * m,
    Z1: 2 * m * m,
    AZ: 3 * m * m,
    T: 4 * m * m,
    U: 5 * m * m,
    rowSum: 6 * m * m,
    colSum: 6 * m * m + m,
  };
  const kernel = (title: string, items: number, body: string[]): LowRankKernel => {
    const uniforms: { name: string; value: SizeExpr }[] = [
      { name: 'total', value: totalOf(shape.heads, items) },
      { name: 'tiles', value: Math.ceil(items / WORKGROUP) },
      { name: 'landmarksBase', value: arrays.landmarks },
      { name: 'valuesBase', value: arrays.landmarkValues },
      { name: 'workBase', value: arrays.work },
      { name: 'mixedBase', value: arrays.mixed },
    ];
    const L = kernelPrelude(`nystrom pseudo-inverse: ${title}`, shape, uniforms, [buffer]);
    L.push(
      `const M: u32 = ${m}u;`,
      `const D: u32 = ${D}u;`,
      `const DV: u32 = ${DV}u;`,
      ...Object.entries(offsets).map(([name, at]) => `const ${name}: u32 = ${at}u;`),
      '',
      ...mainOpening('tiles'),
      '  let x = tile * WG + lid;',
      `  if (x >= ${items}u) { return; }`,
      `  let work = P.workBase + bh * ${work}u;`,
      ...body.map((line) => `  ${line}`),
      '}',
    );
    return { wgsl: L.join('\n') + '\n', workgroupSize: WORKGROUP, uniforms };
  };
  const at = (matrix: string, i: string, j: string) => `${s}[work + ${matrix} + (${i}) * M + ${j}]`;
  const out: PinvKernel[] = [];
  out.push({
    name: 'kernel2',
    kernel: kernel('A = softmax(scale Ql Kl^T), row sums', m, [
      'let i = x;',
      'let ql = P.landmarksBase + (bh * M + i) * 2u * D;',
      'var mx = -3.0e38;',
      'for (var j = 0u; j < M; j++) {',
      '  let kl = P.landmarksBase + (bh * M + j) * 2u * D + D;',
      '  var acc = 0.0;',
      `  for (var d = 0u; d < D; d++) { acc += ${s}[ql + d] * ${s}[kl + d]; }`,
      `  let sc = acc * ${f32Lit(scale)};`,
      `  ${at('A', 'i', 'j')} = sc;`,
      '  mx = max(mx, sc);',
      '}',
      'var total = 0.0;',
      'for (var j = 0u; j < M; j++) {',
      `  let p = exp(${at('A', 'i', 'j')} - mx);`,
      `  ${at('A', 'i', 'j')} = p;`,
      '  total += p;',
      '}',
      'var sumAbs = 0.0;',
      'for (var j = 0u; j < M; j++) {',
      `  let p = ${at('A', 'i', 'j')} / total;`,
      `  ${at('A', 'i', 'j')} = p;`,
      '  sumAbs += abs(p);',
      '}',
      `${s}[work + rowSum + i] = sumAbs;`,
    ]),
  });
  out.push({
    name: 'colsum',
    kernel: kernel('column sums of |A|', m, [
      'var c = 0.0;',
      `for (var i = 0u; i < M; i++) { c += abs(${at('A', 'i', 'x')}); }`,
      `${s}[work + colSum + x] = c;`,
    ]),
  });
  out.push({
    name: 'z0',
    kernel: kernel('Z0 = A^T / (max column sum * max row sum)', m * m, [
      'var maxRow = 0.0;',
      'var maxCol = 0.0;',
      'for (var i = 0u; i < M; i++) {',
      `  maxRow = max(maxRow, ${s}[work + rowSum + i]);`,
      `  maxCol = max(maxCol, ${s}[work + colSum + i]);`,
      '}',
      `${s}[work + Z0 + x] = ${at('A', 'x % M', 'x / M')} / (maxRow * maxCol);`,
    ]),
  });
  const matmul = (
    name: string,
    title: string,
    result: string,
    left: string,
    right: string,
    diag: number | null,
    factor: number,
  ) => {
    const r = at(right, 'k', 'j');
    const rightAt = diag === null ? r : `select(0.0, ${f32Lit(diag)}, k == j) - ${r}`;
    out.push({
      name,
      kernel: kernel(title, m * m, [
        'let i = x / M;',
        'let j = x % M;',
        'var acc = 0.0;',
        `for (var k = 0u; k < M; k++) { acc += ${at(left, 'i', 'k')} * (${rightAt}); }`,
        `${s}[work + ${result} + x] = ${factor === 1 ? 'acc' : `${f32Lit(factor)} * acc`};`,
      ]),
    });
  };
  const parities = (['even', 'odd'] as const).slice(0, Math.min(iters, 2));
  for (const parity of parities) {
    const z = parity === 'even' ? 'Z0' : 'Z1';
    const next = parity === 'even' ? 'Z1' : 'Z0';
    const which = `${parity} iterations`;
    matmul(`${parity}.az`, `${which}: AZ = A Z`, 'AZ', 'A', z, null, 1);
    matmul(`${parity}.t`, `${which}: T = AZ (7 I - AZ)`, 'T', 'AZ', 'AZ', 7, 1);
    matmul(`${parity}.u`, `${which}: U = AZ (15 I - T)`, 'U', 'AZ', 'T', 15, 1);
    matmul(`${parity}.z`, `${which}: Z' = 0.25 Z (13 I - U)`, next, z, 'U', 13, 0.25);
  }
  const z = iters % 2 === 0 ? 'Z0' : 'Z1';
  out.push({
    name: 'mix',
    kernel: kernel('mixed = Z (landmark values)', m * DV, [
      'let i = x / DV;',
      'let c = x % DV;',
      'let values = P.valuesBase + bh * M * DV;',
      'var acc = 0.0;',
      `for (var k = 0u; k < M; k++) { acc += ${at(z, 'i', 'k')} * ${s}[values + k * DV + c]; }`,
      `${s}[P.mixedBase + bh * M * DV + x] = acc;`,
    ]),
  });
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
  return { kernels: out, dispatches };
}
