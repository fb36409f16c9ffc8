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
//
// Under head routing a workgroup takes one tile of C kept rows of a (batch, head) list instead
// (emit-head-routing.ts), so dropped (row, head) pairs are never computed, and scales each row
// by its routing weight. Causal: the tile's rows (ascending) may fall in several key chunks;
// the workgroup stages phi(k) of each chunk that holds one of its rows, in order, and the rows
// of that chunk add its keys j <= p. A chunk is staged at most once per tile holding one of its
// rows, so the staging work is bounded by the unrouted kernel's.

import { featureDim } from '../../ir/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import {
  keptRowDeclarations,
  keptRowSelection,
  keptRowUniforms,
  type RoutedRowsArrays,
  routedTileBound,
} from './emit-head-routing.js';
import {
  declareBindings,
  favorRowPrelude,
  LINEAR_INDEX,
  linearConstants,
  loadFunction,
  MAIN_BUILTINS,
  paramsStruct,
  phiBlock,
  rowIndex,
  vectorTypes,
} from './emit-linear-common.js';
import {
  featureRowsUniform,
  inVectors,
  type LinearBinding,
  type LinearShape,
  linearSlots,
  tensorBase,
  type Uniforms,
} from '../linear-shape.js';
import type { EmittedKernel } from './emitted-kernel.js';

export const LINEAR_EPSILON = 1e-6;

export interface LinearOutputBindings {
  readonly q: LinearBinding;
  /** Causal only (the own chunk's keys). */
  readonly k: LinearBinding | null;
  readonly v: LinearBinding | null;
  readonly lin: LinearBinding;
  readonly o: LinearBinding;
  /** Head routing only: `aux`, which holds the kept-row lists and the weights. */
  readonly aux: LinearBinding | null;
}

export interface LinearOutputArrays {
  /** Word offsets. */
  readonly q: SizeExpr;
  readonly k: SizeExpr | null;
  readonly v: SizeExpr | null;
  readonly o: SizeExpr;
  readonly states: SizeExpr;
  readonly weights: SizeExpr | null;
  /** Head routing: the kept-row lists to walk instead of every row. */
  readonly headRouting: RoutedRowsArrays | null;
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
    featureRowsUniform(plan),
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
  const routing = arrays.headRouting;
  const aux = bindings.aux;
  if (routing !== null) {
    if (aux === null) throw new Error('internal error: head routing without aux');
    uniforms[uniforms.findIndex((u) => u.name === 'total')] = {
      name: 'total',
      value: routedTileBound(routing, group.heads, C),
    };
    uniforms.push(...keptRowUniforms(routing));
  }
  const read = (index: string) => `${aux?.name ?? 'aux'}[${index}]`;

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
    ...(routing !== null && aux !== null
      ? [`@group(0) @binding(${aux.binding}) var<storage, read> ${aux.name}: array<u32>;`]
      : []),
    '',
  );
  if (routing !== null) {
    emit(...keptRowDeclarations(read, causal));
    if (causal)
      emit(
        '// The next key chunk holding a row of the tile (NO_CHUNK: none left).',
        'var<workgroup> wgChunk: u32;',
        'const NO_CHUNK: u32 = 0xffffffffu;',
        '',
      );
  }
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
  );
  if (routing !== null) {
    emit(
      ...keptRowSelection(read, C, causal),
      '  let hkl = hl / GROUP_SIZE;',
      '  let i = routeRow;',
    );
  } else {
    emit(
      '  let tile = linear % P.tiles;',
      '  let bh = linear / P.tiles;',
      '  let hl = bh % HEADS;',
      '  let b = bh / HEADS;',
      '  let h = HEAD_OFFSET + hl;',
      '  let hkl = hl / GROUP_SIZE;',
    );
  }
  if (causal && routing !== null) {
    emit(
      '  let offset = P.seqK - P.seqQ;',
      '  let p = i + offset;',
      '  let chunk = p / C;',
      '  let ja = chunk * C;',
      '  let hasQuery = routeActive;',
      '  let st = P.stBase + ((b * KV_HEADS + hkl) * P.slots + chunk) * SLOT;',
      '  let hk = KV_HEAD_OFFSET + hkl;',
      '  // Keys ja .. p of the own chunk; idle invocations score none.',
      '  let rEnd = select(0u, p - ja + 1u, hasQuery);',
      `  if (lid == 0u) { wgChunk = (${read('routeRows + routeFirst')} + offset) / C; }`,
      '  let firstChunk = workgroupUniformLoad(&wgChunk);',
    );
  } else if (causal) {
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
    if (routing === null) emit('  let i = tile * C + lid;', '  if (i >= P.seqQ) { return; }');
    emit('  let st = P.stBase + (b * KV_HEADS + hkl) * P.slots * SLOT;');
  }
  emit(`  let qrow = ${rowIndex(bhnd, 'TOTAL_HEADS', 'P.seqQ', 'DW', 'b', 'h', 'i')};`);
  if (map.kind === 'favor') {
    emit(...favorRowPrelude(shape, '  ', 'qrow', 'ldQ', 'Q'));
    if (causal && routing === null) emit(...favorRowPrelude(shape, '  ', 'krow', 'ldK', 'K'));
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
      target: (fw) => `qf[${fw}]`,
    }),
  );
  if (causal && routing === null) {
    emit(
      '    if (lid < n) {',
      ...phiBlock(shape, {
        indent: '      ',
        t0w: 't0w',
        row: 'krow',
        load: 'ldK',
        tag: 'K',
        target: (fw) => `kf[lid * FW + ${fw}]`,
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
    '    for (var fw = 0u; fw < P.featureRows; fw++) {',
    '      let t = t0w + fw;',
    ...(partial ? ['      if (t >= DPHIW) { break; }'] : []),
    '      let w = qf[fw];',
    `      den += ${dot('w', 'lin[st + ZOFF + t]')};`,
    ...stateRows,
    '    }',
  );
  const valueRow = `${rowIndex(bhnd, 'TOTAL_KV_HEADS', 'P.seqK', 'DVW', 'b', 'hk', 'ja + r')}`;
  /** The own chunk's keys ja .. p against the staged phi(k) block. */
  const ownChunk = (indent: string) =>
    (oneBlock
      ? [
          '// The own chunk, exactly: keys ja .. p.',
          'for (var r = 0u; r < rEnd; r++) {',
          '  var s = 0.0;',
          `  for (var fw = 0u; fw < FW; fw++) { s += ${dot('qf[fw]', 'kf[r * FW + fw]')}; }`,
          '  den += s;',
          `  let vrow = ${valueRow};`,
          '  for (var d = 0u; d < DVW; d++) { acc[d] += s * ldV(vrow + d); }',
          '}',
        ]
      : [
          'for (var r = 0u; r < rEnd; r++) {',
          '  var s = 0.0;',
          `  for (var fw = 0u; fw < FW; fw++) { s += ${dot('qf[fw]', 'kf[r * FW + fw]')}; }`,
          '  scores[r] += s;',
          '}',
        ]
    ).map((line) => indent + line);
  if (causal && routing === null) {
    emit(...ownChunk('    '), '    workgroupBarrier();');
  } else if (causal) {
    const chunkOf = (slot: string) => `(${read(`routeRows + ${slot}`)} + offset) / C`;
    emit(
      '    // Every key chunk holding a row of the tile, in order: stage its phi(k) block, and',
      '    // the rows of that chunk score its keys. cc is workgroup-uniform; lid 0 finds the next.',
      '    var cc = firstChunk;',
      '    var scan = routeFirst;',
      '    loop {',
      '      if (cc == NO_CHUNK) { break; }',
      '      let jc = cc * C;',
      '      if (lid < min(C, P.seqK - jc)) {',
      `        let krow = ${rowIndex(bhnd, 'TOTAL_KV_HEADS', 'P.seqK', 'DW', 'b', 'hk', 'jc + lid')};`,
      ...(map.kind === 'favor' ? favorRowPrelude(shape, '        ', 'krow', 'ldK', 'K') : []),
      ...phiBlock(shape, {
        indent: '        ',
        t0w: 't0w',
        row: 'krow',
        load: 'ldK',
        tag: 'K',
        target: (fw) => `kf[lid * FW + ${fw}]`,
      }),
      '      }',
      '      workgroupBarrier();',
      '      if (chunk == cc) {',
      ...ownChunk('        '),
      '      }',
      '      if (lid == 0u) {',
      `        while (scan <= routeLast && ${chunkOf('scan')} <= cc) { scan++; }`,
      `        wgChunk = select(NO_CHUNK, ${chunkOf('min(scan, routeLast)')}, scan <= routeLast);`,
      '      }',
      '      // Also the barrier before the next chunk overwrites kf.',
      '      cc = workgroupUniformLoad(&wgChunk);',
      '    }',
    );
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
    routing === null
      ? '  let inv = 1.0 / (den + EPS);'
      : '  let inv = routeWeight / (den + EPS);  // the routing weight of (row, head)',
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
