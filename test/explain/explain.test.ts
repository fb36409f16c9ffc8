// explainModule through the public API, as `attnc explain` calls it: the IR after the stage
// asked for (rerun for the target), one summary per head group, and errors that name the
// stage or target that is wrong.

import { describe, expect, it } from 'vitest';
import { compile, EXPLAIN_STAGES, explainModule, type CompiledModule } from '../../src/index.js';

const SPEC = `
attention two_groups {
  head_dim: 16
  group local { heads: 2; mask: window(8) }
  group wide { heads: 2; mask: causal }
}
`;

function moduleOf(text: string): CompiledModule {
  const result = compile(text, { file: 'spec.attn' });
  expect(result.diagnostics).toEqual([]);
  return result.modules[0]!;
}

describe('explainModule', () => {
  it('prints the IR after the last pass by default, then every group at N', () => {
    const module = moduleOf(SPEC);
    const groups: string[] = [];
    const text = explainModule(module, {
      seq: 64,
      picture: 0,
      onGroup: (name) => groups.push(name),
    });
    expect(text.startsWith(`== two_groups: IR after ${EXPLAIN_STAGES.at(-1)}\n`)).toBe(true);
    expect(groups).toEqual(['local', 'wide']);
    expect(text).toContain('-- group local of two_groups (heads 0..1) at N = 64');
    expect(text).toContain('-- group wide of two_groups (heads 2..3) at N = 64');
    expect(text).not.toContain('mask (rows: queries'); // picture 0: no picture
  });

  it('prints the IR of an earlier stage, which differs from the optimized one', () => {
    const module = moduleOf(SPEC);
    const lowered = explainModule(module, { after: 'lower', seq: 64, picture: 0 });
    const optimized = explainModule(module, { seq: 64, picture: 0 });
    expect(lowered.startsWith('== two_groups: IR after lower\n')).toBe(true);
    expect(lowered).not.toEqual(optimized.replace(/IR after \S+/, 'IR after lower'));
  });

  it('draws a text picture of each group when asked', () => {
    const text = explainModule(moduleOf(SPEC), { seq: 64, picture: 8 });
    expect(text.match(/ {3}mask \(rows: queries, columns: keys/g)).toHaveLength(2);
  });

  it('names an unknown stage or target', () => {
    const module = moduleOf(SPEC);
    expect(() => explainModule(module, { after: 'fuse-everything', seq: 8, picture: 0 })).toThrow(
      /unknown pass 'fuse-everything'/,
    );
    expect(() =>
      explainModule(module, { after: 'lower', seq: 8, picture: 0, target: 'tpu' }),
    ).toThrow(/unknown target `tpu`/);
  });

  it('rejects a sequence length or picture size that is not a count', () => {
    const module = moduleOf(SPEC);
    expect(() => explainModule(module, { seq: 0, picture: 0 })).toThrow(/seq must be a positive/);
    expect(() => explainModule(module, { seq: 8, picture: 1.5 })).toThrow(/picture must be/);
  });

  it('lists lower and then every pass as its stages', () => {
    expect(EXPLAIN_STAGES[0]).toBe('lower');
    expect(EXPLAIN_STAGES).toContain('fuse-softmax');
  });
});
