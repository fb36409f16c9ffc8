// Emits the output kernel of a linear group: `o = phi(q)·S / (phi(q)·z + 1e-6)`, one query row
// per invocation, phi(q) computed F features at a time into registers.
//
// Non-causal: S and z are the summed slot 0 of the row's (batch, kv head).
// Causal: a workgroup owns one key chunk c (positions [cC, cC + C)) and the query rows whose
// bottom-right-aligned positions p = i + Nk - Nq fall in it; S and z are the exclusive prefix
// of chunk c (keys before cC), and the chunk's own keys j <= p are added exactly: phi(k) of the
// chunk is staged in workgroup memory (F features at a time), each row scores the keys up to
// its position and adds their values. When all features fit one block the scores are used at
// once; otherwise they are summed over the blocks in a per-row array first.

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
  rowIndex,
  tensorBase,
  type Uniforms,
  vectorTypes,
} from './emit-linear-common.js';
import { linearSlots } from './emit-linear-states.js';
import type { EmittedKernel } from './emit-softmax.js';

export const LINEAR_EPSILON = 1e-6;

export interface LinearOutputBindings {
  readonly q: LinearBinding;
  /** Causal only (the own chunk's keys). */
  readonly k: LinearBinding | null;
  readonly v: LinearBinding | null;
  readonly lin: LinearBinding;
  readonly o: LinearBinding;
}

export interface LinearOutputArrays {
  /** Word offsets. */
  readonly q: SizeExpr;
  readonly k: SizeExpr | null;
  readonly v: SizeExpr | null;
  readonly o: SizeExpr;
  readonly states: SizeExpr;
  readonly weights: SizeExpr | null;
}

export function emitLinearOutputKernel(
  shape: LinearShape,
  bindings: LinearOutputBindings,
  arrays: LinearOutputArrays,
): EmittedKernel {
  const { attention, group, map, plan, causal } = shape;
  const W = plan.vectorWidth;
  const f16 = attention.dtype === 'f16';
  const bhnd = attention.layout === 'bhnd';
  const features = featureDim(map, attention.headDim);
  const partial = features % plan.featureBlock !== 0;
  const oneBlock = plan.featureBlock >= features;
  const { vec, dot } = vectorTypes(plan);
  const { slots } = linearSlots(shape);
  const C = plan.chunk;
  // Causal: the chunks holding a query position, c in [floor((Nk - Nq) / C), ceil(Nk / C)).
  const firstChunk = size.sub(size.ceilDiv(size.add(size.sub('seqK', 'seqQ'), 1), C), 1);
  const tiles = causal ? size.sub(size.ceilDiv('seqK', C), firstChunk) : size.ceilDiv('seqQ', C);
  const uniforms: Uniforms = [
    { name: 'seqQ', value: 'seqQ' },
    { name: 'seqK', value: 'seqK' },
    { name: 'slots', value: slots },
    { name: 'tiles', value: tiles },
    { name: 'total', value: size.mul('batch', group.heads, tiles) },
    { name: 'qBase', value: tensorBase(shape, arrays.q) },
    { name: 'oBase', value: tensorBase(shape, arrays.o) },
    { name: 'stBase', value: inVectors(arrays.states, plan) },
  ];
  const k = bindings.k;
  const v = bindings.v;
  if (causal) {
    if (arrays.k === null || arrays.v === null || k === null || v === null)
      throw new Error('internal error: causal linear output needs k and v');
    uniforms.push(
      { name: 'kBase', value: tensorBase(shape, arrays.k) },
      { name: 'vBase', value: tensorBase(shape, arrays.v) },
    );
  }
  if (arrays.weights !== null)
    uniforms.push({ name: 'wBase', value: inVectors(arrays.weights, plan) });

  const L: string[] = [];
  const emit = (...lines: string[]) => L.push(...lines);
  emit(
    `// attnc linear output: attention ${attention.name}, group ${group.name}, phi ${map.kind}, ${causal ? 'causal (prefix state + own chunk)' : 'full'}`,
    ...linearConstants(shape),
    `const EPS: f32 = ${LINEAR_EPSILON};`,
    '',
    ...paramsStruct(uniforms),
    ...declareBindings(shape, [
      { binding: bindings.q, access: 'read', kind: 'tensor' },
      ...(causal && k && v
        ? [
            { binding: k, access: 'read' as const, kind: 'tensor' as const },
            { binding: v, access: 'read' as const, kind: 'tensor' as const },
          ]
        : []),
      { binding: bindings.lin, access: 'read', kind: 'state' },
      { binding: bindings.o, access: 'read_write', kind: 'tensor' },
    ]),
    '',
  );
  if (causal) {
    emit(
      '// phi(k) of the chunk, F features each: kf[r * FW + fw].',
      `var<workgroup> kf: array<${vec}, C * FW>;`,
      '',
    );
  }
  emit(loadFunction(shape, 'ldQ', bindings.q.name, 'qBase'));
  if (causal && k && v) {
    emit(loadFunction(shape, 'ldK', k.name, 'kBase'));
    emit(loadFunction(shape, 'ldV', v.name, 'vBase'));
  }
  emit(
    '',
    `@compute @workgroup_size(${C})`,
    'fn main(',
    ...MAIN_BUILTINS,
    ') {',
    `  ${LINEAR_INDEX}`,
    '  if (linear >= P.total) { return; }',
    '  let tile = linear % P.tiles;',
    '  let bh = linear / P.tiles;',
    '  let hl = bh % HEADS;',
    '  let b = bh / HEADS;',
    '  let h = HEAD_OFFSET + hl;',
    '  let hkl = hl / GROUP_SIZE;',
  );
  if (causal) {
    emit(
      '  let offset = P.seqK - P.seqQ;',
      '  let chunk = offset / C + tile;',
      '  let ja = chunk * C;',
      '  let p = ja + lid;',
      '  let hasQuery = p >= offset && p < P.seqK;',
      '  let i = min(select(0u, p - offset, p >= offset), P.seqQ - 1u);',
      '  let st = P.stBase + ((b * KV_HEADS + hkl) * P.slots + chunk) * SLOT;',
      '  let hk = KV_HEAD_OFFSET + hkl;',
      '  let n = min(C, P.seqK - ja);',
      '  // Keys ja + r with r <= lid are at or before p; invocations without a query score none.',
      '  let rEnd = select(0u, lid + 1u, hasQuery);',
      `  let krow = ${rowIndex(bhnd, 'TOTAL_KV_HEADS', 'P.seqK', 'DW', 'b', 'hk', 'ja + min(lid, n - 1u)')};`,
    );
  } else {
    emit(
      '  let i = tile * C + lid;',
      '  if (i >= P.seqQ) { return; }',
      '  let st = P.stBase + (b * KV_HEADS + hkl) * P.slots * SLOT;',
    );
  }
  emit(`  let qrow = ${rowIndex(bhnd, 'TOTAL_HEADS', 'P.seqQ', 'DW', 'b', 'h', 'i')};`);
  if (map.kind === 'favor') {
    emit(...favorRowPrelude(shape, '  ', 'qrow', 'ldQ', 'Q'));
    if (causal) emit(...favorRowPrelude(shape, '  ', 'krow', 'ldK', 'K'));
  }
  emit(`  var acc: array<${vec}, DVW>;`, '  var den = 0.0;', `  var qf: array<${vec}, FW>;`);
  if (causal && !oneBlock) emit('  var scores: array<f32, C>;');
  emit(
    '  for (var t0w = 0u; t0w < DPHIW; t0w += FW) {',
    ...phiBlock(shape, {
      indent: '    ',
      t0w: 't0w',
      row: 'qrow',
      load: 'ldQ',
      tag: 'Q',
      store: (fw, value) => `qf[${fw}] = ${value};`,
    }),
  );
  if (causal) {
    emit(
      '    if (lid < n) {',
      ...phiBlock(shape, {
        indent: '      ',
        t0w: 't0w',
        row: 'krow',
        load: 'ldK',
        tag: 'K',
        store: (fw, value) => `kf[lid * FW + ${fw}] = ${value};`,
      }),
      '    }',
      '    workgroupBarrier();',
    );
  }
  // acc += phi(q)_t S[t, :] for the block's features t (rows of DVW vectors).
  const stateRows =
    W === 4
      ? [
          '      let srow = st + t * 4u * DVW;',
          '      for (var d = 0u; d < DVW; d++) {',
          '        acc[d] += w.x * lin[srow + d] + w.y * lin[srow + DVW + d] +',
          '          w.z * lin[srow + 2u * DVW + d] + w.w * lin[srow + 3u * DVW + d];',
          '      }',
        ]
      : [
          '      let srow = st + t * DVW;',
          '      for (var d = 0u; d < DVW; d++) { acc[d] += w * lin[srow + d]; }',
        ];
  emit(
    '    // The state of the keys before this chunk (causal) or of all keys.',
    '    for (var fw = 0u; fw < FW; fw++) {',
    '      let t = t0w + fw;',
    ...(partial ? ['      if (t >= DPHIW) { break; }'] : []),
    '      let w = qf[fw];',
    `      den += ${dot('w', 'lin[st + ZOFF + t]')};`,
    ...stateRows,
    '    }',
  );
  const valueRow = `${rowIndex(bhnd, 'TOTAL_KV_HEADS', 'P.seqK', 'DVW', 'b', 'hk', 'ja + r')}`;
  if (causal) {
    if (oneBlock) {
      emit(
        '    // The own chunk, exactly: keys ja .. p.',
        '    for (var r = 0u; r < rEnd; r++) {',
        '      var s = 0.0;',
        `      for (var fw = 0u; fw < FW; fw++) { s += ${dot('qf[fw]', 'kf[r * FW + fw]')}; }`,
        '      den += s;',
        `      let vrow = ${valueRow};`,
        '      for (var d = 0u; d < DVW; d++) { acc[d] += s * ldV(vrow + d); }',
        '    }',
      );
    } else {
      emit(
        '    for (var r = 0u; r < rEnd; r++) {',
        '      var s = 0.0;',
        `      for (var fw = 0u; fw < FW; fw++) { s += ${dot('qf[fw]', 'kf[r * FW + fw]')}; }`,
        '      scores[r] += s;',
        '    }',
      );
    }
    emit('    workgroupBarrier();');
  }
  emit('  }');
  if (causal && !oneBlock) {
    emit(
      '  // The own chunk, exactly: keys ja .. p, scored over every feature block above.',
      '  for (var r = 0u; r < rEnd; r++) {',
      '    let s = scores[r];',
      '    den += s;',
      `    let vrow = ${valueRow};`,
      '    for (var d = 0u; d < DVW; d++) { acc[d] += s * ldV(vrow + d); }',
      '  }',
    );
  }
  if (causal) emit('  if (!hasQuery) { return; }');
  emit(
    `  let orow = ${rowIndex(bhnd, 'TOTAL_HEADS', 'P.seqQ', 'DVW', 'b', 'h', 'i')};`,
    '  let inv = 1.0 / (den + EPS);',
  );
  const o = bindings.o.name;
  if (f16 && W === 4) {
    emit(
      '  for (var d = 0u; d < DVW; d++) {',
      '    let x = acc[d] * inv;',
      `    let a = P.oBase + 2u * (orow + d);`,
      `    ${o}[a] = pack2x16float(x.xy);`,
      `    ${o}[a + 1u] = pack2x16float(x.zw);`,
      '  }',
    );
  } else if (f16) {
    emit(
      "  // f16: DV is a multiple of 4, so a row is whole words and each word is one row's.",
      '  for (var d = 0u; d < DV; d += 2u) {',
      `    ${o}[P.oBase + ((orow + d) >> 1u)] = pack2x16float(vec2<f32>(acc[d] * inv, acc[d + 1u] * inv));`,
      '  }',
    );
  } else {
    emit(`  for (var d = 0u; d < DVW; d++) { ${o}[P.oBase + orow + d] = acc[d] * inv; }`);
  }
  emit('}');
  return { wgsl: L.join('\n') + '\n', workgroupSize: C, uniforms };
}
