// The output kernel of a linear group: `o = phi(q)·S / (phi(q)·z + 1e-6)`, one query row per
// invocation, phi(q) computed F features at a time into registers.
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
// (kernel/blocks/kept-rows.ts), so dropped (row, head) pairs are never computed, and scales
// each row by its routing weight. Causal: the tile's rows (ascending) may fall in several key
// chunks; the workgroup stages phi(k) of each chunk that holds one of its rows, in order, and
// the rows of that chunk add its keys j <= p. A chunk is staged at most once per tile holding
// one of its rows, so the staging work is bounded by the unrouted kernel's.
//
// Every loop is bounded by the spec (C keys of a chunk, F features, value_dim), none by seqK,
// so the kernel's loop-iteration bound is a constant (`outputLoopIterations`): FAVOR+ with
// many features and a wide value_dim can pass llvmpipe's budget, and the runtime refuses it.

import { featureDim } from '../../ir/ir.js';
import {
  add,
  and,
  call,
  construct,
  div,
  eq,
  f32,
  ge,
  hexU32,
  index,
  KernelBuilder,
  le,
  lt,
  member,
  min,
  mod,
  mul,
  not,
  paren,
  select,
  sub,
  T,
  u32,
  uniform,
  binary,
  type BlockBuilder,
  type Operand,
} from '../../kernel/build.js';
import {
  auxWords,
  findKeptList,
  KEPT_LIST_VAR,
  selectKeptRow,
  uniformLoad,
  type AuxRead,
} from '../../kernel/blocks/kept-rows.js';
import { rowIndex } from '../../kernel/blocks/layout.js';
import type { Expr, Kernel } from '../../kernel/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import {
  keptRowUniforms,
  type RoutedRowsArrays,
  routedTileBound,
} from '../wgsl/emit-head-routing.js';
import { constantLoopCost, loopCost } from '../wgsl/loop-budget.js';
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
  linearCodec,
  linearConstants,
  linearDot,
  linearElement,
  linearVector,
  loadFunction,
  phiBlock,
} from './linear-blocks.js';

/** Added to the denominator, as the reference does (reference/kernelized.ts). */
const LINEAR_EPSILON = 1e-6;

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

/** What the parts of the kernel below share: the shape and the choices made from it. */
interface OutputParts {
  readonly shape: LinearShape;
  readonly bindings: LinearOutputBindings;
  /** Head routing: reads a word of the kept-row lists (null: every row). */
  readonly read: AuxRead | null;
  /** Every feature fits one block: the own chunk's scores are used at once. */
  readonly oneBlock: boolean;
  readonly partial: boolean;
}

export function linearOutputKernel(
  shape: LinearShape,
  bindings: LinearOutputBindings,
  arrays: LinearOutputArrays,
): Kernel {
  const { attention, group, map, plan, causal } = shape;
  const features = featureDim(map, attention.headDim);
  const routing = arrays.headRouting;
  if (routing !== null && bindings.aux === null)
    throw new Error('internal error: head routing without aux');
  const parts: OutputParts = {
    shape,
    bindings,
    read: routing !== null && bindings.aux !== null ? auxWords(bindings.aux.name) : null,
    oneBlock: plan.featureBlock >= features,
    partial: features % plan.featureBlock !== 0,
  };
  const k = new KernelBuilder(plan.chunk);
  k.header(
    `attnc linear output: attention ${attention.name}, group ${group.name}, phi ${map.kind}, ${causal ? 'causal (prefix state + own chunk)' : 'full'}`,
  );
  k.consts(linearConstants(shape));
  k.const('EPS', T.f32, f32(LINEAR_EPSILON));
  if (causal && routing !== null)
    k.const('NO_CHUNK', T.u32, hexU32(0xffffffff), [
      'No key chunk left to stage (wgChunk, under head routing).',
    ]);
  declareUniforms(k, shape, arrays);
  declareBindings(k, shape, bindings);
  if (routing !== null) {
    if (causal) {
      k.workgroupVar(KEPT_LIST_VAR.name, KEPT_LIST_VAR.type);
      k.workgroupVar('wgChunk', T.u32, [
        'The next key chunk holding a row of the tile (NO_CHUNK: none left).',
      ]);
    }
    k.function(findKeptList(parts.read!));
  }
  if (causal)
    k.workgroupVar('kf', T.array(linearVector(shape).vec, mul('C', 'FW')), [
      'phi(k) of the chunk, F features each: kf[r * FW + fw].',
    ]);
  k.function(loadFunction(shape, 'ldQ', bindings.q.name, 'qBase'));
  if (causal && bindings.k !== null && bindings.v !== null) {
    k.function(loadFunction(shape, 'ldK', bindings.k.name, 'kBase'));
    k.function(loadFunction(shape, 'ldV', bindings.v.name, 'vBase'));
  }
  k.gridIndex('workgroup', 'linear', 'total');
  k.main((b) => {
    selectRow(b, parts);
    locateRow(b, parts);
    accumulate(b, parts);
    writeRow(b, parts);
  });
  k.loopIterations(outputLoopIterations(shape, routing !== null));
  return k.build();
}

/** The Params fields, in the order the template had them (the host writes them so). */
function declareUniforms(k: KernelBuilder, shape: LinearShape, arrays: LinearOutputArrays): void {
  const { group, plan, causal } = shape;
  const C = plan.chunk;
  // Causal: the chunks holding a query position, c in [floor((Nk - Nq) / C), ceil(Nk / C)).
  const firstChunk = size.sub(size.ceilDiv(size.add(size.sub('seqK', 'seqQ'), 1), C), 1);
  const tiles = causal ? size.sub(size.ceilDiv('seqK', C), firstChunk) : size.ceilDiv('seqQ', C);
  const routing = arrays.headRouting;
  k.uniform('seqQ', 'seqQ');
  k.uniform('seqK', 'seqK');
  k.uniform('slots', linearSlots(shape).slots);
  k.uniform('tiles', tiles);
  k.uniform(
    'total',
    routing === null
      ? size.mul('batch', group.heads, tiles)
      : routedTileBound(routing, group.heads, C),
  );
  k.uniform('qBase', tensorBase(shape, arrays.q));
  k.uniform('oBase', tensorBase(shape, arrays.o));
  k.uniform('stBase', inVectors(arrays.states, plan));
  const rows = featureRowsUniform(plan);
  k.uniform(rows.name, rows.value);
  if (causal) {
    if (arrays.k === null || arrays.v === null)
      throw new Error('internal error: causal linear output needs k and v');
    k.uniform('kBase', tensorBase(shape, arrays.k));
    k.uniform('vBase', tensorBase(shape, arrays.v));
  }
  if (arrays.weights !== null) k.uniform('wBase', inVectors(arrays.weights, plan));
  if (routing !== null) for (const u of keptRowUniforms(routing)) k.uniform(u.name, u.value);
}

/** q, (causal) k and v, the states, o and (head routing) aux; q, k and v may be one buffer. */
function declareBindings(
  k: KernelBuilder,
  shape: LinearShape,
  bindings: LinearOutputBindings,
): void {
  const tensor = linearElement(shape, 'tensor');
  const declared = new Set<string>();
  const declare = (
    binding: LinearBinding | null,
    access: 'read' | 'read_write',
    element = tensor,
  ) => {
    if (binding === null || declared.has(binding.name)) return;
    declared.add(binding.name);
    k.storage(binding.binding, binding.name, access, element);
  };
  declare(bindings.q, 'read');
  if (shape.causal) {
    if (bindings.k === null || bindings.v === null)
      throw new Error('internal error: causal linear output needs k and v');
    declare(bindings.k, 'read');
    declare(bindings.v, 'read');
  }
  declare(bindings.lin, 'read', linearElement(shape, 'state'));
  declare(bindings.o, 'read_write');
  declare(bindings.aux, 'read', T.u32);
}

/** This invocation's (b, h, local kv head) and, under head routing, its query row `i`. */
function selectRow(b: BlockBuilder, parts: OutputParts): void {
  if (parts.read !== null) {
    selectKeptRow(b, parts.read, parts.shape.plan.chunk, { inWorkgroup: parts.shape.causal });
    b.let('hkl', div('hl', 'GROUP_SIZE'));
    b.let('i', 'routeRow');
    return;
  }
  b.let('tile', mod('linear', uniform('tiles')));
  const bh = b.let('bh', div('linear', uniform('tiles')));
  const hl = b.let('hl', mod(bh, 'HEADS'));
  b.let('b', div(bh, 'HEADS'));
  b.let('h', add('HEAD_OFFSET', hl));
  b.let('hkl', div(hl, 'GROUP_SIZE'));
}

/** The row's position, its state slot `st` and (causal) its own chunk's key range. */
function locateRow(b: BlockBuilder, parts: OutputParts): void {
  const { shape, read } = parts;
  const layout = shape.attention.layout;
  const slotOf = (chunk: Expr) =>
    add(
      uniform('stBase'),
      mul(add(mul(add(mul('b', 'KV_HEADS'), 'hkl'), uniform('slots')), chunk), 'SLOT'),
    );
  if (!shape.causal) {
    if (read === null) {
      const i = b.let('i', add(mul('tile', 'C'), 'lid'));
      b.returnIf(ge(i, uniform('seqQ')));
    }
    b.let(
      'st',
      add(uniform('stBase'), mul(add(mul('b', 'KV_HEADS'), 'hkl'), uniform('slots'), 'SLOT')),
    );
  } else if (read !== null) {
    const offset = b.let('offset', sub(uniform('seqK'), uniform('seqQ')));
    const p = b.let('p', add('i', offset));
    const chunk = b.let('chunk', div(p, 'C'));
    const ja = b.let('ja', mul(chunk, 'C'));
    const hasQuery = b.let('hasQuery', 'routeActive');
    b.let('st', slotOf(chunk));
    b.let('hk', add('KV_HEAD_OFFSET', 'hkl'));
    b.comment('Keys ja .. p of the own chunk; idle invocations score none.');
    b.let('rEnd', select(u32(0), add(sub(p, ja), u32(1)), hasQuery));
    const firstRow = read(add('routeRows', 'routeFirst'));
    b.if(
      eq('lid', u32(0)),
      (t) => t.assign('wgChunk', div(add(firstRow, offset), 'C')),
      undefined,
      {
        oneLine: true,
      },
    );
    b.let('firstChunk', uniformLoad('wgChunk'));
  } else {
    const offset = b.let('offset', sub(uniform('seqK'), uniform('seqQ')));
    const chunk = b.let('chunk', add(div(offset, 'C'), 'tile'));
    const ja = b.let('ja', mul(chunk, 'C'));
    const p = b.let('p', add(ja, 'lid'));
    const hasQuery = b.let('hasQuery', and(ge(p, offset), lt(p, uniform('seqK'))));
    b.let('i', min(select(u32(0), sub(p, offset), ge(p, offset)), sub(uniform('seqQ'), u32(1))));
    b.let('st', slotOf(chunk));
    b.let('hk', add('KV_HEAD_OFFSET', 'hkl'));
    const n = b.let('n', min('C', sub(uniform('seqK'), ja)));
    b.comment(
      'Keys ja + r with r <= lid are at or before p; invocations without a query score none.',
    );
    b.let('rEnd', select(u32(0), add('lid', u32(1)), hasQuery));
    b.let(
      'krow',
      rowIndex(
        layout,
        'TOTAL_KV_HEADS',
        uniform('seqK'),
        'DW',
        'b',
        'hk',
        ja,
        min('lid', sub(n, u32(1))),
      ),
    );
  }
}

/** acc and den over every feature block: the state part, then (causal) the own chunk's keys. */
function accumulate(b: BlockBuilder, parts: OutputParts): void {
  const { shape, read, oneBlock } = parts;
  const { vec } = linearVector(shape);
  const qrow = b.let(
    'qrow',
    rowIndex(shape.attention.layout, 'TOTAL_HEADS', uniform('seqQ'), 'DW', 'b', 'h', 'i'),
  );
  if (shape.map.kind === 'favor') {
    favorRowPrelude(b, shape, qrow, 'ldQ', 'Q');
    if (shape.causal && read === null) favorRowPrelude(b, shape, 'krow', 'ldK', 'K');
  }
  b.var('acc', undefined, T.array(vec, 'DVW'));
  b.var('den', f32(0));
  b.var('qf', undefined, T.array(vec, 'FW'));
  if (shape.causal && !oneBlock) b.var('scores', undefined, T.array(T.f32, 'C'));
  b.for(
    't0w',
    u32(0),
    (t) => lt(t, 'DPHIW'),
    (blk, t0w) => {
      phiBlock(blk, shape, {
        t0w,
        row: qrow,
        load: 'ldQ',
        tag: 'Q',
        target: (fw) => index('qf', fw),
      });
      if (shape.causal && read === null) {
        blk.if(lt('lid', 'n'), (stage) => stageKeys(stage, shape, t0w, 'krow'));
        blk.barrier();
      }
      statePart(blk, parts, t0w);
      if (shape.causal && read === null) {
        ownChunk(blk, parts);
        blk.barrier();
      } else if (shape.causal) routedChunks(blk, parts, t0w);
    },
    { step: 'FW' },
  );
  if (shape.causal && !oneBlock) {
    b.comment('The own chunk, exactly: keys ja .. p, scored over every feature block above.');
    b.range('r', 'rEnd', (key, r) => {
      const s = key.let('s', index('scores', r));
      key.compound('den', '+=', s);
      addValues(key, shape, r, s);
    });
  }
}

/** phi of this invocation's key row (F features from t0w) into its row of `kf`. */
function stageKeys(b: BlockBuilder, shape: LinearShape, t0w: Expr, row: Operand): void {
  phiBlock(b, shape, {
    t0w,
    row,
    load: 'ldK',
    tag: 'K',
    target: (fw) => index('kf', add(mul('lid', 'FW'), fw)),
  });
}

/** acc += phi(q)_t S[t, :] and den += phi(q)_t z_t for the block's features t. */
function statePart(b: BlockBuilder, parts: OutputParts, t0w: Expr): void {
  const { shape, partial } = parts;
  const lin = (at: Expr) => index(parts.bindings.lin.name, at);
  b.comment('The state of the keys before this chunk (causal) or of all keys.');
  b.range('fw', uniform('featureRows'), (body, fw) => {
    const t = body.let('t', add(t0w, fw));
    if (partial) body.if(ge(t, 'DPHIW'), (then) => then.break(), undefined, { oneLine: true });
    const w = body.let('w', index('qf', fw));
    body.compound('den', '+=', linearDot(shape, w, lin(add('st', 'ZOFF', t))));
    if (shape.plan.vectorWidth === 4) {
      const srow = body.let('srow', add('st', mul(t, u32(4), 'DVW')));
      const rowAt = (k: number, d: Expr) =>
        lin(k === 0 ? add(srow, d) : add(srow, k === 1 ? 'DVW' : mul(u32(k), 'DVW'), d));
      body.range('d', 'DVW', (row, d) =>
        row.compound(
          index('acc', d),
          '+=',
          add(
            mul(member(w, 'x'), rowAt(0, d)),
            mul(member(w, 'y'), rowAt(1, d)),
            mul(member(w, 'z'), rowAt(2, d)),
            mul(member(w, 'w'), rowAt(3, d)),
          ),
        ),
      );
    } else {
      const srow = body.let('srow', add('st', mul(t, 'DVW')));
      body.range(
        'd',
        'DVW',
        (row, d) => row.compound(index('acc', d), '+=', mul(w, lin(add(srow, d)))),
        { oneLine: true },
      );
    }
  });
}

/**
 * The own chunk's keys ja .. p against the staged phi(k) block: with one feature block each
 * score is used at once, otherwise summed into `scores` for after the last block.
 */
function ownChunk(b: BlockBuilder, parts: OutputParts): void {
  const { shape, oneBlock } = parts;
  if (oneBlock) b.comment('The own chunk, exactly: keys ja .. p.');
  b.range('r', 'rEnd', (key, r) => {
    const s = key.var('s', f32(0));
    key.range(
      'fw',
      'FW',
      (dot, fw) =>
        dot.compound(
          s,
          '+=',
          linearDot(shape, index('qf', fw), index('kf', add(mul(r, 'FW'), fw))),
        ),
      { oneLine: true },
    );
    if (oneBlock) {
      key.compound('den', '+=', s);
      addValues(key, shape, r, s);
    } else key.compound(index('scores', r), '+=', s);
  });
}

/** acc += s v_{ja + r}. */
function addValues(b: BlockBuilder, shape: LinearShape, r: Expr, s: Expr): void {
  const vrow = b.let(
    'vrow',
    rowIndex(shape.attention.layout, 'TOTAL_KV_HEADS', uniform('seqK'), 'DVW', 'b', 'hk', 'ja', r),
  );
  b.range(
    'd',
    'DVW',
    (row, d) => row.compound(index('acc', d), '+=', mul(s, call('ldV', add(vrow, d)))),
    { oneLine: true },
  );
}

/**
 * Head routing, causal: every key chunk holding a row of the tile, in order. The workgroup
 * stages the chunk's phi(k) block and the rows of that chunk score its keys; `cc` is
 * workgroup-uniform (invocation 0 finds the next chunk and shares it through `wgChunk`).
 */
function routedChunks(b: BlockBuilder, parts: OutputParts, t0w: Expr): void {
  const { shape } = parts;
  const read = parts.read!;
  const chunkOf = (slot: Expr) => div(add(read(add('routeRows', slot)), 'offset'), 'C');
  b.comment('Every key chunk holding a row of the tile, in order: stage its phi(k) block, and');
  b.comment(
    'the rows of that chunk score its keys. cc is workgroup-uniform; lid 0 finds the next.',
  );
  const cc = b.var('cc', 'firstChunk');
  const scan = b.var('scan', 'routeFirst');
  b.loop((body) => {
    body.if(eq(cc, 'NO_CHUNK'), (t) => t.break(), undefined, { oneLine: true });
    const jc = body.let('jc', mul(cc, 'C'));
    body.if(lt('lid', min('C', sub(uniform('seqK'), jc))), (stage) => {
      const layout = shape.attention.layout;
      const krow = stage.let(
        'krow',
        rowIndex(layout, 'TOTAL_KV_HEADS', uniform('seqK'), 'DW', 'b', 'hk', jc, 'lid'),
      );
      if (shape.map.kind === 'favor') favorRowPrelude(stage, shape, krow, 'ldK', 'K');
      stageKeys(stage, shape, t0w, krow);
    });
    body.barrier();
    body.if(eq('chunk', cc), (own) => ownChunk(own, parts));
    body.if(eq('lid', u32(0)), (first) => {
      first.while(and(le(scan, 'routeLast'), le(chunkOf(scan), cc)), (w) => w.increment(scan));
      first.assign(
        'wgChunk',
        select('NO_CHUNK', chunkOf(min(scan, 'routeLast')), le(scan, 'routeLast')),
      );
    });
    body.comment('Also the barrier before the next chunk overwrites kf.');
    body.assign(cc, uniformLoad('wgChunk'));
  });
}

/** o = acc / (den + EPS), times the routing weight under head routing; causal idle rows skip. */
function writeRow(b: BlockBuilder, parts: OutputParts): void {
  const { shape, read } = parts;
  const { attention, plan } = shape;
  const o = parts.bindings.o.name;
  if (shape.causal) b.returnIf(not('hasQuery'));
  const orow = b.let(
    'orow',
    rowIndex(attention.layout, 'TOTAL_HEADS', uniform('seqQ'), 'DVW', 'b', 'h', 'i'),
  );
  if (read !== null) b.comment('The routing weight of (row, head).');
  const inv = b.let('inv', div(read === null ? f32(1) : 'routeWeight', add('den', 'EPS')));
  const scaled = (d: Expr) => mul(index('acc', d), inv);
  const codec = linearCodec(shape);
  if (codec.valuesPerWord === 2 && plan.vectorWidth === 4) {
    b.range('d', 'DVW', (row, d) => {
      const x = row.let('x', scaled(d));
      const a = row.let('a', add(uniform('oBase'), mul(u32(2), paren(add(orow, d)))));
      codec.store4(row, o, a, x);
    });
  } else if (codec.valuesPerWord === 2) {
    b.comment("f16: DV is a multiple of 4, so a row is whole words and each word is one row's.");
    b.for(
      'd',
      u32(0),
      (d) => lt(d, 'DV'),
      (row, d) =>
        row.store(
          o,
          add(uniform('oBase'), paren(binary('>>', paren(add(orow, d)), u32(1)))),
          codec.word(construct(T.vec(2, 'f32'), scaled(d), scaled(add(d, u32(1))))),
        ),
      { step: u32(2) },
    );
  } else {
    b.range('d', 'DVW', (row, d) => row.store(o, add(uniform('oBase'), orow, d), scaled(d)), {
      oneLine: true,
    });
  }
}

/**
 * An upper bound of one invocation's loop iterations. Loops over a run-time bound
 * (`P.featureRows`, a row's keys, the routed chunk walk) are paid per trip; loops of a
 * constant trip count are free up to UNROLLED_TRIPS (Mesa unrolls them), paid beyond. Per
 * feature block: phi(q) (and phi(k) of the staged keys, FAVOR+'s projections), the state
 * rows (F features x value_dim: the part that grows with the spec) and the own chunk's C
 * keys; then the scores' pass and the output row. Nothing grows with seqK.
 */
export function outputLoopIterations(shape: LinearShape, headRouting: boolean): number {
  const { attention, map, plan, causal } = shape;
  const W = plan.vectorWidth;
  const C = plan.chunk;
  const DW = attention.headDim / W;
  const DVW = attention.valueDim / W;
  const FW = plan.featureBlock / W;
  const blocks = Math.ceil(featureDim(map, attention.headDim) / plan.featureBlock);
  const favor = map.kind === 'favor';
  const oneBlock = blocks === 1;
  const prelude = favor ? constantLoopCost(DW) : 0;
  // One phi block: a run-time loop over FW vectors, FAVOR+ projecting each (x < DW).
  const phi = loopCost(FW) + (favor ? FW * constantLoopCost(DW) : 0);
  const state = loopCost(FW) + FW * constantLoopCost(DVW);
  const scoreKey = constantLoopCost(FW) + (oneBlock ? constantLoopCost(DVW) : 0);
  const own = loopCost(C) + C * scoreKey;
  // Head routing, causal: the tile's rows fall in at most C chunks, each staged once (a
  // step of the chunk walk, its FAVOR+ prelude and phi block), and the scan over the tile.
  const routedWalk = loopCost(C) + C * (prelude + phi) + (C + C + 1);
  let perBlock = phi + state;
  if (causal) perBlock += headRouting ? routedWalk + own : phi + own;
  const scores = causal && !oneBlock ? loopCost(C) + C * constantLoopCost(DVW) : 0;
  const pairs = linearCodec(shape).valuesPerWord === 2 && W === 1;
  const write = constantLoopCost(pairs ? attention.valueDim / 2 : DVW);
  const keptListSearch = headRouting ? 64 : 0;
  const preludes = prelude * (causal && !headRouting ? 2 : 1);
  return keptListSearch + preludes + loopCost(blocks) + blocks * perBlock + scores + write;
}
