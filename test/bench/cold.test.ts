import { describe, expect, it } from 'vitest';
import { exampleFiles, formatColdStarts } from '../../bench/cold.js';

describe('npm run bench -- --cold', () => {
  it('finds every example spec', () => {
    const files = exampleFiles();
    expect(files).toContain('examples/performer.attn');
    expect(files.every((f) => f.endsWith('.attn'))).toBe(true);
  });

  it('reports each first run with its outcome and the slowest', () => {
    const text = formatColdStarts([
      { example: 'examples/a.attn', seconds: 2.5, outcome: 'ok' },
      { example: 'examples/b.attn', seconds: 600, outcome: 'timeout' },
    ]);
    expect(text).toContain('examples/a.attn           2.50  ok');
    expect(text).toContain('timeout');
    expect(text.split('\n').at(-1)).toBe('slowest: 600.00 s');
  });
});
