// The online-softmax key step under the names a kernel uses: the query row's name and the
// comment above the lazy rescale are the caller's (the low-rank attend kernel's `qv`).

import { describe, expect, it } from 'vitest';
import { block, index, mul } from '../../src/kernel/build.js';
import { keyUpdate } from '../../src/kernel/blocks/online-softmax.js';
import { renderStatements } from '../../src/kernel/render-wgsl.js';

const step = (options: { query?: string; rescaleComment?: readonly string[] }) =>
  renderStatements(
    block((b) =>
      keyUpdate(b, {
        score: { scale: 0.5, softcap: null, bias: null },
        modified: false,
        kAt: index('k', 'd'),
        vAt: index('v', 'd'),
        dot: (a, c) => mul(a, c),
        vectors: 16,
        valueVectors: 16,
        ...options,
      }),
    ),
    0,
  );

describe('online softmax key step', () => {
  it('reads the named query row and writes the given rescale comment', () => {
    const lines = step({ query: 'qv', rescaleComment: ['first', 'second'] });
    expect(lines.slice(0, 4)).toEqual([
      'var s = 0.0;',
      'for (var d = 0u; d < DW; d++) { s += qv[d] * k[d]; }',
      '// first',
      '// second',
    ]);
    expect(lines.at(-1)).toBe('for (var d = 0u; d < DVW; d++) { acc[d] += w * v[d]; }');
  });

  it('defaults to qrow and the one-line comment', () => {
    expect(step({}).slice(1, 3)).toEqual([
      'for (var d = 0u; d < DW; d++) { s += qrow[d] * k[d]; }',
      '// Lazy rescale: only when the running max grows.',
    ]);
  });
});
