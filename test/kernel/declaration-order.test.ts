// Where declarations render: constants before main (after the bindings and helpers) (kernel-specific
// constants apart from a family's shared ones), the grid's comment above its decoding, a
// one-line `if` with a one-line `else`, and the builder's counted loop and return guard.

import { describe, expect, it } from 'vitest';
import { block, f32, KernelBuilder, T, u32 } from '../../src/kernel/build.js';
import { renderKernel, renderStatements } from '../../src/kernel/render-wgsl.js';
import { verifyKernel } from '../../src/kernel/verify.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';

describe('declaration order', () => {
  it('writes constants before main after the helpers and the grid comment first in main', () => {
    const k = new KernelBuilder(64);
    k.header('order');
    k.const('WG', T.u32, u32(64));
    k.uniform('total', 'batch');
    k.storage(1, 'out', 'read_write', T.f32);
    k.function({
      name: 'one',
      params: [],
      returns: T.f32,
      body: block((b) => b.return(f32(1))),
    });
    const M = k.constBeforeMain('M', T.u32, u32(8));
    const x = k.gridIndex('workgroup', 'linear', 'total', 'Dispatches fold into two dimensions.');
    k.main((b) => b.store('out', x, M));
    const kernel = k.build();
    expect(verifyKernel(kernel, PORTABLE_PROFILE.limits)).toEqual([]);
    expect(renderKernel(kernel)).toBe(
      [
        '// order',
        'const WG: u32 = 64u;',
        '',
        'struct Params {',
        '  total: u32,',
        '}',
        '',
        '@group(0) @binding(0) var<uniform> P: Params;',
        '@group(0) @binding(1) var<storage, read_write> out: array<f32>;',
        '',
        'fn one() -> f32 {',
        '  return 1.0;',
        '}',
        '',
        'const M: u32 = 8u;',
        '',
        '@compute @workgroup_size(64)',
        'fn main(',
        '  @builtin(workgroup_id) wid: vec3<u32>,',
        '  @builtin(num_workgroups) nwg: vec3<u32>,',
        '  @builtin(local_invocation_index) lid: u32,',
        ') {',
        '  // Dispatches fold into two dimensions.',
        '  let linear = wid.x + wid.y * nwg.x;',
        '  if (linear >= P.total) { return; }',
        '  out[linear] = M;',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('writes a counted loop and a return guard', () => {
    const stmts = block((b) => {
      b.returnIf('done');
      b.range('d', 'DW', (body, d) => body.compound('s', '+=', d), { oneLine: true });
      b.range('j', 'M', (body) => body.break());
    });
    expect(renderStatements(stmts, 0)).toEqual([
      'if (done) { return; }',
      'for (var d = 0u; d < DW; d++) { s += d; }',
      'for (var j = 0u; j < M; j++) {',
      '  break;',
      '}',
    ]);
  });

  it('writes a one-line if with a one-line else', () => {
    const stmts = block((b) =>
      b.if(
        'c',
        (t) => t.assign('x', u32(1)),
        (e) => e.assign('x', u32(2)),
        { oneLine: true },
      ),
    );
    expect(renderStatements(stmts, 1)).toEqual(['  if (c) { x = 1u; } else { x = 2u; }']);
  });
});
