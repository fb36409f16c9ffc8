// Compile output is bounded whatever the argument values (spec files are untrusted input):
// each spec of extreme-specs.ts, every argument at its largest value, compiles to a few
// hundred KiB at most; values past a compile limit are E602 at their place in the spec.

import { describe, expect, it } from 'vitest';
import { compile, renderDiagnostics } from '../../src/index.js';
import { EXTREME_SPECS } from '../kernels/extreme-specs.js';

const KERNEL_BYTES = 256 * 1024;
const PLAN_BYTES = 1024 * 1024;

function rendered(text: string): string {
  const result = compile(text, { file: 'spec.attn' });
  return renderDiagnostics(result.diagnostics, result.source);
}

describe('compile output does not grow with argument values', () => {
  for (const [name, text] of EXTREME_SPECS) {
    it(name, () => {
      for (const target of ['portable', 'llvmpipe']) {
        const result = compile(text, { target });
        expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const plan = result.modules[0]!.plan;
        const wgsl = plan.kernels.reduce((n, k) => n + k.wgsl.length, 0);
        expect(wgsl).toBeLessThan(KERNEL_BYTES);
        expect(JSON.stringify(plan).length).toBeLessThan(PLAN_BYTES);
      }
    });
  }

  it('topk: the same kernels for k = 65 and k = 2147483647', () => {
    const wgsl = (k: number) =>
      compile(`attention a { heads: 1; head_dim: 8; mask: topk(${k}, block: 16) }`)
        .modules[0]!.plan.kernels.map((kernel) => kernel.wgsl.replaceAll(String(k), 'K'))
        .join('\n');
    expect(wgsl(2147483647)).toBe(wgsl(65));
  });

  it('nystrom: the same kernels for every iters, which repeat dispatches', () => {
    const plan = (iters: number) =>
      compile(`attention a { heads: 1; head_dim: 8; lowrank: nystrom(8, iters: ${iters}) }`)
        .modules[0]!.plan;
    const names = (iters: number) => plan(iters).kernels.map((k) => k.name);
    expect(names(100)).toEqual(names(2));
    const dispatches = (iters: number) =>
      plan(iters).steps.filter((s) => s.kind === 'dispatch' && s.kernel.includes('.even.')).length;
    expect(dispatches(100)).toBe(4 * 50);
    expect(dispatches(7)).toBe(4 * 4);
  });
});

describe('E602 compile limits', () => {
  it('head_routing over more than 128 heads', () => {
    expect(
      rendered('attention a {\n  heads: 100000\n  head_dim: 8\n  head_routing: top(100000)\n}\n'),
    ).toMatchInlineSnapshot(`
      "error[E602]: \`a\`: \`head_routing\` over 100000 heads exceeds the compile limit of 128 heads
       --> spec.attn:4:17
        |
      4 |   head_routing: top(100000)
        |                 ^^^^^^^^^^^
        = help: the routing kernels keep one private array entry per head (at most 128 heads)

      warning[W106]: \`top(100000)\` keeps every head, so routing only rescales the heads
       --> spec.attn:4:21
        |
      2 |   heads: 100000
        |          ------ heads set here
      ...
      4 |   head_routing: top(100000)
        |                     ^^^^^^
        = help: use a k below 100000 to drop heads, or remove \`head_routing\`
      "
    `);
  });

  it('scale and softcap outside what f32 constants hold, per group', () => {
    expect(
      rendered(
        'attention a {\n  head_dim: 8\n  group x { heads: 2; scale: 1e39 }\n  group y { heads: 2; softcap: 1e-31 }\n}\n',
      ),
    ).toMatchInlineSnapshot(`
      "error[E602]: \`a\`: \`scale\` 1e+39 in group \`x\` is outside the compile limit of 1e-30 to 1e+30
       --> spec.attn:3:3
        |
      3 |   group x { heads: 2; scale: 1e39 }
        |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        = help: the kernels compute in f32 and bake \`scale\` into f32 constants, which hold 1e-30 to 1e+30

      error[E602]: \`a\`: \`softcap\` 1e-31 in group \`y\` is outside the compile limit of 1e-30 to 1e+30
       --> spec.attn:4:3
        |
      4 |   group y { heads: 2; softcap: 1e-31 }
        |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        = help: the kernels compute in f32 and bake \`softcap\` into f32 constants, which hold 1e-30 to 1e+30
      "
    `);
  });

  it('global with more than 256 listed positions', () => {
    const at = (n: number) =>
      compile(
        `attention a { heads: 1; head_dim: 8; mask: window(1) | global(${Array.from({ length: n }, (_, i) => 3 * i).join(', ')}) }`,
      ).diagnostics.map((d) => d.code);
    expect(at(256)).toEqual([]);
    expect(at(257)).toEqual(['E602']);
    expect(
      rendered(
        'attention a {\n  heads: 1; head_dim: 8\n  mask: global(' +
          Array.from({ length: 300 }, (_, i) => i + 9).join(', ') +
          ')\n}\n',
      )
        .split('\n')
        .slice(0, 2),
    ).toEqual([
      'error[E602]: `a`: `global` with 300 positions exceeds the compile limit of 256 positions',
      ' --> spec.attn:3:9',
    ]);
  });

  it('a file whose kernels pass 32 MiB stops compiling there', { timeout: 120_000 }, () => {
    const one = (i: number) =>
      `attention a${i} { heads: 1; head_dim: 8; lowrank: nystrom(1024, iters: 100) }\n`;
    const text = Array.from({ length: 1400 }, (_, i) => one(i)).join('');
    const result = compile(text);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.code)).toEqual(['E602']);
    expect(errors[0]!.message).toMatch(
      /exceed the compile limit of 32 MiB of WGSL here; \d+ later attentions not compiled/,
    );
    const bytes = result.modules
      .flatMap((m) => m.plan.kernels)
      .reduce((n, k) => n + k.wgsl.length, 0);
    expect(bytes).toBeGreaterThan(32 * 1024 * 1024);
    expect(bytes).toBeLessThan(33 * 1024 * 1024);
    expect(result.modules.length).toBeLessThan(1400);
  });

  it('at the limits themselves, compiles', () => {
    const result = compile(
      'attention a { heads: 128; head_dim: 8; head_routing: top(3); scale: 1e30; softcap: 1e-30 }',
    );
    expect(result.diagnostics).toEqual([]);
    const past = compile('attention a { heads: 129; head_dim: 8; head_routing: top(3) }');
    expect(past.diagnostics.map((d) => d.code)).toEqual(['E602']);
  });
});
