// The checker must never throw, whatever the parser hands it, and must hand on exactly the
// attentions it found nothing wrong with.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSpec } from '../../src/check/check.js';
import { hasErrors } from '../../src/diagnostics/diagnostic.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import type { AttentionDecl, Expr, Group, Property, SpecFile } from '../../src/syntax/ast.js';
import { parseSpec } from '../../src/syntax/parse.js';

const span = { start: 0, end: 1 };

const names = fc.constantFrom(
  'full',
  'causal',
  'window',
  'dilated',
  'stride',
  'global',
  'sink',
  'blocks',
  'random',
  'segment',
  'topk',
  'cluster',
  'lsh',
  'elu1',
  'relu',
  'favor',
  'linformer',
  'nystrom',
  'alibi',
  'top',
  'auto',
  'bhnd',
  'bnhd',
  'f16',
  'f32',
  'left',
  'right',
  'first',
  'block',
  'seed',
  'buckets',
  'iters',
  'k',
  'x',
  '',
);

const numbers = fc.oneof(
  fc.integer({ min: -3, max: 300 }).map((n) => ({ value: n, text: String(n) })),
  fc.constantFrom(
    { value: 2.5, text: '2.5' },
    { value: 1000, text: '1e3' },
    { value: NaN, text: 'NaN' },
    { value: Infinity, text: '1e999' },
    { value: 2 ** 40, text: String(2 ** 40) },
  ),
);

const { expr } = fc.letrec<{
  expr: Expr;
  arg: { name?: { name: string; span: typeof span }; value: Expr; span: typeof span };
}>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    names.map((name): Expr => ({ kind: 'name', name, span })),
    numbers.map((n): Expr => ({ kind: 'number', ...n, span })),
    fc.boolean().map((value): Expr => ({ kind: 'bool', value, span })),
    fc
      .tuple(names, fc.array(tie('arg'), { maxLength: 4 }))
      .map(([name, args]): Expr => ({ kind: 'call', callee: { name, span }, args, span })),
    fc.array(tie('expr'), { maxLength: 3 }).map((items): Expr => ({ kind: 'list', items, span })),
    fc.array(tie('expr'), { maxLength: 3 }).map((terms): Expr => ({ kind: 'union', terms, span })),
    fc
      .array(tie('expr'), { maxLength: 3 })
      .map((terms): Expr => ({ kind: 'intersect', terms, span })),
  ),
  arg: fc.record(
    { name: names.map((name) => ({ name, span })), value: tie('expr'), span: fc.constant(span) },
    { requiredKeys: ['value', 'span'] },
  ),
}));

const propertyNames = fc.constantFrom(
  'heads',
  'kv_heads',
  'head_dim',
  'value_dim',
  'causal',
  'scale',
  'mask',
  'kernel',
  'lowrank',
  'softcap',
  'bias',
  'head_routing',
  'max_seq',
  'layout',
  'dtype',
  'hedas',
);

const property = fc
  .tuple(propertyNames, expr)
  .map(([name, value]): Property => ({ kind: 'property', name: { name, span }, value, span }));

const group = fc
  .tuple(fc.constantFrom('g', 'h'), fc.array(property, { maxLength: 4 }), fc.boolean())
  .map(([name, properties, recovered]): Group => ({
    kind: 'group',
    name: { name, span },
    properties,
    span,
    ...(recovered ? { recovered } : {}),
  }));

const attention = fc
  .tuple(fc.constantFrom('a', 'b'), fc.array(fc.oneof(property, group), { maxLength: 6 }))
  .map(([name, items]): AttentionDecl => ({
    kind: 'attention',
    name: { name, span },
    items,
    span,
  }));

const file = fc
  .array(attention, { maxLength: 3 })
  .map((attentions): SpecFile => ({ kind: 'file', attentions, span }));

describe('robustness', () => {
  it('never throws on an arbitrary AST', () => {
    fc.assert(
      fc.property(file, (ast) => {
        const result = checkSpec(ast);
        for (const d of result.diagnostics) expect(d.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on token soup', () => {
    const token = fc.constantFrom(
      'attention',
      'group',
      'a',
      '{',
      '}',
      ':',
      ';',
      '\n',
      '(',
      ')',
      '[',
      ']',
      ',',
      '|',
      '&',
      'heads',
      'head_dim',
      'mask',
      'kernel',
      'window',
      'global',
      'causal',
      'true',
      '8',
      '2.5',
      'left',
      'favor',
      'lowrank',
      'linformer',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), (tokens) => {
        const parsed = parseSpec(tokens.join(' '));
        checkSpec(parsed.ast);
      }),
      { numRuns: 1000 },
    );
  });

  it('hands on an attention exactly when it has no errors', () => {
    // Plausible values, one per property, so that a good share of the specs is clean.
    const key = (item: string) => item.slice(0, item.indexOf(':'));
    const attentionValue = fc.constantFrom(
      'kv_heads: 2',
      'kv_heads: 3',
      'value_dim: 32',
      'causal: true',
      'scale: 0.5',
      'mask: window(16)',
      'mask: causal | sink(2)',
      'mask: global(0, 0)',
      'mask: random(2, seed: 3)',
      'kernel: elu1',
      'lowrank: nystrom(8)',
      'lowrank: linformer(8)',
      'softcap: 20',
      'bias: alibi',
      'head_routing: top(2)',
      'max_seq: 1024',
      'layout: bnhd',
      'dtype: f16',
      'heads: 2',
    );
    const groupValue = fc.constantFrom(
      'heads: 2',
      'heads: 4',
      'heads: 6',
      'kv_heads: 1',
      'kv_heads: 2',
      'causal: false',
      'mask: blocks(8)',
      'mask: full',
      'kernel: relu',
      'kernel: favor(16)',
      'softcap: 5',
      'lowrank: nystrom(4)',
      'head_dim: 32',
    );
    const body = fc.uniqueArray(attentionValue, { maxLength: 4, selector: key });
    const groupText = fc
      .tuple(
        fc.constantFrom('x', 'y', 'z'),
        fc.uniqueArray(groupValue, { maxLength: 3, selector: key }),
      )
      .map(([name, props]) => `  group ${name} { ${props.join('; ')} }`);
    const spec = fc
      .tuple(body, fc.array(groupText, { maxLength: 3 }))
      .map(
        ([props, groups]) =>
          `attention a {\n  head_dim: 64\n${props.map((p) => `  ${p}`).join('\n')}\n${groups.join('\n')}\n}\n`,
      );
    fc.assert(
      fc.property(spec, (text) => {
        const parsed = parseSpec(text);
        expect(parsed.diagnostics).toEqual([]);
        const { attentions, diagnostics } = checkSpec(parsed.ast);
        const clean = !hasErrors(diagnostics as Diagnostic[]);
        expect(attentions.length).toBe(clean ? 1 : 0);
        if (!clean) return;
        const [checked] = attentions;
        expect(checked!.heads).toBe(checked!.groups.reduce((sum, g) => sum + g.heads, 0));
        let head = 0;
        let kvHead = 0;
        for (const g of checked!.groups) {
          expect(g.heads % g.kvHeads).toBe(0);
          expect([g.headOffset, g.kvHeadOffset]).toEqual([head, kvHead]);
          head += g.heads;
          kvHead += g.kvHeads;
        }
        expect(checked!.kvHeads).toBe(kvHead);
      }),
      { numRuns: 1000 },
    );
  });
});
