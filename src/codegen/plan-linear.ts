// The host-plan part of linear (kernelized) groups: their arrays, kernels and dispatches, in
// the order of the group's program. compile.ts hands over its layout and step list. Every
// linear group keeps FAVOR+'s W and its states in one buffer of their own, `linear`, so the
// widest kernel (causal output: q, k, v, o, linear) binds five storage buffers, four when q, k
// and v share one; under head routing the output kernel also binds `aux` (the kept-row lists).
// Memory is O(B Hkv (N / chunk) features value_dim): never N x N, never phi(K).

import type { Attention, Group, LinearPlan, Table } from '../ir/ir.js';
import { featureDim } from '../ir/ir.js';
import { size } from './plan.js';
import { bindBuffers, bufName, type GroupPlanContext } from './plan-builder.js';
import type { LinearShape } from './linear-shape.js';
import { linearSlots, slotWords } from './linear-shape.js';
import { linearOutputKernel } from './kernels/linear-output.js';
import { linearScanKernel } from './kernels/linear-scan.js';
import { linearStatesKernel } from './kernels/linear-states.js';

const LINEAR_BUFFER = 'linear';
const AUX_BUFFER = 'aux';

/** `lin` for the group's own buffer, `qbuf`, `obuf`, ... for the others. */
const linearName = (buffer: string) => (buffer === LINEAR_BUFFER ? 'lin' : bufName(buffer));

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

export function buildLinearGroup(context: GroupPlanContext): void {
  const { ir, group, plan: builder } = context;
  const mechanism = group.mechanism;
  if (mechanism.kind !== 'linear')
    throw new Error(`internal error: buildLinearGroup on a ${mechanism.kind} group`);
  const layout = builder.layout;
  layout.buffer(LINEAR_BUFFER);
  let plan: LinearPlan | null = null;
  const features = featureDim(mechanism.featureMap, ir.headDim);
  for (const table of group.tables) {
    switch (table.kind) {
      case 'gaussian':
        layout.add(table.name, LINEAR_BUFFER, table.rows * table.cols, 'f32');
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
        layout.add(table.name, LINEAR_BUFFER, words, 'f32');
        break;
      }
      default:
        throw new Error(`internal error: table ${table.kind} in linear group ${group.name}`);
    }
  }
  if (plan === null) throw new Error(`internal error: linear group ${group.name} has no states`);
  const shape = linearShape(ir, group, plan);
  for (const step of group.program) linearStep(context, shape, step);
}

/** One step of a linear group's program: a host table fill or one kernel. */
function linearStep(
  context: GroupPlanContext,
  shape: LinearShape,
  step: Group['program'][number],
): void {
  const { ir, group, plan: builder, tensors, headRouting } = context;
  const at = (name: string | null) => (name === null ? null : builder.layout.offsetOf(name));
  const read = (buffer: string) => ({ buffer, write: false });
  const written = (buffer: string) => ({ buffer, write: true });
  switch (step.kind) {
    case 'draw-gaussian': {
      const table = group.tables.find((t) => t.name === step.table);
      if (table?.kind !== 'gaussian') throw new Error('internal error: gaussian table missing');
      builder.steps.push({
        kind: 'fill-gaussian',
        array: table.name,
        seed: table.seed,
        rows: table.rows,
        cols: table.cols,
      });
      return;
    }
    case 'linear-chunk-states': {
      const { k, v } = tensors;
      const b = bindBuffers([read(k.buffer), read(v.buffer), written(LINEAR_BUFFER)], linearName);
      const kernel = linearStatesKernel(
        shape,
        { k: b.of(k.buffer), v: b.of(v.buffer), lin: b.of(LINEAR_BUFFER) },
        { k: k.offset, v: v.offset, states: at(step.states)!, weights: at(step.weights) },
      );
      return builder.run(`${group.name}.linear_states`, kernel, b.plan, 'workgroups');
    }
    case 'linear-scan': {
      const b = bindBuffers([written(LINEAR_BUFFER)], linearName);
      const kernel = linearScanKernel(
        `attention ${ir.name}, group ${group.name}`,
        step.causal,
        group.kvHeads,
        slotWords(featureDim(shape.map, ir.headDim), ir.valueDim),
        b.of(LINEAR_BUFFER),
        { states: at(step.states)!, slots: linearSlots(shape).slots },
      );
      return builder.run(`${group.name}.linear_scan`, kernel, b.plan, 'invocations');
    }
    case 'linear-output': {
      const { q, k, v, o } = tensors;
      const causal = step.causal;
      const b = bindBuffers(
        [
          read(q.buffer),
          ...(causal ? [read(k.buffer), read(v.buffer)] : []),
          read(LINEAR_BUFFER),
          written(o.buffer),
          ...(headRouting ? [read(AUX_BUFFER)] : []),
        ],
        linearName,
      );
      const kernel = linearOutputKernel(
        shape,
        {
          q: b.of(q.buffer),
          k: causal ? b.of(k.buffer) : null,
          v: causal ? b.of(v.buffer) : null,
          lin: b.of(LINEAR_BUFFER),
          o: b.of(o.buffer),
          aux: headRouting ? b.of(AUX_BUFFER) : null,
        },
        {
          q: q.offset,
          k: causal ? k.offset : null,
          v: causal ? v.offset : null,
          o: o.offset,
          states: at(step.states)!,
          weights: at(step.weights),
          headRouting,
        },
      );
      return builder.run(`${group.name}.linear_output`, kernel, b.plan, 'workgroups');
    }
    default:
      throw new Error(`internal error: step ${step.kind} in linear group ${group.name}`);
  }
}

function linearShape(ir: Attention, group: Group, plan: LinearPlan): LinearShape {
  const mechanism = group.mechanism;
  if (mechanism.kind !== 'linear') throw new Error('internal error: not a linear group');
  return { attention: ir, group, map: mechanism.featureMap, plan, causal: mechanism.causal };
}
