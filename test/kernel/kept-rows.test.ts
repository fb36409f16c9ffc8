// Head routing's kept-row selection as kernel IR: the binary search over running tile totals
// and the row selection render as the per-query kernels need them, and a kernel built from
// them passes the verifier.

import { describe, expect, it } from 'vitest';
import { block, KernelBuilder, T, u32 } from '../../src/kernel/build.js';
import { auxWords, findKeptList, selectKeptRow } from '../../src/kernel/blocks/kept-rows.js';
import { renderKernel, renderStatements } from '../../src/kernel/render-wgsl.js';
import { verifyKernel } from '../../src/kernel/verify.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';

const read = auxWords('aux');

describe('kept-row selection', () => {
  it('finds the kept-row list by binary search', () => {
    const fn = findKeptList(read);
    expect(renderStatements(fn.body, 0)).toEqual([
      'let base = P.routeTileEndBase + P.routeBatch * HEAD_OFFSET;',
      'var lo = 0u;',
      'var hi = P.routeBatch * HEADS;',
      'while (lo < hi) {',
      '  let mid = (lo + hi) / 2u;',
      '  if (aux[base + mid] > linear) { hi = mid; } else { lo = mid + 1u; }',
      '}',
      'return lo;',
    ]);
  });

  it('selects this invocation row and its routing weight', () => {
    const lines = renderStatements(
      block((b) => selectKeptRow(b, read, 64)),
      0,
    );
    expect(lines).toContain('let routeFirst = (linear - routeStart) * 64u;');
    expect(lines).toContain('if (routeSlot >= routeKept) { return; }');
    expect(lines).toContain(
      'let routeStart = select(0u, aux[P.routeTileEndBase + P.routeBatch * HEAD_OFFSET + max(routeList, 1u) - 1u], routeList > 0u);',
    );
    expect(lines.at(-1)).toBe(
      'let routeWeight = bitcast<f32>(aux[P.routeWeightsBase + (b * P.routeSeqQ + routeRow) * TOTAL_HEADS + h]);',
    );
  });

  it('makes a kernel the verifier accepts', () => {
    const k = new KernelBuilder(64);
    for (const [name, value] of [
      ['HEADS', 2],
      ['HEAD_OFFSET', 0],
      ['TOTAL_HEADS', 2],
    ] as const)
      k.const(name, T.u32, u32(value));
    k.uniform('total', 'batch');
    for (const name of ['routeBatch', 'routeSeqQ', 'routeWeightsBase', 'routeCountsBase'])
      k.uniform(name, 0);
    k.uniform('routeTileEndBase', 0);
    k.uniform('routeRowsBase', 0);
    k.storage(1, 'aux', 'read', T.u32);
    k.storage(2, 'out', 'read_write', T.f32);
    k.function(findKeptList(read));
    k.gridIndex('workgroup', 'linear', 'total');
    k.main((b) => {
      selectKeptRow(b, read, 64);
      b.store('out', 'routeRow', 'routeWeight');
    });
    const kernel = k.build();
    expect(verifyKernel(kernel, PORTABLE_PROFILE.limits)).toEqual([]);
    expect(renderKernel(kernel)).toContain('fn findKeptList(linear: u32) -> u32 {');
  });
});
