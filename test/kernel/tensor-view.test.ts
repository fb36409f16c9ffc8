// Tensor views: a row's start under each layout (layout.ts), loads and stores through the
// row codecs, and the helpers a kernel declares from what it calls (packRow only where it
// stores halves).

import { describe, expect, it } from 'vitest';
import { block, f32, KernelBuilder, T, uniform } from '../../src/kernel/build.js';
import { rowCodec } from '../../src/kernel/blocks/row-codec.js';
import { rowStart } from '../../src/kernel/blocks/layout.js';
import { tensorView, withCalledHelpers } from '../../src/kernel/blocks/tensor-view.js';
import { renderExpr, renderStatements } from '../../src/kernel/render-wgsl.js';

const place = { batch: 'b', head: 'h', heads: 'TOTAL_HEADS', seq: uniform('seqQ'), row: 'n' };

describe('tensor views', () => {
  it('addresses one head row under bhnd and bnhd', () => {
    expect(renderExpr(rowStart('bhnd', uniform('qBase'), place, 'DW'))).toBe(
      'P.qBase + ((b * TOTAL_HEADS + h) * P.seqQ + n) * DW',
    );
    expect(renderExpr(rowStart('bnhd', uniform('oBase'), place, 'DVW'))).toBe(
      'P.oBase + ((b * P.seqQ + n) * TOTAL_HEADS + h) * DVW',
    );
  });

  it('loads and stores through the codec', () => {
    const packed = tensorView('o_buf', rowCodec('f16', 4, false));
    const plain = tensorView('s_buf', rowCodec('f32', 4, false));
    expect(renderExpr(packed.load('r'))).toBe('unpackRow(o_buf[r])');
    expect(renderExpr(plain.load('r'))).toBe('s_buf[r]');
    const stores = block((b) => {
      packed.store(b, 'r', f32(1));
      plain.store(b, 'r', f32(1));
    });
    expect(renderStatements(stores, 0)).toEqual(['o_buf[r] = packRow(1.0);', 's_buf[r] = 1.0;']);
  });

  it('declares only the offered helpers the kernel calls, once, in offered order', () => {
    const build = (store: boolean) => {
      const k = new KernelBuilder(64);
      k.storage(1, 'q', 'read', T.vec(2, 'u32'));
      k.storage(2, 'o', 'read_write', T.vec(2, 'u32'));
      k.gridIndex('invocation', 'x', null);
      const q = tensorView('q', rowCodec('f16', 4, false));
      const o = tensorView('o', rowCodec('f16', 4, false));
      k.main((b) => {
        const v = b.let('v', q.load('x'));
        if (store) o.store(b, 'x', v);
      });
      return k.build();
    };
    const f16 = rowCodec('f16', 4, false);
    const names = (store: boolean) =>
      withCalledHelpers(build(store), [...f16.helpers, ...f16.helpers]).functions.map(
        (fn) => fn.name,
      );
    expect(names(false)).toEqual(['unpackRow']);
    expect(names(true)).toEqual(['unpackRow', 'packRow']);
    const plain = build(false);
    expect(withCalledHelpers(plain, [])).toBe(plain);
  });
});
