// Emits the state kernel of a linear group: one workgroup per (batch, kv head, slot) reduces
// the slot's keys to `S = sum_j phi(k_j) v_j^T` [features x value_dim] and `z = sum_j phi(k_j)`.
// Keys are taken C at a time (one per invocation) and their phi is staged in workgroup memory F
// features at a time; then every invocation owns a tile of S: one vector of value columns by FG
// features (a "task"), accumulated in registers, and invocations below F / W sum z. The per-key
// work is a rank-1 update, FG vector FMAs per key per task, with every loop short and constant
// so llvmpipe keeps the accumulators in registers. phi(K) never reaches a storage buffer.

import { featureDim } from '../../ir/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import {
  declareBindings,
  favorRowPrelude,
  inVectors,
  LINEAR_INDEX,
  linearConstants,
  type LinearBinding,
  type LinearShape,
  loadFunction,
  MAIN_BUILTINS,
  paramsStruct,
  phiBlock,
  featureRowsUniform,
  rowIndex,
  tensorBase,
  type Uniforms,
  vectorTypes,
} from './emit-linear-common.js';
import type { EmittedKernel } from './emitted-kernel.js';

/** Features per task: the largest divisor of the feature block that is at most this. */
const TASK_FEATURES = 16;

export interface LinearStatesArrays {
  /** Word offsets of k, v, the states table and (FAVOR+) W. */
  readonly k: SizeExpr;
  readonly v: SizeExpr;
  readonly states: SizeExpr;
  readonly weights: SizeExpr | null;
}

/** Slots per (batch, kv head) and keys per slot, as run-time sizes (see `LinearPlan`). */
export function linearSlots(shape: LinearShape): { slots: SizeExpr; keysPerSlot: SizeExpr } {
  const { chunk, maxSlots } = shape.plan;
  if (shape.causal) return { slots: size.ceilDiv('seqK', chunk), keysPerSlot: chunk };
  const keysPerSlot = size.max(chunk, size.ceilDiv('seqK', maxSlots));
  return { slots: size.ceilDiv('seqK', keysPerSlot), keysPerSlot };
}

export function emitLinearStatesKernel(
  shape: LinearShape,
  bindings: { readonly k: LinearBinding; readonly v: LinearBinding; readonly lin: LinearBinding },
  arrays: LinearStatesArrays,
): EmittedKernel {
  const { attention, group, map, plan } = shape;
  const W = plan.vectorWidth;
  const bhnd = attention.layout === 'bhnd';
  const features = featureDim(map, attention.headDim);
  const partial = features % plan.featureBlock !== 0;
  const { vec, zero } = vectorTypes(plan);
  const { slots, keysPerSlot } = linearSlots(shape);
  const taskFeatures = W * largestDivisorAtMost(plan.featureBlock / W, TASK_FEATURES / W);
  const tasks = (attention.valueDim / W) * (plan.featureBlock / taskFeatures);
  const tasksPerLane = Math.ceil(tasks / plan.chunk);
  const uniforms: Uniforms = [
    { name: 'seqK', value: 'seqK' },
    { name: 'slots', value: slots },
    { name: 'keysPerSlot', value: keysPerSlot },
    { name: 'total', value: size.mul('batch', group.kvHeads, slots) },
    { name: 'kBase', value: tensorBase(shape, arrays.k) },
    { name: 'vBase', value: tensorBase(shape, arrays.v) },
    { name: 'stBase', value: inVectors(arrays.states, plan) },
    featureRowsUniform(plan),
  ];
  if (arrays.weights !== null)
    uniforms.push({ name: 'wBase', value: inVectors(arrays.weights, plan) });
  // One staged phi vector of key r times the value vector, into the task's FG accumulators.
  const rankOne =
    W === 4
      ? [
          '          for (var g = 0u; g < FG / 4u; g++) {',
          '            let k4 = kf[r * FW + fb / 4u + g];',
          '            let a = u * FG + 4u * g;',
          '            acc[a] += k4.x * vq;',
          '            acc[a + 1u] += k4.y * vq;',
          '            acc[a + 2u] += k4.z * vq;',
          '            acc[a + 3u] += k4.w * vq;',
          '          }',
        ]
      : [
          '          for (var f = 0u; f < FG; f++) { acc[u * FG + f] += kf[r * FW + fb + f] * vq; }',
        ];

  const L: string[] = [];
  const emit = (...lines: string[]) => L.push(...lines);
  emit(
    `// attnc linear states: attention ${attention.name}, group ${group.name}, phi ${map.kind}${shape.causal ? ', causal (one slot per chunk)' : ''}`,
    ...linearConstants(shape),
    `// A task: value vector cq = task % DVW, features fg * FG .. fg * FG + FG of the block.`,
    `const FG: u32 = ${taskFeatures}u;`,
    `const TASKS: u32 = ${tasks}u;`,
    `const TPL: u32 = ${tasksPerLane}u;`,
    '',
    ...paramsStruct(uniforms),
    ...declareBindings(shape, [
      { binding: bindings.k, access: 'read', kind: 'tensor' },
      { binding: bindings.v, access: 'read', kind: 'tensor' },
      { binding: bindings.lin, access: 'read_write', kind: 'state' },
    ]),
    '',
    '// phi(k) of the C staged keys, F features each: kf[r * FW + fw].',
    `var<workgroup> kf: array<${vec}, C * FW>;`,
    '',
    loadFunction(shape, 'ldK', bindings.k.name, 'kBase'),
    loadFunction(shape, 'ldV', bindings.v.name, 'vBase'),
    '',
    `@compute @workgroup_size(${plan.chunk})`,
    'fn main(',
    ...MAIN_BUILTINS,
    ') {',
    `  ${LINEAR_INDEX}`,
    '  if (linear >= P.total) { return; }',
    '  let slot = linear % P.slots;',
    '  let bk = linear / P.slots;',
    '  let hk = KV_HEAD_OFFSET + bk % KV_HEADS;',
    '  let b = bk / KV_HEADS;',
    '  let j0 = slot * P.keysPerSlot;',
    '  let j1 = min(j0 + P.keysPerSlot, P.seqK);',
    '  // Slots of one (batch, kv head) are contiguous: linear = (b * KV_HEADS + local kv head) * slots + slot.',
    '  let out = P.stBase + linear * SLOT;',
    '  for (var t0w = 0u; t0w < DPHIW; t0w += FW) {',
    '    // Explicitly zeroed: a declaration inside a loop must reset it on every block.',
    `    var acc = array<${vec}, TPL * FG>();`,
    `    var zacc = ${zero};`,
    '    for (var ja = j0; ja < j1; ja += C) {',
    '      let j = ja + lid;',
    '      if (j < j1) {',
    `        let row = ${rowIndex(bhnd, 'TOTAL_KV_HEADS', 'P.seqK', 'DW', 'b', 'hk', 'j')};`,
    ...(map.kind === 'favor' ? favorRowPrelude(shape, '        ', 'row', 'ldK', 'K') : []),
    ...phiBlock(shape, {
      indent: '        ',
      t0w: 't0w',
      row: 'row',
      load: 'ldK',
      tag: 'K',
      store: (fw, value) => `kf[lid * FW + ${fw}] = ${value};`,
    }),
    '      } else {',
    `        for (var fw = 0u; fw < FW; fw++) { kf[lid * FW + fw] = ${zero}; }`,
    '      }',
    '      workgroupBarrier();',
    '      let n = min(C, j1 - ja);',
    '      for (var r = 0u; r < n; r++) {',
    `        let vrow = ${rowIndex(bhnd, 'TOTAL_KV_HEADS', 'P.seqK', 'DVW', 'b', 'hk', 'ja + r')};`,
    '        for (var u = 0u; u < TPL; u++) {',
    '          let task = min(lid + u * C, TASKS - 1u);',
    '          let vq = ldV(vrow + task % DVW);',
    '          let fb = (task / DVW) * FG;',
    ...rankOne,
    '        }',
    '        zacc += kf[r * FW + min(lid, FW - 1u)];',
    '      }',
    '      workgroupBarrier();',
    '    }',
    '    for (var u = 0u; u < TPL; u++) {',
    '      let task = lid + u * C;',
    '      if (task >= TASKS) { break; }',
    '      let cq = task % DVW;',
    '      let fb = t0w * W + (task / DVW) * FG;',
    '      for (var f = 0u; f < FG; f++) {',
    ...(partial ? ['        if (fb + f >= DPHI) { break; }'] : []),
    '        lin[out + (fb + f) * DVW + cq] = acc[u * FG + f];',
    '      }',
    '    }',
    `    if (lid < FW${partial ? ' && t0w + lid < DPHIW' : ''}) { lin[out + ZOFF + t0w + lid] = zacc; }`,
    '  }',
    '}',
  );
  return { wgsl: L.join('\n') + '\n', workgroupSize: plan.chunk, uniforms };
}

function largestDivisorAtMost(n: number, most: number): number {
  for (let d = Math.min(n, most); d > 1; d--) if (n % d === 0) return d;
  return 1;
}
