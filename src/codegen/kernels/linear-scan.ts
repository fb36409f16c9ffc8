// The scan kernel of a linear group: one invocation per (batch, kv head, state word) walks
// the slots in order. Causal: an exclusive prefix in place, so slot c then holds the state of
// every key before chunk c. Otherwise: the sum of the slots, written to slot 0.
// O(slots) per word, O(N / C * features * value_dim) in all. Its one loop walks the slots,
// so the kernel carries that bound for llvmpipe's loop budget (docs/runtime.md).

import type { Kernel, BufferSlot } from '../../kernel/ir.js';
import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import {
  add,
  div,
  f32,
  index,
  KernelBuilder,
  lt,
  mod,
  mul,
  paren,
  T,
  u32,
} from '../../kernel/build.js';

const WORKGROUP = 64;

export function linearScanKernel(
  label: string,
  causal: boolean,
  kvHeads: number,
  slotWords: number,
  lin: BufferSlot,
  arrays: { readonly states: SizeExpr; readonly slots: SizeExpr },
): Kernel {
  const k = new KernelBuilder(WORKGROUP);
  k.header(
    `attnc linear scan: ${label}, ${causal ? 'exclusive prefix over chunks' : 'sum of the slots into slot 0'}`,
  );
  const SLOT = k.const('SLOT', T.u32, u32(slotWords));
  const slots = k.uniform('slots', arrays.slots);
  k.uniform('total', size.mul('batch', kvHeads, slotWords));
  const stBase = k.uniform('stBase', arrays.states);
  const states = k.storage(lin.binding, lin.name, 'read_write', T.f32);
  const x = k.gridIndex('invocation', 'x', 'total');
  k.main((b) => {
    b.comment(
      'x = (b * KV_HEADS + kv head) * SLOT + word; the slots of one kv head are contiguous.',
    );
    const base = b.let('base', add(stBase, mul(paren(div(x, SLOT)), slots, SLOT), mod(x, SLOT)));
    const slotAt = (c: typeof x) => add(base, mul(c, SLOT));
    if (causal) {
      const running = b.var('running', f32(0));
      b.for(
        'c',
        u32(0),
        (c) => lt(c, slots),
        (body, c) => {
          const a = body.let('a', slotAt(c));
          const s = body.let('s', index(states, a));
          body.store(states, a, running);
          body.compound(running, '+=', s);
        },
      );
    } else {
      const sum = b.var('sum', f32(0));
      b.for(
        'c',
        u32(0),
        (c) => lt(c, slots),
        (body, c) => body.compound(sum, '+=', index(states, slotAt(c))),
        { oneLine: true },
      );
      b.store(states, base, sum);
    }
  });
  // One step per slot and the loop's exit.
  return { ...k.build(), loopIterations: size.add(arrays.slots, 1) };
}
