// The host-plan part of linear (kernelized) groups: their arrays, kernels and dispatches, in
// the order of the group's program. compile.ts hands over its layout and step list. Every
// linear group keeps FAVOR+'s W and its states in one buffer of their own, `linear`, so the
// widest kernel (causal output: q, k, v, o, linear) binds five storage buffers, four when q, k
// and v share one; under head routing the output kernel also binds `aux` (the kept-row lists).
// Memory is O(B Hkv (N / chunk) features value_dim): never N x N, never phi(K).

import type { Attention, Group, LinearPlan, Table } from '../ir/ir.js';
import { featureDim } from '../ir/ir.js';
import type { DeviceProfile } from '../target/profile.js';
import type { PlanBinding, PlanStep, SizeExpr } from './plan.js';
import { size } from './plan.js';
import type { PlanLayout, TensorPlace } from './plan-lowrank.js';
import type { LinearBinding, LinearShape } from './linear-shape.js';
import { linearSlots, slotWords } from './linear-shape.js';
import { linearOutputKernel } from './kernels/linear-output.js';
import { linearScanKernel } from './kernels/linear-scan.js';
import { linearStatesKernel } from './kernels/linear-states.js';
import type { KernelSource } from './kernel-source.js';
import type { RoutedRowsArrays } from './wgsl/emit-head-routing.js';

const LINEAR_BUFFER = 'linear';
const AUX_BUFFER = 'aux';

export interface LinearPlanContext {
  readonly ir: Attention;
  readonly group: Group;
  readonly profile: DeviceProfile;
  readonly layout: PlanLayout;
  readonly tensors: {
    readonly q: TensorPlace;
    readonly k: TensorPlace;
    readonly v: TensorPlace;
    readonly o: TensorPlace;
  };
  readonly steps: PlanStep[];
  readonly pushKernel: (name: string, emitted: KernelSource, bindings: PlanBinding[]) => void;
  /** Head routing: the kept-row lists in `aux` the output kernel walks (null: every row). */
  readonly headRouting: RoutedRowsArrays | null;
  /** Workgroup counts folded into two dimensions (compile.ts's `fold`). */
  readonly fold: (total: SizeExpr) => readonly [SizeExpr, SizeExpr, SizeExpr];
}

/** Tables of linear groups live in the `linear` buffer, not in `aux`. */
export function isLinearTable(table: Table): boolean {
  return table.kind === 'gaussian' || table.kind === 'linear-states';
}

/** The most storage bindings a linear kernel of `ir` needs with q, k and v apart. */
export function linearStorageBindings(ir: Attention): number {
  let most = 0;
  for (const group of ir.groups) {
    const m = group.mechanism;
    if (m.kind === 'linear') most = Math.max(most, m.causal ? 5 : 3);
  }
  // Head routing: the output kernel also reads the kept-row lists in `aux`.
  return most > 0 && ir.headRouting !== undefined ? most + 1 : most;
}

export function buildLinearGroup(context: LinearPlanContext): void {
  const { ir, group, layout, tensors, steps, pushKernel, fold, headRouting } = context;
  const mechanism = group.mechanism;
  if (mechanism.kind !== 'linear')
    throw new Error(`internal error: buildLinearGroup on a ${mechanism.kind} group`);
  layout.buffer(LINEAR_BUFFER);
  const offsets = new Map<string, SizeExpr>();
  let plan: LinearPlan | null = null;
  const features = featureDim(mechanism.featureMap, ir.headDim);
  for (const table of group.tables) {
    switch (table.kind) {
      case 'gaussian':
        offsets.set(
          table.name,
          layout.add(table.name, LINEAR_BUFFER, table.rows * table.cols, 'f32'),
        );
        break;
      case 'linear-states': {
        plan = table.plan;
        const shape = linearShape(ir, group, table.plan);
        const words = size.mul(
          'batch',
          group.kvHeads,
          linearSlots(shape).slots,
          slotWords(features, ir.valueDim),
        );
        offsets.set(table.name, layout.add(table.name, LINEAR_BUFFER, words, 'f32'));
        break;
      }
      default:
        throw new Error(`internal error: table ${table.kind} in linear group ${group.name}`);
    }
  }
  if (plan === null) throw new Error(`internal error: linear group ${group.name} has no states`);
  const shape = linearShape(ir, group, plan);
  const at = (name: string | null) => {
    if (name === null) return null;
    const offset = offsets.get(name);
    if (offset === undefined) throw new Error(`internal error: array ${name} missing`);
    return offset;
  };

  // Binding numbers in first-use order; q, k and v may be one buffer.
  const bind = (entries: readonly (readonly [string, PlanBinding['type']])[]) => {
    const slots = new Map<string, { binding: number; type: PlanBinding['type'] }>();
    for (const [buffer, type] of entries)
      if (!slots.has(buffer)) slots.set(buffer, { binding: slots.size + 1, type });
    const of = (buffer: string): LinearBinding => ({
      name: buffer === LINEAR_BUFFER ? 'lin' : `${buffer}buf`,
      binding: slots.get(buffer)!.binding,
    });
    const plan: PlanBinding[] = [...slots].map(([buffer, s]) => ({
      binding: s.binding,
      buffer,
      type: s.type,
    }));
    return { of, plan };
  };
  /** `total` counts workgroups (states, output) or invocations (scan). */
  const dispatch = (
    name: string,
    emitted: KernelSource,
    bindings: PlanBinding[],
    totalCounts: 'workgroups' | 'invocations',
  ) => {
    pushKernel(name, emitted, bindings);
    const total = emitted.uniforms.find((u) => u.name === 'total')!.value;
    const workgroups =
      totalCounts === 'workgroups' ? total : size.ceilDiv(total, emitted.workgroupSize);
    steps.push(
      { kind: 'write-uniforms', kernel: name },
      { kind: 'dispatch', kernel: name, workgroups: fold(workgroups) },
    );
  };

  for (const step of group.program) {
    switch (step.kind) {
      case 'draw-gaussian': {
        const table = group.tables.find((t) => t.name === step.table);
        if (table?.kind !== 'gaussian') throw new Error('internal error: gaussian table missing');
        steps.push({
          kind: 'fill-gaussian',
          array: table.name,
          seed: table.seed,
          rows: table.rows,
          cols: table.cols,
        });
        break;
      }
      case 'linear-chunk-states': {
        const b = bind([
          [tensors.k.buffer, 'read-only-storage'],
          [tensors.v.buffer, 'read-only-storage'],
          [LINEAR_BUFFER, 'storage'],
        ]);
        const emitted = linearStatesKernel(
          shape,
          { k: b.of(tensors.k.buffer), v: b.of(tensors.v.buffer), lin: b.of(LINEAR_BUFFER) },
          {
            k: tensors.k.offset,
            v: tensors.v.offset,
            states: at(step.states)!,
            weights: at(step.weights),
          },
        );
        dispatch(`${group.name}.linear_states`, emitted, b.plan, 'workgroups');
        break;
      }
      case 'linear-scan': {
        const b = bind([[LINEAR_BUFFER, 'storage']]);
        const emitted = linearScanKernel(
          `attention ${ir.name}, group ${group.name}`,
          step.causal,
          group.kvHeads,
          slotWords(features, ir.valueDim),
          b.of(LINEAR_BUFFER),
          { states: at(step.states)!, slots: linearSlots(shape).slots },
        );
        dispatch(`${group.name}.linear_scan`, emitted, b.plan, 'invocations');
        break;
      }
      case 'linear-output': {
        const b = bind([
          [tensors.q.buffer, 'read-only-storage'],
          ...(step.causal
            ? ([
                [tensors.k.buffer, 'read-only-storage'],
                [tensors.v.buffer, 'read-only-storage'],
              ] as const)
            : []),
          [LINEAR_BUFFER, 'read-only-storage'],
          [tensors.o.buffer, 'storage'],
          ...(headRouting ? ([[AUX_BUFFER, 'read-only-storage']] as const) : []),
        ]);
        const emitted = linearOutputKernel(
          shape,
          {
            q: b.of(tensors.q.buffer),
            k: step.causal ? b.of(tensors.k.buffer) : null,
            v: step.causal ? b.of(tensors.v.buffer) : null,
            lin: b.of(LINEAR_BUFFER),
            o: b.of(tensors.o.buffer),
            aux: headRouting ? b.of(AUX_BUFFER) : null,
          },
          {
            q: tensors.q.offset,
            k: step.causal ? tensors.k.offset : null,
            v: step.causal ? tensors.v.offset : null,
            o: tensors.o.offset,
            states: at(step.states)!,
            weights: at(step.weights),
            headRouting,
          },
        );
        dispatch(`${group.name}.linear_output`, emitted, b.plan, 'workgroups');
        break;
      }
      default:
        throw new Error(`internal error: step ${step.kind} in linear group ${group.name}`);
    }
  }
}

function linearShape(ir: Attention, group: Group, plan: LinearPlan): LinearShape {
  const mechanism = group.mechanism;
  if (mechanism.kind !== 'linear') throw new Error('internal error: not a linear group');
  return { attention: ir, group, map: mechanism.featureMap, plan, causal: mechanism.causal };
}
