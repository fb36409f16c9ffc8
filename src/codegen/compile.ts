// compileAttention: checked spec + device profile -> kernels and host plan. This module owns
// the memory layout decisions (which arrays share a buffer) and the step order; the WGSL text
// itself comes from codegen/wgsl. Pure and deterministic: no device is touched.

import type { CheckedAttention } from '../check/checked.js';
import type { Attention } from '../ir/ir.js';
import { maskLeaves } from '../ir/ir.js';
import { lowerAttention, UnsupportedFeatureError } from '../lower/lower.js';
import { runPipeline } from '../passes/pipeline.js';
import type { DeviceProfile } from '../target/profile.js';
import type {
  TensorDType,
  HostPlan,
  PlanArray,
  PlanBinding,
  PlanBuffer,
  PlanInput,
  PlanKernel,
  PlanStep,
  SizeExpr,
} from './plan.js';
import { size } from './plan.js';
import { emitSegmentRangesKernel } from './wgsl/emit-segment-ranges.js';
import { emitSoftmaxKernel, type SoftmaxBindings } from './wgsl/emit-softmax.js';

export interface CompiledAttention {
  readonly name: string;
  /** Name of the profile it was compiled for. */
  readonly profile: string;
  /** The optimized IR the kernels came from (for `attnc explain`). */
  readonly ir: Attention;
  readonly plan: HostPlan;
}

export interface CompileOptions {
  /** Run the IR verifier after every pass (tests do). */
  readonly verify?: boolean;
}

export function compileAttention(
  checked: CheckedAttention,
  profile: DeviceProfile,
  options: CompileOptions = {},
): CompiledAttention {
  const lowered = lowerAttention(checked);
  if (!lowered.ok) throw new UnsupportedFeatureError(lowered.unsupported);
  const ir = runPipeline(lowered.attention, { profile }, { verify: options.verify ?? false });
  return { name: ir.name, profile: profile.name, ir, plan: buildHostPlan(ir, profile) };
}

/** One array's place in the layout: regions appended to buffers, 16-byte aligned. */
class Layout {
  readonly buffers: PlanBuffer[] = [];
  readonly arrays: PlanArray[] = [];
  private readonly ends = new Map<string, SizeExpr>();

  buffer(name: string): void {
    if (!this.ends.has(name)) this.ends.set(name, 0);
  }

  /** `length` in elements; f16 elements take half a word. */
  add(name: string, buffer: string, elements: SizeExpr, element: TensorDType): SizeExpr {
    const length = element === 'f16' ? size.ceilDiv(elements, 2) : elements;
    const offset = this.ends.get(buffer);
    if (offset === undefined) throw new Error(`internal error: unknown buffer ${buffer}`);
    this.arrays.push({ name, buffer, offset, length, element });
    this.ends.set(
      buffer,
      offset === 0 ? size.alignUp(length, 4) : size.add(offset, size.alignUp(length, 4)),
    );
    return offset;
  }

  finish(): PlanBuffer[] {
    for (const [name, end] of this.ends)
      this.buffers.push({ name, kind: 'storage', size: size.mul(end, 4) });
    return this.buffers;
  }
}

export function buildHostPlan(ir: Attention, profile: DeviceProfile): HostPlan {
  const bhnd = ir.layout === 'bhnd';
  const H = ir.heads;
  const Hkv = ir.kvHeads;
  const qShape: SizeExpr[] = bhnd
    ? ['batch', H, 'seqQ', ir.headDim]
    : ['batch', 'seqQ', H, ir.headDim];
  const kShape: SizeExpr[] = bhnd
    ? ['batch', Hkv, 'seqK', ir.headDim]
    : ['batch', 'seqK', Hkv, ir.headDim];
  const vShape: SizeExpr[] = bhnd
    ? ['batch', Hkv, 'seqK', ir.valueDim]
    : ['batch', 'seqK', Hkv, ir.valueDim];
  const oShape: SizeExpr[] = bhnd
    ? ['batch', H, 'seqQ', ir.valueDim]
    : ['batch', 'seqQ', H, ir.valueDim];
  const dims = (d: string, h: string, n: string) => (bhnd ? ['B', h, n, d] : ['B', n, h, d]);
  const usesSegment = ir.groups.some((g) => g.tables.some((t) => t.kind === 'segment-ranges'));
  const usesAux = ir.groups.some((g) => g.tables.length > 0);

  const inputs: PlanInput[] = [
    { name: 'q', dtype: 'f32', storage: ir.dtype, dims: dims('D', 'H', 'Nq'), shape: qShape },
    { name: 'k', dtype: 'f32', storage: ir.dtype, dims: dims('D', 'Hkv', 'Nk'), shape: kShape },
    { name: 'v', dtype: 'f32', storage: ir.dtype, dims: dims('Dv', 'Hkv', 'Nk'), shape: vShape },
  ];
  if (usesSegment) {
    inputs.push(
      { name: 'seg_q', dtype: 'u32', storage: 'u32', dims: ['B', 'Nq'], shape: ['batch', 'seqQ'] },
      { name: 'seg_k', dtype: 'u32', storage: 'u32', dims: ['B', 'Nk'], shape: ['batch', 'seqK'] },
    );
  }

  // Storage bindings of the softmax kernel: q, k, v, o (+ aux). Past the device's limit, q, k
  // and v share one buffer (compatibility mode has 4 per stage).
  const storageNeeded = 4 + (usesAux ? 1 : 0);
  const packed = storageNeeded > profile.limits.maxStorageBuffersPerShaderStage;
  const layout = new Layout();
  const qBuf = packed ? 'qkv' : 'q';
  const kBuf = packed ? 'qkv' : 'k';
  const vBuf = packed ? 'qkv' : 'v';
  for (const b of [qBuf, kBuf, vBuf, 'o']) layout.buffer(b);
  const product = (shape: SizeExpr[]) => size.mul(...shape);
  const qOff = layout.add('q', qBuf, product(qShape), ir.dtype);
  const kOff = layout.add('k', kBuf, product(kShape), ir.dtype);
  const vOff = layout.add('v', vBuf, product(vShape), ir.dtype);
  const oOff = layout.add('o', 'o', product(oShape), ir.dtype);
  let segQOff: SizeExpr | null = null;
  let segKOff: SizeExpr | null = null;
  if (usesAux) layout.buffer('aux');
  if (usesSegment) {
    segQOff = layout.add('seg_q', 'aux', size.mul('batch', 'seqQ'), 'u32');
    segKOff = layout.add('seg_k', 'aux', size.mul('batch', 'seqK'), 'u32');
  }

  const steps: PlanStep[] = [];
  for (const input of inputs) steps.push({ kind: 'upload', input: input.name, array: input.name });
  const kernels: PlanKernel[] = [];
  const uniformBuffers: PlanBuffer[] = [];

  const bindingFor = (names: string[]) => {
    const unique = [...new Set(names)];
    return new Map(unique.map((n, i) => [n, i + 1]));
  };

  for (const group of ir.groups) {
    const tableOffsets = new Map<string, SizeExpr>();
    for (const table of group.tables) {
      switch (table.kind) {
        case 'random-blocks': {
          const blocks = size.ceilDiv('seqK', table.block);
          const length = size.mul(blocks, size.min(table.count, blocks));
          tableOffsets.set(table.name, layout.add(table.name, 'aux', length, 'u32'));
          break;
        }
        case 'segment-ranges': {
          const tiles = size.add(
            size.ceilDiv('seqQ', table.queryTile),
            size.ceilDiv('seqK', table.keyTile),
          );
          tableOffsets.set(
            table.name,
            layout.add(table.name, 'aux', size.mul('batch', tiles, 2), 'u32'),
          );
          break;
        }
      }
    }
    for (const step of group.program) {
      switch (step.kind) {
        case 'draw-random-blocks': {
          const table = group.tables.find((t) => t.name === step.table);
          if (table?.kind !== 'random-blocks')
            throw new Error('internal error: random table missing');
          steps.push({
            kind: 'fill-random-blocks',
            array: table.name,
            seed: table.seed,
            count: table.count,
            block: table.block,
          });
          break;
        }
        case 'segment-tile-ranges': {
          const table = group.tables.find((t) => t.name === step.table);
          if (table?.kind !== 'segment-ranges')
            throw new Error('internal error: segment table missing');
          const name = `${group.name}.segment_ranges`;
          const emitted = emitSegmentRangesKernel(
            table.queryTile,
            table.keyTile,
            { name: 'aux', binding: 1 },
            {
              segQ: need(segQOff),
              segK: need(segKOff),
              ranges: need(tableOffsets.get(table.name)),
            },
          );
          pushKernel(name, emitted, [{ binding: 1, buffer: 'aux', type: 'storage' }]);
          const total = size.ceilDiv(
            emitted.uniforms.find((u) => u.name === 'total')!.value,
            emitted.workgroupSize,
          );
          steps.push(
            { kind: 'write-uniforms', kernel: name },
            { kind: 'dispatch', kernel: name, workgroups: fold(total, profile) },
          );
          break;
        }
        case 'fused-softmax': {
          const name = `${group.name}.softmax`;
          const needsAux = group.tables.length > 0;
          const order = [qBuf, kBuf, vBuf, 'o', ...(needsAux ? ['aux'] : [])];
          const slots = bindingFor(order);
          const slot = (buffer: string) => ({
            name: buffer === 'o' ? 'obuf' : `${buffer}buf`,
            binding: slots.get(buffer)!,
          });
          const bindings: SoftmaxBindings = {
            q: slot(qBuf),
            k: slot(kBuf),
            v: slot(vBuf),
            o: slot('o'),
            aux: needsAux ? slot('aux') : null,
          };
          const randomTables = maskLeaves(step.mask).flatMap((_, i) => {
            const rule = step.plan.rules[i];
            return rule?.kind === 'random-table' ? [need(tableOffsets.get(rule.table))] : [];
          });
          const segTable = group.tables.find((t) => t.kind === 'segment-ranges');
          const emitted = emitSoftmaxKernel(ir, group, step, bindings, {
            q: qOff,
            k: kOff,
            v: vOff,
            o: oOff,
            segQ: segQOff,
            segK: segKOff,
            segRanges: segTable ? need(tableOffsets.get(segTable.name)) : null,
            random: randomTables,
          });
          const planBindings: PlanBinding[] = [...slots].map(([buffer, binding]) => ({
            binding,
            buffer,
            type: buffer === 'o' ? 'storage' : 'read-only-storage',
          }));
          pushKernel(name, emitted, planBindings);
          const total = emitted.uniforms.find((u) => u.name === 'total')!.value;
          steps.push(
            { kind: 'write-uniforms', kernel: name },
            { kind: 'dispatch', kernel: name, workgroups: fold(total, profile) },
          );
          break;
        }
      }
    }
  }
  steps.push({ kind: 'read-output', output: 'o', array: 'o' });

  function pushKernel(
    name: string,
    emitted: ReturnType<typeof emitSoftmaxKernel>,
    bindings: PlanBinding[],
  ) {
    const uniformBuffer = `params.${name}`;
    uniformBuffers.push({
      name: uniformBuffer,
      kind: 'uniform',
      size: Math.ceil((emitted.uniforms.length * 4) / 16) * 16,
    });
    kernels.push({
      name,
      entryPoint: 'main',
      wgsl: emitted.wgsl,
      workgroupSize: emitted.workgroupSize,
      bindings: [{ binding: 0, buffer: uniformBuffer, type: 'uniform' }, ...bindings],
      uniforms: emitted.uniforms,
      uniformBuffer,
    });
  }

  return {
    version: 1,
    inputs,
    outputs: [
      {
        name: 'o',
        dtype: 'f32',
        storage: ir.dtype,
        dims: dims('Dv', 'H', 'Nq'),
        shape: oShape,
        array: 'o',
      },
    ],
    buffers: [...layout.finish(), ...uniformBuffers],
    arrays: layout.arrays,
    kernels,
    steps,
    constraints: { maxSeqK: ir.maxSeq },
    profile: profile.name,
  };
}

/** Workgroup counts folded into 2D when one dimension would pass the device limit. */
function fold(total: SizeExpr, profile: DeviceProfile): [SizeExpr, SizeExpr, SizeExpr] {
  const max = profile.limits.maxComputeWorkgroupsPerDimension;
  return [size.min(total, max), size.ceilDiv(total, max), 1];
}

function need(x: SizeExpr | null | undefined): SizeExpr {
  if (x === null || x === undefined) throw new Error('internal error: array missing from layout');
  return x;
}
