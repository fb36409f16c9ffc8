import { describe, expect, it } from 'vitest';
import { compile, renderDiagnostics } from '../../src/index.js';

function rendered(text: string, target?: string): string {
  const result = compile(text, { file: 'spec.attn', ...(target ? { target } : {}) });
  return renderDiagnostics(result.diagnostics, result.source);
}

describe('compile', () => {
  it('compiles every attention of a file into a module with its checked spec and plan', () => {
    const result = compile(
      'attention a { heads: 2; head_dim: 8; mask: window(4) }\nattention b { heads: 4; kv_heads: 2; head_dim: 16; causal: true }',
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.modules.map((m) => m.name)).toEqual(['a', 'b']);
    expect(result.modules[1]!.attention.kvHeads).toBe(2);
    expect(result.modules[0]!.profile).toBe('portable');
    expect(result.modules[0]!.plan.inputs.map((i) => i.name)).toEqual(['q', 'k', 'v']);
  });

  it('is deterministic: same spec, same output, byte for byte', () => {
    const text =
      'attention a { heads: 3; head_dim: 12; mask: random(2, block: 16, seed: 9) | sink(2) }';
    expect(JSON.stringify(compile(text).modules)).toBe(JSON.stringify(compile(text).modules));
  });

  it('E601: an unknown target', () => {
    expect(rendered('attention a { heads: 1; head_dim: 4 }', 'gpu9000')).toBe(
      [
        'error[E601]: unknown target `gpu9000`',
        ' --> spec.attn:1:1',
        '  |',
        '1 | attention a { heads: 1; head_dim: 4 }',
        '  | ^',
        '  = help: targets are: portable, core, core-f16, llvmpipe, swiftshader',
        '',
      ].join('\n'),
    );
  });

  it('E600: a valid construct with no kernels yet', () => {
    expect(rendered('attention a {\n  heads: 1\n  head_dim: 6\n  dtype: f16\n}\n')).toBe(
      [
        'error[E600]: `a`: dtype f16 with head_dim 6 and value_dim 6 (f16 needs both to be multiples of 4) is not supported by the compiler yet',
        ' --> spec.attn:1:1',
        '  |',
        '1 | attention a {',
        '  | ^^^^^^^^^^^^^',
        '...',
        '4 |   dtype: f16',
        '  |   ---------- f16 chosen here',
        '  = help: use a head_dim and value_dim that are multiples of 4, or `dtype: f32`',
        '',
      ].join('\n'),
    );
  });

  it('spec errors stop compilation before lowering', () => {
    const result = compile('attention a { heads: 0; head_dim: 4 }');
    expect(result.modules).toEqual([]);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['E400']);
  });
});
