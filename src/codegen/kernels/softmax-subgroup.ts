// The `subgroup` schedule of the fused softmax kernel (GPU-shaped, needs the `subgroups`
// feature), on the kernel IR with the softmax blocks: the grid row source (one query tile per
// workgroup), the key walk's visited tiles and staging (softmax-walk.ts, so the KV cache's
// ring addressing applies through keyRowWalk), the mask helpers and the score modifiers.
// As in decode/flash kernels on GPUs, the lanes of one subgroup cooperate on a query row: each
// lane owns the strided slice `d = lane, lane + sgSize, ...` of D (for q·k) and of DV (for the
// accumulator), the score is the `subgroupAdd` of the lane partials, so the online-softmax
// state (running max and sum) is the same in every lane and each lane rescales and accumulates
// only its own slice. The subgroup size is a run-time value, so every per-lane loop strides by
// `sgSize` and each subgroup walks several rows of the query tile: the tile shape (TQ rows, TK
// keys) that block planning chose stays fixed whatever the subgroup size. The workgroup (128)
// is a multiple of every subgroup size (powers of two, 4..128), so subgroups are full; which
// invocations form a subgroup is not assumed (subgroups take numbered tickets).
//
// Memory: K/V tiles, q rows (pre-scaled), accumulators and the per-row max/sum live in
// workgroup memory as plain f32, because a lane's share of a row depends on the run-time
// subgroup size. Per key tile a row's accumulator slice is rescaled once (tile max first, then
// p·v), not once per key. Barriers and subgroup operations sit only in workgroup-uniform
// control flow (tile values through workgroupUniformLoad; rows past the tile are computed on a
// clamped row and never stored); the kernel verifier checks both.

import type { Attention, Group } from '../../ir/ir.js';
import { SUBGROUP_WORKGROUP_SIZE } from '../../passes/plan-blocks.js';
import { keyHeadsOf, rowIndex } from '../../kernel/blocks/layout.js';
import { modifyScore } from '../../kernel/blocks/online-softmax.js';
import { rowCodec, rowUnit } from '../../kernel/blocks/row-codec.js';
import {
  add,
  addressOf,
  and,
  call,
  construct,
  div,
  eq,
  f32,
  gt,
  index,
  ref,
  KernelBuilder,
  lt,
  max,
  member,
  min,
  mod,
  mul,
  select,
  sub,
  T,
  u32,
  uniform,
  workgroupUniformLoad,
  type BlockBuilder,
} from '../../kernel/build.js';
import { SUBGROUP_INPUTS, type Expr, type Kernel } from '../../kernel/ir.js';
import { subgroupLoopIterations } from '../wgsl/loop-budget.js';
import {
  keySlotUniforms,
  lseUniforms,
  softmaxKernelSetup,
  type FusedStep,
  type KernelTarget,
  type SoftmaxArrays,
  type SoftmaxBindings,
  type SoftmaxKernelSetup,
} from '../wgsl/softmax-kernel-setup.js';
import { alibiSlope, declareBindings, declareConstants, helperParagraphs } from './softmax.js';
import { gridTile, keyRowBases } from './softmax-rows.js';
import { lseStore, stage, stagedTile, visitedTiles } from './softmax-walk.js';

/** What the parts of main share: the unit (1 or 4 f32s a storage element holds) and more. */
interface Shape {
  readonly attention: Attention;
  readonly step: FusedStep;
  readonly setup: SoftmaxKernelSetup;
  readonly bindings: SoftmaxBindings;
  readonly codec: ReturnType<typeof rowCodec>;
  readonly unit: 1 | 4;
}

export function subgroupSoftmaxKernel(
  attention: Attention,
  group: Group,
  step: FusedStep,
  bindings: SoftmaxBindings,
  arrays: SoftmaxArrays,
  target: KernelTarget = { nativeF16: false },
): Kernel {
  const { plan, mask } = step;
  if (plan.variant !== 'subgroup') throw new Error('internal error: not a subgroup plan');
  if (arrays.headRouting) throw new Error('internal error: head routing in subgroup kernel');
  // Storage is read in units: four halves (f16: packed u32s or native), vec4<f32>, or f32.
  const unit = rowUnit(attention.dtype, plan.vectorWidth);
  if (attention.headDim % unit !== 0 || attention.valueDim % unit !== 0)
    throw new Error('internal error: dims not a multiple of unit');
  const codec = rowCodec(attention.dtype, unit, target.nativeF16);
  const setup = softmaxKernelSetup(group, step, arrays, codec.unitWords);
  if (setup.leaves.some((leaf) => leaf.kind === 'routed'))
    throw new Error('internal error: routed leaf in subgroup kernel');
  const shape: Shape = { attention, step, setup, bindings, codec, unit };
  const WG = SUBGROUP_WORKGROUP_SIZE;
  const k = new KernelBuilder(WG);
  k.header(
    `attnc fused softmax: attention ${attention.name}, group ${group.name}, variant subgroup`,
    `mask leaves: ${setup.leaves.map((l) => l.kind).join(', ')}`,
  );
  declareConstants(k, attention, group, { ...plan, vectorWidth: unit }, [['WG', WG]]);
  const lse = bindings.lse ?? null;
  for (const u of [
    ...setup.uniforms,
    ...setup.randomUniforms,
    ...lseUniforms(lse),
    ...keySlotUniforms(attention, group),
  ])
    k.uniform(u.name, u.value);
  declareBindings(k, bindings, codec);
  declareWorkgroupMemory(k);
  helperParagraphs(step, setup, codec, bindings.aux, false).forEach((paragraph, n) =>
    paragraph.forEach((fn, m) => k.function(m === 0 && n > 0 ? { ...fn, blankBefore: 1 } : fn)),
  );
  k.gridIndex(
    'workgroup',
    'linear',
    'total',
    'Dispatches fold (batch, head, query tile) into up to two dimensions.',
  );
  k.inputs(SUBGROUP_INPUTS);
  k.main((b) => {
    gridTile(b);
    keyRowBases(b, attention);
    subgroupTickets(b);
    loadQueryTile(b, shape);
    visitedTiles(b, { mask, tiles: 'staged' }, (first) =>
      first.assign('wgSubgroups', call('atomicLoad', addressOf('wgTickets'))),
    );
    b.let('subgroups', workgroupUniformLoad('wgSubgroups'));
    b.comment('Subgroup sg owns rows sg, sg + subgroups, ... of the tile.');
    b.let('rowsPerSubgroup', div(sub(add('TQ', 'subgroups'), u32(1)), 'subgroups'));
    if (step.score.bias === 'alibi') alibiSlope(b);
    b.comment('Scores of one row for the current key tile (the same in every lane), then weights.');
    b.var('sc', undefined, T.array(T.f32, 'TK'));
    b.range('n', 'visits', (tile) => keyTile(tile, shape));
    b.barrier();
    storeTile(b, shape);
  });
  k.loopIterations(
    subgroupLoopIterations({
      mask,
      plan,
      headDim: attention.headDim,
      valueDim: attention.valueDim,
      unit,
      workgroupSize: WG,
    }),
  );
  return k.build();
}

/** The tile's q rows, accumulators, row states, K/V, and its tile-level values. */
function declareWorkgroupMemory(k: KernelBuilder): void {
  const f32Tile = (name: string, length: Expr, doc?: readonly string[]) =>
    k.workgroupVar(name, T.array(T.f32, length), doc);
  f32Tile('qTile', mul('TQ', 'D'), [
    'q rows (pre-scaled) and accumulators of the query tile; lanes own strided columns.',
  ]);
  f32Tile('accTile', mul('TQ', 'DV'));
  f32Tile('rowMax', ref('TQ'));
  f32Tile('rowSum', ref('TQ'));
  f32Tile('kTile', mul('TK', 'D'));
  f32Tile('vTile', mul('TK', 'DV'));
  k.workgroupVar('wgClass', T.u32, [
    'Tile-level values pass through workgroupUniformLoad so barriers and subgroup operations',
    'sit in uniform control flow.',
  ]);
  for (const name of ['wgFirst', 'wgSecond', 'wgEnd', 'wgSubgroups']) k.workgroupVar(name, T.u32);
  k.workgroupVar('wgTickets', T.atomicU32);
}

/** `sg`: the subgroup's number, 0..count-1, from an atomic ticket per subgroup. */
function subgroupTickets(b: BlockBuilder): void {
  b.comment('Number the subgroups 0..count-1 with a ticket per subgroup: nothing is assumed about');
  b.comment('how invocations map to subgroups.');
  b.var('ticket', u32(0));
  b.if(
    call('subgroupElect'),
    (t) => t.assign('ticket', call('atomicAdd', addressOf('wgTickets'), u32(1))),
    undefined,
    { oneLine: true },
  );
  b.let('sg', call('subgroupBroadcastFirst', 'ticket'));
}

/** Writes a unit (f32, or a vec4 spread over four f32s) to `tile[x * unit ..]`. */
function spread(b: BlockBuilder, unit: 1 | 4, tile: string, x: Expr, value: Expr): void {
  if (unit === 1) {
    b.assign(index(tile, x), value);
    return;
  }
  const v = b.let('unit', value);
  ['x', 'y', 'z', 'w'].forEach((c, n) =>
    b.assign(index(tile, n === 0 ? mul(x, u32(4)) : add(mul(x, u32(4)), u32(n))), member(v, c)),
  );
}

/** The query tile, pre-scaled, zeroed accumulators and row states, then a barrier. */
function loadQueryTile(b: BlockBuilder, s: Shape): void {
  const strided = (count: Expr, body: (b: BlockBuilder, x: Expr) => void, oneLine = false) =>
    b.for('x', 'lid', (x) => lt(x, count), body, { step: 'WG', oneLine });
  b.comment('The query tile (rows past seqQ repeat the last row and are never stored).');
  strided(mul('TQ', 'DW'), (body, x) => {
    const row = body.let(
      'row',
      min(add(mul('qt', 'TQ'), div(x, 'DW')), sub(uniform('seqQ'), u32(1))),
    );
    const at = add(
      uniform('qBase'),
      rowIndex(s.attention.layout, 'TOTAL_HEADS', uniform('seqQ'), 'DW', 'b', 'h', row),
      mod(x, 'DW'),
    );
    spread(
      body,
      s.unit,
      'qTile',
      x,
      mul(s.codec.load(index(s.bindings.q.name, at)), f32(s.setup.qFactor)),
    );
  });
  strided(mul('TQ', 'DV'), (body, x) => body.assign(index('accTile', x), f32(0)), true);
  strided(
    ref('TQ'),
    (body, x) => {
      body.assign(index('rowMax', x), 'NEG_BIG');
      body.assign(index('rowSum', x), f32(0));
    },
    true,
  );
  b.barrier();
}

/** One visited key tile: stage K/V, then each of the subgroup's rows. */
function keyTile(tile: BlockBuilder, s: Shape): void {
  stagedTile(tile);
  tile.comment('Stage the K/V tile once for all the subgroups of the workgroup.');
  for (const [name, binding, width, base] of [
    ['kTile', s.bindings.k.name, 'DW', 'kBase0'],
    ['vTile', s.bindings.v.name, 'DVW', 'vBase0'],
  ] as const)
    stage(
      tile,
      {
        layout: s.attention.layout,
        keyHeads: keyHeadsOf(s.attention.groups.length),
        codec: s.codec,
      },
      {
        tile: name,
        binding,
        width,
        base,
        step: 'WG',
        write: (body, x, unit) => spread(body, s.unit, name, x, unit),
      },
    );
  tile.barrier();
  tile.let('nk', sub('j1', 'ja'));
  tile.range('t', 'rowsPerSubgroup', (row) => subgroupRow(row, s));
  tile.barrier();
}

/** Row `sg + t * subgroups` of the tile: scores by subgroupAdd, then the online update. */
function subgroupRow(b: BlockBuilder, s: Shape): void {
  const r = b.let('r', add('sg', mul('t', 'subgroups')));
  b.let('mine', lt(r, 'TQ'));
  const rc = b.let('rc', min(r, sub('TQ', u32(1))));
  b.let('p', add(min(add(mul('qt', 'TQ'), rc), sub(uniform('seqQ'), u32(1))), 'offset'));
  const aux = s.bindings.aux?.name;
  b.let(
    'segRow',
    s.setup.hasSegment && aux
      ? index(aux, sub(add(uniform('segQBase'), mul('b', uniform('seqQ')), 'p'), 'offset'))
      : u32(0),
  );
  b.let('qRow', mul(rc, 'D'));
  b.var('tileMax', 'NEG_BIG');
  // Scores twice: full tiles never evaluate the mask, partial tiles do per key.
  b.if(
    eq('c', u32(2)),
    (full) => scores(full, s, false),
    (partial) => scores(partial, s, true),
  );
  b.comment('Lane 0 alone reads and writes the row max and sum; the other lanes get them by');
  b.comment('broadcast, so no lane can read a value lane 0 already replaced (lanes of a');
  b.comment('subgroup need not run in lockstep).');
  const state = T.vec(2, 'f32');
  b.var('state', construct(state, 'NEG_BIG', f32(0)));
  b.if(
    and('mine', eq('lane', u32(0))),
    (t) => t.assign('state', construct(state, index('rowMax', rc), index('rowSum', rc))),
    undefined,
    { oneLine: true },
  );
  b.assign('state', call('subgroupBroadcast', 'state', u32(0)));
  b.if('mine', (mine) => onlineUpdate(mine, rc));
}

/** `sc[jj]`: the scores of the tile's keys for the row, and their max `tileMax`. */
function scores(b: BlockBuilder, s: Shape, masked: boolean): void {
  b.range('jj', 'nk', (key, jj) => {
    const part = key.var('part', f32(0));
    key.for(
      'd',
      'lane',
      (d) => lt(d, 'D'),
      (lane, d) =>
        lane.compound(
          part,
          '+=',
          mul(index('qTile', add('qRow', d)), index('kTile', add(mul(jj, 'D'), d))),
        ),
      { step: 'sgSize', oneLine: true },
    );
    const score = key.var('s', call('subgroupAdd', part));
    modifyScore(key, s.step.score, s.setup.modified, score, add('ja', jj));
    if (masked)
      key.assign(
        score,
        select('NEG_BIG', score, call('allowed', 'p', add('ja', jj), 'b', 'segRow')),
      );
    key.assign(index('sc', jj), score);
    key.assign('tileMax', max('tileMax', score));
  });
}

/** One rescale per tile, the tile's weights and value products on the lane's slice of DV. */
function onlineUpdate(b: BlockBuilder, rc: Expr): void {
  b.comment('One rescale per tile; a masked key (NEG_BIG) weighs 0, and a first tile');
  b.comment('rescales by exp2(-huge) = 0, never inf - inf.');
  const mOld = b.let('mOld', member('state', 'x'));
  const mNew = b.let('mNew', max(mOld, 'tileMax'));
  const rescale = b.let('rescale', call('exp2', sub(mOld, mNew)));
  b.var('sum', f32(0));
  b.range('jj', 'nk', (key, jj) => {
    const sc = index('sc', jj);
    const w = key.let('w', select(f32(0), call('exp2', sub(sc, mNew)), gt(sc, 'NEG_BIG')));
    key.assign(sc, w);
    key.compound('sum', '+=', w);
  });
  b.for(
    'd',
    'lane',
    (d) => lt(d, 'DV'),
    (lane, d) => {
      const at = index('accTile', add(mul(rc, 'DV'), d));
      const a = lane.var('a', mul(at, rescale));
      lane.range(
        'jj',
        'nk',
        (key, jj) =>
          key.compound(a, '+=', mul(index('sc', jj), index('vTile', add(mul(jj, 'DV'), d)))),
        { oneLine: true },
      );
      lane.assign(at, a);
    },
    { step: 'sgSize' },
  );
  b.if(eq('lane', u32(0)), (first) => {
    first.assign(index('rowMax', rc), mNew);
    first.assign(index('rowSum', rc), add(mul(member('state', 'y'), rescale), 'sum'));
  });
}

/** The whole workgroup stores the tile's rows; a row with no allowed key gets 0, never 0/0. */
function storeTile(b: BlockBuilder, s: Shape): void {
  b.comment('The whole workgroup stores the tile; a row with no allowed key gets 0, never 0/0.');
  const lse = s.bindings.lse ?? null;
  b.for(
    'x',
    'lid',
    (x) => lt(x, mul('TQ', 'DVW')),
    (body, x) => {
      const r = body.let('r', div(x, 'DVW'));
      const i = body.let('i', add(mul('qt', 'TQ'), r));
      body.if(lt(i, uniform('seqQ')), (row) => {
        const l = row.let('l', index('rowSum', r));
        const inv = row.let('inv', select(f32(0), div(f32(1), l), gt(l, f32(0))));
        if (lse)
          row.if(
            eq(mod(x, 'DVW'), u32(0)),
            (first) => lseStore(first, lse, 'i', index('rowMax', r)),
            undefined,
            {
              oneLine: true,
            },
          );
        const acc =
          s.unit === 4
            ? construct(
                T.vec(4, 'f32'),
                ...[0, 1, 2, 3].map((n) =>
                  index('accTile', n === 0 ? mul(x, u32(4)) : add(mul(x, u32(4)), u32(n))),
                ),
              )
            : index('accTile', x);
        const at = add(
          uniform('oBase'),
          rowIndex(s.attention.layout, 'TOTAL_HEADS', uniform('seqQ'), 'DVW', 'b', 'h', i),
          mod(x, 'DVW'),
        );
        row.store(s.bindings.o.name, at, s.codec.store(mul(acc, inv)));
      });
    },
    { step: 'WG' },
  );
}
