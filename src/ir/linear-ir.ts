// Verifier and printer pieces of the linear (kernelized) family, kept beside the IR so
// verify.ts and print.ts only dispatch to them: the feature map's arguments, the plan of the
// states table, and the order of a linear program (gaussian W, chunk states, scan, output).

import type { FeatureMap, Group, LinearMechanism, LinearPlan, Step, Table } from './ir.js';
import { featureDim, unreachable } from './ir.js';

export type LinearStep = Extract<
  Step,
  { kind: 'draw-gaussian' | 'linear-chunk-states' | 'linear-scan' | 'linear-output' }
>;

export function verifyLinearMechanism(
  mechanism: LinearMechanism,
  fail: (message: string) => void,
): void {
  const m = mechanism.mask;
  const maskCausal = m.kind === 'band' && m.lo === null && m.hi === 0;
  if (!(m.kind === 'all' || maskCausal) || maskCausal !== mechanism.causal)
    fail(`linear mask must be full or causal and agree with causal=${mechanism.causal}`);
  if (mechanism.plan !== null) fail('a linear mechanism has no block plan');
  const map = mechanism.featureMap;
  if (
    map.kind === 'favor' &&
    !(Number.isInteger(map.features) && map.features >= 1 && Number.isInteger(map.seed))
  )
    fail(`favor needs features >= 1 and an integer seed`);
}

/**
 * The program of a linear group, once fused: [draw-gaussian], linear-chunk-states, linear-scan,
 * linear-output, each reading only tables filled before it, and agreeing with the mechanism.
 */
export function verifyLinearProgram(
  group: Group,
  headDim: number,
  valueDim: number,
  fail: (message: string) => void,
): void {
  const mechanism = group.mechanism;
  if (mechanism.kind !== 'linear' || group.program.length === 0) return;
  const map = mechanism.featureMap;
  const tables = new Map(group.tables.map((t) => [t.name, t]));
  const expected = [
    ...(map.kind === 'favor' ? ['draw-gaussian'] : []),
    'linear-chunk-states',
    'linear-scan',
    'linear-output',
  ];
  const kinds = group.program.map((s) => s.kind);
  if (kinds.join(',') !== expected.join(','))
    fail(`linear program is [${kinds.join(', ')}], expected [${expected.join(', ')}]`);
  const filled = new Set<string>();
  for (const step of group.program) {
    if (!isLinearStep(step)) {
      fail(`step ${step.kind} in a linear group`);
      continue;
    }
    switch (step.kind) {
      case 'draw-gaussian': {
        const table = tables.get(step.table);
        if (table?.kind !== 'gaussian') fail(`draw-gaussian fills ${step.table}, not a gaussian`);
        else if (
          map.kind !== 'favor' ||
          table.rows !== map.features ||
          table.cols !== headDim ||
          table.seed !== map.seed
        )
          fail(`gaussian ${table.name} does not match the feature map`);
        filled.add(step.table);
        break;
      }
      case 'linear-chunk-states':
      case 'linear-output': {
        if (!sameMap(step.featureMap, map)) fail(`${step.kind} uses another feature map`);
        if (step.weights !== null && !filled.has(step.weights))
          fail(`${step.kind} reads ${step.weights} before it is filled`);
        if ((step.weights !== null) !== (map.kind === 'favor'))
          fail(`${step.kind}: FAVOR+ needs its W, the other maps none`);
        const states = tables.get(step.states);
        if (states?.kind !== 'linear-states') {
          fail(`${step.kind} uses ${step.states}, not a linear-states table`);
          break;
        }
        verifyStatesTable(states, featureDim(map, headDim), valueDim, mechanism.causal, fail);
        if (step.kind === 'linear-output') {
          if (step.causal !== mechanism.causal) fail('linear-output disagrees on causal');
          if (!filled.has(`${step.states}/scanned`))
            fail(`linear-output reads ${step.states} before the scan`);
        } else filled.add(step.states);
        break;
      }
      case 'linear-scan':
        if (!filled.has(step.states)) fail(`linear-scan of ${step.states} before its states`);
        if (step.causal !== mechanism.causal) fail('linear-scan disagrees on causal');
        filled.add(`${step.states}/scanned`);
        break;
    }
  }
}

function verifyStatesTable(
  table: Extract<Table, { kind: 'linear-states' }>,
  features: number,
  valueDim: number,
  causal: boolean,
  fail: (message: string) => void,
): void {
  if (table.features !== features || table.valueDim !== valueDim || table.causal !== causal)
    fail(`${table.name}: shape or causality does not match the mechanism`);
  const plan: LinearPlan = table.plan;
  const positiveInt = (x: number) => Number.isInteger(x) && x > 0;
  if (!positiveInt(plan.chunk) || !positiveInt(plan.featureBlock) || !positiveInt(plan.maxSlots))
    fail(`${table.name}: chunk, feature block and slots must be positive`);
  if (plan.featureBlock > features) fail(`${table.name}: feature block wider than phi`);
}

function isLinearStep(step: Step): step is LinearStep {
  return (
    step.kind === 'draw-gaussian' ||
    step.kind === 'linear-chunk-states' ||
    step.kind === 'linear-scan' ||
    step.kind === 'linear-output'
  );
}

function sameMap(a: FeatureMap, b: FeatureMap): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function printFeatureMap(map: FeatureMap): string {
  switch (map.kind) {
    case 'elu1':
    case 'relu':
      return map.kind;
    case 'favor':
      return `favor(${map.features}, seed: ${map.seed})`;
    default:
      return unreachable(map);
  }
}

export function printLinearMechanism(mechanism: LinearMechanism): string {
  return `linear phi=${printFeatureMap(mechanism.featureMap)} mask=${mechanism.causal ? 'causal' : 'full'}`;
}

export function printLinearTable(
  table: Extract<Table, { kind: 'gaussian' | 'linear-states' }>,
): string {
  switch (table.kind) {
    case 'gaussian':
      return `${table.name} = gaussian(seed: ${table.seed}) [${table.rows} x ${table.cols}] f32  (host)`;
    case 'linear-states': {
      const { chunk, featureBlock, maxSlots } = table.plan;
      const slots = table.causal
        ? `ceil(Nk/${chunk})`
        : `ceil(Nk/max(${chunk}, ceil(Nk/${maxSlots})))`;
      return (
        `${table.name} = linear-states(chunk: ${chunk}, feature_block: ${featureBlock}) ` +
        `[B x Hkv x ${slots} x ${table.features} x (${table.valueDim} + 1)] f32`
      );
    }
    default:
      return unreachable(table);
  }
}

export function printLinearStep(step: LinearStep): string {
  switch (step.kind) {
    case 'draw-gaussian':
      return `draw-gaussian -> ${step.table}  (host)`;
    case 'linear-chunk-states':
      return (
        `linear-chunk-states k, v${step.weights ? `, ${step.weights}` : ''} -> ${step.states}  ` +
        `(phi(k)^T v and sum phi(k) per slot, phi=${printFeatureMap(step.featureMap)} on the fly)`
      );
    case 'linear-scan':
      return step.causal
        ? `linear-scan ${step.states}  (exclusive prefix over chunks, in place)`
        : `linear-scan ${step.states}  (sum of the slots into slot 0)`;
    case 'linear-output':
      return (
        `linear-output q${step.causal ? ', k, v' : ''}${step.weights ? `, ${step.weights}` : ''}, ${step.states} -> o  ` +
        `(phi(q)·S / (phi(q)·z + 1e-6)${step.causal ? ', plus the own chunk exactly under the causal mask' : ''})`
      );
    default:
      return unreachable(step);
  }
}
