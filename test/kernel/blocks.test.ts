// Shared building blocks: the grid decoding, the row codecs (only the native one needs f16)
// and the per-key online-softmax update, rendered as the softmax kernels use them.

import { describe, expect, it } from 'vitest';
import {
  add,
  block,
  call,
  construct,
  index,
  KernelBuilder,
  ref,
  T,
  uniform,
} from '../../src/kernel/build.js';
import { gridStatements } from '../../src/kernel/blocks/grid.js';
import { keyUpdate } from '../../src/kernel/blocks/online-softmax.js';
import { rowCodec, wordCodec } from '../../src/kernel/blocks/row-codec.js';
import { kernelFeatures } from '../../src/kernel/features.js';
import {
  renderExpr,
  renderFunction,
  renderStatements,
  renderType,
} from '../../src/kernel/render-wgsl.js';

describe('kernel building blocks', () => {
  it('decodes the grid with the 2D dispatch fold', () => {
    const invocation = gridStatements({ kind: 'invocation', index: 'x', bound: 'total' }, 128);
    expect(renderStatements(invocation, 0)).toEqual([
      'let x = (wid.x + wid.y * nwg.x) * 128u + lid;',
      'if (x >= P.total) { return; }',
    ]);
    const workgroup = gridStatements({ kind: 'workgroup', index: 'linear', bound: null }, 64);
    expect(renderStatements(workgroup, 0)).toEqual(['let linear = wid.x + wid.y * nwg.x;']);
  });

  it('stores rows as f32, packed f16 or native f16; only native needs shader-f16', () => {
    const element = index('k', 'i');
    const cases = [
      [rowCodec('f32', 4, false), 'vec4<f32>', 'k[i]', []],
      [rowCodec('f32', 1, false), 'f32', 'k[i]', []],
      [rowCodec('f16', 4, false), 'vec2<u32>', 'unpackRow(k[i])', []],
      [rowCodec('f16', 4, true), 'vec4<f16>', 'vec4<f32>(k[i])', ['shader-f16']],
    ] as const;
    for (const [codec, stored, load, features] of cases) {
      const k = new KernelBuilder(64);
      k.storage(1, 'k', 'read', codec.stored);
      codec.helpers.forEach((fn) => k.function(fn));
      k.gridIndex('invocation', 'i', null);
      expect(renderExpr(codec.load(element))).toBe(load);
      expect(kernelFeatures(k.main(() => {}).build())).toEqual(features);
      expect(renderType(codec.stored)).toBe(stored);
    }
    expect(() => rowCodec('f16', 1, false)).toThrow(/f16 needs vector width 4/);
  });

  it('reads and writes word-bound tensors as f32, or f16 halves two per u32 word', () => {
    const base = uniform('kBase');
    const f32x4 = wordCodec('f32', 4);
    expect([renderType(f32x4.stored), f32x4.valuesPerWord, f32x4.unitWords]).toEqual([
      'vec4<f32>',
      1,
      4,
    ]);
    expect(renderFunction(f32x4.loader('ldK', 'kbuf', base))).toEqual([
      'fn ldK(e: u32) -> vec4<f32> { return kbuf[P.kBase + e]; }',
    ]);
    const f32x1 = wordCodec('f32', 1);
    expect(renderExpr(f32x1.value('kbuf', base, 'row', 'd'))).toBe('kbuf[P.kBase + row + d]');
    expect(renderExpr(f32x1.word(ref('r')))).toBe('r');

    const f16x4 = wordCodec('f16', 4);
    expect([renderType(f16x4.stored), f16x4.valuesPerWord, f16x4.unitWords]).toEqual(['u32', 2, 1]);
    expect(renderFunction(f16x4.loader('ldK', 'kbuf', base))).toEqual([
      'fn ldK(e: u32) -> vec4<f32> {',
      '  let a = P.kBase + 2u * e;',
      '  return vec4<f32>(unpack2x16float(kbuf[a]), unpack2x16float(kbuf[a + 1u]));',
      '}',
    ]);
    const f16x1 = wordCodec('f16', 1);
    expect(renderFunction(f16x1.loader('ldK', 'kbuf', base))).toEqual([
      'fn ldK(e: u32) -> f32 { return unpack2x16float(kbuf[P.kBase + e / 2u])[e & 1u]; }',
    ]);
    expect(renderExpr(f16x1.value('kbuf', base, 'row', 'd'))).toBe(
      'unpack2x16float(kbuf[P.kBase + (row + d) / 2u])[(row + d) & 1u]',
    );
    const pair = construct(T.vec(2, 'f32'), add('x', 'y'), 'z');
    expect(renderExpr(f16x1.word(pair))).toBe('pack2x16float(vec2<f32>(x + y, z))');
  });

  it('updates the online softmax with softcap and alibi in base 2', () => {
    const stmts = block((b) =>
      keyUpdate(b, {
        score: { scale: 0.125, softcap: 30, bias: 'alibi' },
        modified: true,
        kAt: index('kTile', 'd'),
        vAt: index('vTile', 'd'),
        dot: (a, c) => call('dot', a, c),
        vectors: 16,
        valueVectors: 32,
      }),
    );
    expect(renderStatements(stmts, 0)).toEqual([
      'var s = 0.0;',
      'for (var d = 0u; d < DW; d++) { s += dot(qrow[d], kTile[d]); }',
      's = 3e+1 * tanhSafe(s * 0.033333335);',
      's -= slope * f32(abs(i32(p) - i32(j)));',
      's *= 1.442695;',
      '// Lazy rescale: only when the running max grows.',
      'if (s > m) {',
      '  let c = exp2(m - s);',
      '  l *= c;',
      '  for (var d = 0u; d < DVW; d++) { acc[d] *= c; }',
      '  m = s;',
      '}',
      'let w = exp2(s - m);',
      'l += w;',
      'for (var d = 0u; d < DVW; d++) { acc[d] += w * vTile[d]; }',
    ]);
  });

  it('splits row loops longer than llvmpipe unrolls into constant loops of 32 per key', () => {
    // head_dim 192, value_dim 256 (vec4): 48 and 64 vectors, 2 loops each.
    const stmts = block((b) =>
      keyUpdate(b, {
        score: { scale: 0.125, softcap: null, bias: null },
        modified: false,
        kAt: index('kTile', 'd'),
        vAt: index('vTile', 'd'),
        dot: (a, c) => call('dot', a, c),
        vectors: 48,
        valueVectors: 64,
      }),
    );
    const lines = renderStatements(stmts, 0);
    expect(lines.slice(0, 3)).toEqual([
      'var s = 0.0;',
      'for (var d = 0u; d < 32u; d++) { s += dot(qrow[d], kTile[d]); }',
      'for (var d = 32u; d < DW; d++) { s += dot(qrow[d], kTile[d]); }',
    ]);
    expect(lines.slice(-2)).toEqual([
      'for (var d = 0u; d < 32u; d++) { acc[d] += w * vTile[d]; }',
      'for (var d = 32u; d < DVW; d++) { acc[d] += w * vTile[d]; }',
    ]);
    expect(lines.filter((line) => line.includes('{ acc[d] *= c; }'))).toHaveLength(2);
  });
});
