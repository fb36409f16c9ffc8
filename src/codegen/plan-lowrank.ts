// The host-plan part of low-rank groups: their scratch arrays, kernels and dispatches, in the
// order of the group's program (ir/lowrank-ir.ts). compile.ts hands over its layout and step
// list; everything low-rank lives in two buffers of its own: `ef` (the run-time inputs E and
// F, read as scalars) and `lowrank` (partials, projections, landmarks, pinv scratch), so no
// kernel here binds more than four storage buffers (the portable limit), whatever q/k/v share.
// Memory is O(B H (N/chunk) r (D + Dv) + B H m^2): never N x N. Under dtype f16 only q/k/v/o
// are halves (bound as `vec2<u32>`, four per element); E, F and the scratch stay f32.

import type { Attention } from '../ir/ir.js';
import type { LowRankMechanism, LowRankOp } from '../ir/lowrank-ir.js';
import type { PlanBinding, PlanInput, SizeExpr } from './plan.js';
import { size } from './plan.js';
import {
  type GroupShape,
  f32Codec,
  type KernelBuffer,
  tensorCodec,
  tensorUnitWords,
} from './kernels/lowrank-blocks.js';
import {
  QUERY_PLACE,
  smallAttentionKernel,
  type SmallAttentionSpec,
} from './kernels/lowrank-attend.js';
import { rowStart, type RowPlace } from '../kernel/blocks/layout.js';
import type { RowCodec } from '../kernel/blocks/row-codec.js';
import { add, mul, u32, uniform } from '../kernel/build.js';
import {
  linformerProjectKernel,
  linformerReduceKernel,
  projectedRowsAttend,
} from './kernels/linformer.js';
import { nystromLandmarksKernel, nystromPinvChain, pinvWorkWords } from './kernels/nystrom.js';
import type { KernelSource } from './kernel-source.js';
import { bindBuffers, type BufferUse, type GroupPlanContext } from './plan-builder.js';

const SCRATCH = 'lowrank';
const EF = 'ef';

/** Low-rank kernels name a bound buffer `q_buf`, `lowrank_buf`, `qkv_buf`. */
const lowRankName = (buffer: string) => `${buffer.replace(/[^A-Za-z0-9]/g, '_')}_buf`;

/** A buffer use with the codec the kernel reads it with (one per buffer). */
interface TypedUse extends BufferUse {
  readonly codec: RowCodec;
}

/** The binder's bindings as the low-rank kernels declare them (name, access, element). */
function bindLowRank(uses: readonly TypedUse[]) {
  const bound = bindBuffers(uses, lowRankName);
  const declared: KernelBuffer[] = bound.plan.map((p) => {
    const codecs = uses.filter((u) => u.buffer === p.buffer).map((u) => u.codec);
    if (new Set(codecs.map((c) => JSON.stringify(c.stored))).size > 1)
      throw new Error(`internal error: buffer ${p.buffer} bound with two element types`);
    return {
      name: bound.of(p.buffer).name,
      binding: p.binding,
      access: bound.writes(p.buffer) ? 'read_write' : 'read',
      codec: codecs[0]!,
    };
  });
  return { declared, planBindings: bound.plan, nameOf: (buffer: string) => bound.of(buffer).name };
}

/** `E` and `F` `[Hkv, r, max_seq]` when some group is a linformer (they share one rank). */
export function lowRankInputs(ir: Attention): PlanInput[] {
  const linformer = ir.groups
    .map((g) => g.mechanism)
    .find((m): m is LowRankMechanism => m.kind === 'lowrank' && m.method.kind === 'linformer');
  if (!linformer || linformer.method.kind !== 'linformer') return [];
  if (ir.maxSeq === null) throw new Error('internal error: linformer without max_seq');
  const shape = [ir.kvHeads, linformer.method.rank, ir.maxSeq];
  return (['E', 'F'] as const).map((name) => ({
    name,
    dtype: 'f32',
    storage: 'f32',
    dims: ['Hkv', 'r', 'max_seq'],
    shape,
  }));
}

/**
 * Nystrom averages at least one row per landmark, so Nq and Nk must reach the largest
 * landmark count (`constraints.minSeq`, checked by the runtime); absent otherwise.
 */
export function lowRankConstraints(ir: Attention): { readonly minSeq?: number } {
  const counts = ir.groups.flatMap((g) =>
    g.mechanism.kind === 'lowrank' && g.mechanism.method.kind === 'nystrom'
      ? [g.mechanism.method.landmarks]
      : [],
  );
  return counts.length === 0 ? {} : { minSeq: Math.max(...counts) };
}

export function buildLowRankGroup(ctx: GroupPlanContext): void {
  const parts = lowRankParts(ctx);
  if (parts.mechanism.method.kind === 'linformer') planLinformer(parts);
  else planNystrom(parts);
}

/** The group's shape the low-rank kernels are specialized for (lowrank-blocks.ts). */
export function groupShape(ir: Attention, group: GroupPlanContext['group']): GroupShape {
  return {
    attention: ir.name,
    group: group.name,
    width: ir.headDim % 4 === 0 && ir.valueDim % 4 === 0 ? 4 : 1,
    headDim: ir.headDim,
    valueDim: ir.valueDim,
    heads: group.heads,
    kvHeads: group.kvHeads,
    headOffset: group.headOffset,
    kvHeadOffset: group.kvHeadOffset,
    totalHeads: ir.heads,
    totalKvHeads: ir.kvHeads,
    dtype: ir.dtype,
  };
}

// Rows the attend kernels address, over the names they define (lowrank-attend.ts).
const KEY_PLACE: RowPlace = {
  batch: 'b',
  head: 'hk',
  heads: 'TOTAL_KV_HEADS',
  seq: uniform('seqK'),
  row: 'j',
};

/** What every kernel of a low-rank group shares: its shape, scratch, rows and binder. */
function lowRankParts(ctx: GroupPlanContext) {
  const { ir, group } = ctx;
  const builder = ctx.plan;
  const mechanism = group.mechanism;
  if (mechanism.kind !== 'lowrank') throw new Error('internal error: not a low-rank group');
  const shape = groupShape(ir, group);
  builder.layout.buffer(SCRATCH);

  /** Adds a kernel and its uniforms; `builder.dispatch` then runs it (once or repeatedly). */
  const declare = (
    op: LowRankOp,
    kernel: KernelSource,
    bindings: readonly PlanBinding[],
    part?: string,
  ): string => {
    const name = `${group.name}.${op.kind}${part === undefined ? '' : `.${part}`}`;
    builder.kernel(name, kernel, bindings);
    builder.writeUniforms(name);
    return name;
  };

  return {
    ir,
    group,
    builder,
    mechanism,
    shape,
    ...ctx.tensors,
    /** The scratch's codec (f32, the group's vector width). */
    vec: f32Codec(shape.width),
    /** The q/k/v/o buffers' codec (the attention's dtype). */
    tensorVec: tensorCodec(shape),
    scratch: (name: string, elements: SizeExpr) =>
      builder.layout.add(`${group.name}.${name}`, SCRATCH, elements, 'f32'),
    words: (x: SizeExpr) => size.ceilDiv(x, shape.width),
    /** A q/k/v/o word offset in units of its row vector. */
    tensorWords: (x: SizeExpr) => size.ceilDiv(x, tensorUnitWords(shape)),
    /** Landmark `row` of this (batch, local head): `(b * HEADS + hl) * M + row`. */
    landmarkRow: (row: string) => add(mul(add(mul('b', 'HEADS'), 'hl'), 'M'), row),
    declare,
    /** Declares the kernel and runs it once. */
    dispatch: (...args: Parameters<typeof declare>) =>
      builder.dispatch(declare(...args), args[1], 'workgroups'),
    ops: group.program.flatMap((s) => (s.kind === 'lowrank' ? [s.op] : [])),
    // Head routing: the per-query attend kernel walks the kept-row lists, bound after its own.
    keptRows: (declared: readonly KernelBuffer[]) =>
      ctx.headRouting
        ? {
            headRouting: {
              arrays: ctx.headRouting,
              aux: { name: 'aux_buf', binding: declared.length + 1 },
            },
          }
        : {},
    /** The attend kernel's bindings with `aux` after its own under head routing. */
    withAux: (uses: readonly BufferUse[]) =>
      bindBuffers(ctx.headRouting ? [...uses, { buffer: 'aux', write: false }] : uses, lowRankName)
        .plan,
  };
}

type LowRankParts = ReturnType<typeof lowRankParts>;

/** The uses of a kernel that reads q/k/v tensors (then `also`) and writes scratch, in order. */
function readsIntoScratch(
  p: LowRankParts,
  tensors: readonly { readonly buffer: string }[],
  also: readonly TypedUse[] = [],
): TypedUse[] {
  return [
    ...tensors.map((t) => ({ buffer: t.buffer, write: false, codec: p.tensorVec })),
    ...also,
    { buffer: SCRATCH, write: true, codec: p.vec },
  ];
}

/**
 * The attend kernel both programs end with: every query row of q (head routing: the kept
 * ones) over `keys` rows of scratch, written to o.
 */
function attendQueries(
  p: LowRankParts,
  op: LowRankOp,
  over: Pick<
    SmallAttentionSpec,
    'title' | 'uniforms' | 'keys' | 'keyCount' | 'constants' | 'keyRow' | 'valueRow'
  >,
): void {
  const { q, o } = p;
  const uses = [
    { buffer: q.buffer, write: false, codec: p.tensorVec },
    { buffer: SCRATCH, write: false, codec: p.vec },
    { buffer: o.buffer, write: true, codec: p.tensorVec },
  ];
  const b = bindLowRank(uses);
  const emitted = smallAttentionKernel({
    ...over,
    shape: p.shape,
    scale: p.mechanism.scale,
    buffers: b.declared,
    uniforms: [
      { name: 'seqQ', value: 'seqQ' },
      { name: 'qBase', value: p.tensorWords(q.offset) },
      { name: 'oBase', value: p.tensorWords(o.offset) },
      ...over.uniforms,
    ],
    rows: 'seqQ',
    queryRow: rowStart(p.ir.layout, uniform('qBase'), QUERY_PLACE, 'DW'),
    outputRow: rowStart(p.ir.layout, uniform('oBase'), QUERY_PLACE, 'DVW'),
    queryBuffer: b.nameOf(q.buffer),
    keyBuffer: b.nameOf(SCRATCH),
    valueBuffer: b.nameOf(SCRATCH),
    outputBuffer: b.nameOf(o.buffer),
    ...p.keptRows(b.declared),
  });
  p.dispatch(op, emitted, p.withAux(uses));
}

/** Linformer: project k and v by chunks, reduce, attend over the projected rows. */
function planLinformer(p: LowRankParts): void {
  const { ir, group, shape, k, v } = p;
  const layout = p.builder.layout;
  const project = p.ops.find((op) => op.kind === 'linformer-project');
  if (project?.kind !== 'linformer-project') throw new Error('internal error: no projection');
  const rank = project.rank;
  const chunk = project.chunk;
  if (ir.maxSeq === null) throw new Error('internal error: linformer without max_seq');
  const maxSeq = ir.maxSeq;
  layout.buffer(EF);
  if (!layout.arrays.some((a) => a.name === 'E')) {
    const efLength = ir.kvHeads * rank * maxSeq;
    layout.add('E', EF, efLength, 'f32');
    layout.add('F', EF, efLength, 'f32');
  }
  const eOff = layout.arrays.find((a) => a.name === 'E')!.offset;
  const fOff = layout.arrays.find((a) => a.name === 'F')!.offset;
  const rowWords = ir.headDim + ir.valueDim;
  const partial = p.scratch(
    'kv_partial',
    size.mul('batch', group.kvHeads, size.ceilDiv('seqK', chunk), rank, rowWords),
  );
  const projected = p.scratch('kv_projected', size.mul('batch', group.kvHeads, rank, rowWords));
  for (const op of p.ops) {
    switch (op.kind) {
      case 'linformer-project': {
        const ef = { buffer: EF, write: false, codec: f32Codec(1) };
        const b = bindLowRank(readsIntoScratch(p, [k, v], [ef]));
        const emitted = linformerProjectKernel(shape, ir.layout, rank, chunk, maxSeq, b.declared, {
          k: { buffer: b.nameOf(k.buffer), base: k.offset },
          v: { buffer: b.nameOf(v.buffer), base: v.offset },
          e: { buffer: b.nameOf(EF), base: eOff },
          f: { buffer: b.nameOf(EF), base: fOff },
          partial: { buffer: b.nameOf(SCRATCH), base: partial },
        });
        p.dispatch(op, emitted, b.planBindings);
        break;
      }
      case 'linformer-reduce': {
        const b = bindLowRank([{ buffer: SCRATCH, write: true, codec: p.vec }]);
        const emitted = linformerReduceKernel(
          shape,
          rank,
          chunk,
          b.declared[0]!,
          partial,
          projected,
        );
        p.dispatch(op, emitted, b.planBindings);
        break;
      }
      case 'attend-small': {
        attendQueries(p, op, projectedRowsAttend(rank, p.words(projected)));
        break;
      }
      default:
        throw new Error(`internal error: ${op.kind} in a linformer program`);
    }
  }
}

/** Nystrom: landmarks, their values, the pseudo-inverse chain, attend over the landmarks. */
function planNystrom(p: LowRankParts): void {
  const { group, shape, q, k, landmarkRow, words } = p;
  const method = p.mechanism.method;
  if (method.kind !== 'nystrom') throw new Error('internal error: not a nystrom group');
  const m = method.landmarks;
  const perHead = (x: SizeExpr) => size.mul('batch', group.heads, x);
  const landmarks = p.scratch('landmarks', perHead(m * 2 * p.ir.headDim));
  const landmarkValues = p.scratch('landmark_values', perHead(m * p.ir.valueDim));
  const work = p.scratch('pinv_work', perHead(pinvWorkWords(m)));
  const mixed = p.scratch('mixed', perHead(m * p.ir.valueDim));
  for (const op of p.ops) {
    switch (op.kind) {
      case 'nystrom-landmarks': {
        const b = bindLowRank(readsIntoScratch(p, [q, k]));
        const emitted = nystromLandmarksKernel(shape, p.ir.layout, m, b.declared, {
          q: { buffer: b.nameOf(q.buffer), base: q.offset },
          k: { buffer: b.nameOf(k.buffer), base: k.offset },
          landmarks: { buffer: b.nameOf(SCRATCH), base: landmarks },
        });
        p.dispatch(op, emitted, b.planBindings);
        break;
      }
      case 'nystrom-landmark-values':
        landmarkValuesKernel(p, op, m, landmarks, landmarkValues);
        break;
      case 'nystrom-pinv': {
        const b = bindLowRank([{ buffer: SCRATCH, write: true, codec: f32Codec(1) }]);
        const { scale } = p.mechanism;
        const chain = nystromPinvChain(shape, scale, m, method.iters, b.declared[0]!, {
          landmarks,
          landmarkValues,
          work,
          mixed,
        });
        const declared = new Map(
          chain.kernels.map((k) => [
            k.name,
            { name: p.declare(op, k.kernel, b.planBindings, k.name), kernel: k.kernel },
          ]),
        );
        for (const part of chain.dispatches) {
          const k = declared.get(part);
          if (!k) throw new Error(`internal error: no pinv kernel ${part}`);
          p.builder.dispatch(k.name, k.kernel, 'workgroups');
        }
        break;
      }
      case 'attend-small':
        attendQueries(p, op, {
          title: `nystrom attention over ${m} landmarks`,
          uniforms: [
            { name: 'landmarksBase', value: words(landmarks) },
            { name: 'mixedBase', value: words(mixed) },
          ],
          keys: 'M',
          keyCount: m,
          constants: [{ name: 'M', value: m }],
          keyRow: add(uniform('landmarksBase'), mul(landmarkRow('j'), u32(2), 'DW'), 'DW'),
          valueRow: add(uniform('mixedBase'), mul(landmarkRow('j'), 'DVW')),
        });
        break;
      default:
        throw new Error(`internal error: ${op.kind} in a nystrom program`);
    }
  }
}

/** Nystrom's landmark values: each of the m query landmarks attends over every key. */
function landmarkValuesKernel(
  parts: LowRankParts,
  op: LowRankOp,
  m: number,
  landmarks: SizeExpr,
  landmarkValues: SizeExpr,
): void {
  const { k, v, words, tensorWords, landmarkRow } = parts;
  const b = bindLowRank(readsIntoScratch(parts, [k, v]));
  const emitted = smallAttentionKernel({
    title: `nystrom landmark values: ${m} query landmarks over every key`,
    shape: parts.shape,
    scale: parts.mechanism.scale,
    buffers: b.declared,
    uniforms: [
      { name: 'seqK', value: 'seqK' },
      { name: 'kBase', value: tensorWords(k.offset) },
      { name: 'vBase', value: tensorWords(v.offset) },
      { name: 'landmarksBase', value: words(landmarks) },
      { name: 'valuesBase', value: words(landmarkValues) },
    ],
    rows: m,
    keys: uniform('seqK'),
    keyCount: 'seqK',
    constants: [{ name: 'M', value: m }],
    queryRow: add(uniform('landmarksBase'), mul(landmarkRow('row'), u32(2), 'DW')),
    outputRow: add(uniform('valuesBase'), mul(landmarkRow('row'), 'DVW')),
    keyRow: rowStart(parts.ir.layout, uniform('kBase'), KEY_PLACE, 'DW'),
    valueRow: rowStart(parts.ir.layout, uniform('vBase'), KEY_PLACE, 'DVW'),
    queryBuffer: b.nameOf(SCRATCH),
    keyBuffer: b.nameOf(k.buffer),
    valueBuffer: b.nameOf(v.buffer),
    outputBuffer: b.nameOf(SCRATCH),
  });
  parts.dispatch(op, emitted, b.planBindings);
}
