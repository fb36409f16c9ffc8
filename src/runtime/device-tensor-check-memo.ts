// The device-tensor checks of a call (device-tensor-checks.ts), remembered for the next call.
// A decode loop calls with the same q and o buffers at a new length every step, and the
// checks of those tensors read only their buffers (whose size and usage never change), offsets,
// dtypes, shapes and the sizes their own shapes, arrays and plan buffers mention (batch and
// seqQ, not the cache's length). So a call whose tensors and those sizes match the previous
// call's gets the same verdict without running the checks again; any other call runs them.

import type { HostPlan, SizeExpr, SizeSymbol } from '../codegen/plan.js';
import { evalSize } from '../codegen/plan.js';
import type { DeviceRunArgs, DeviceTensor, TensorName } from './device-tensor-args.js';
import { checkDeviceTensors, type BoundTensor } from './device-tensor-checks.js';

export type CheckTensors = (
  args: DeviceRunArgs,
  sizes: Parameters<typeof checkDeviceTensors>[2],
  prebound: ReadonlySet<TensorName>,
) => BoundTensor[];

/** Arguments that are sizes or the encoder, not tensors. */
const NOT_TENSORS: ReadonlySet<string> = new Set(['batch', 'seqQ', 'seqK', 'encoder']);

function collectSymbols(expr: SizeExpr, into: Set<SizeSymbol>): void {
  if (typeof expr === 'number') return;
  if (typeof expr === 'string') {
    into.add(expr);
    return;
  }
  for (const a of expr.args) collectSymbols(a, into);
}

/** The size symbols the checks of every tensor not in `prebound` read. */
function checkedSymbols(plan: HostPlan, prebound: ReadonlySet<TensorName>): SizeSymbol[] {
  const symbols = new Set<SizeSymbol>();
  const arrayNames = new Set<string>();
  for (const spec of [...plan.inputs, ...plan.outputs]) {
    if (prebound.has(spec.name as TensorName)) continue;
    for (const e of spec.shape) collectSymbols(e, symbols);
  }
  for (const step of plan.steps) {
    if (step.kind === 'upload' && !prebound.has(step.input)) arrayNames.add(step.array);
    if (step.kind === 'read-output') arrayNames.add(step.array);
  }
  for (const array of plan.arrays) {
    if (!arrayNames.has(array.name)) continue;
    collectSymbols(array.length, symbols);
    collectSymbols(array.offset, symbols);
    const buffer = plan.buffers.find((b) => b.name === array.buffer);
    if (buffer) collectSymbols(buffer.size, symbols);
  }
  return [...symbols].sort();
}

/** Stable small ids for buffers, so a call's tensors can be compared with the last call's. */
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;

function tensorKey(name: string, tensor: unknown): string | null {
  const t = tensor as Partial<DeviceTensor> | null;
  const buffer = t?.buffer;
  if (typeof t !== 'object' || t === null || typeof buffer !== 'object' || buffer === null) {
    return null;
  }
  let id = bufferIds.get(buffer);
  if (id === undefined) {
    id = nextBufferId++;
    bufferIds.set(buffer, id);
  }
  return `${name}:${id}@${String(t.offset ?? 0)}:${String(t.dtype)}:${t.shape?.join('x') ?? '-'}`;
}

export function createCheckMemo(
  plan: HostPlan,
  limits: Parameters<typeof checkDeviceTensors>[3],
): CheckTensors {
  const symbolsByPrebound = new Map<string, SizeSymbol[]>();
  let last: { key: string; bound: BoundTensor[] } | null = null;
  return (args, sizes, prebound) => {
    const preboundKey = [...prebound].sort().join(',');
    let symbols = symbolsByPrebound.get(preboundKey);
    if (!symbols) {
      symbols = checkedSymbols(plan, prebound);
      symbolsByPrebound.set(preboundKey, symbols);
    }
    let key: string | null = preboundKey;
    for (const [name, value] of Object.entries(args)) {
      if (value === undefined || NOT_TENSORS.has(name)) continue;
      const part = tensorKey(name, value);
      if (part === null) {
        key = null;
        break;
      }
      key += `|${part}`;
    }
    if (key !== null) for (const s of symbols) key += `|${s}=${evalSize(s, sizes)}`;
    if (key !== null && last?.key === key) {
      return last.bound.map((b) => ({ ...b, tensor: args[b.name]! }));
    }
    const bound = checkDeviceTensors(plan, args, sizes, limits, prebound);
    last = key === null ? null : { key, bound };
    return bound;
  };
}
