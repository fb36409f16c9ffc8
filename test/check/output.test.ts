// The checked description: every default filled in, groups resolved, offsets computed.

import { describe, expect, it } from 'vitest';
import { checkSpec } from '../../src/check/check.js';
import { renderDiagnostics } from '../../src/diagnostics/render.js';
import { SourceText } from '../../src/diagnostics/source.js';
import { parseSpec } from '../../src/syntax/parse.js';
import { check, withoutSpans } from './helpers.js';

describe('defaults', () => {
  it('fills in every default of a minimal spec', () => {
    const { attentions, diagnostics } = check('attention tiny {\n  heads: 4\n  head_dim: 16\n}\n');
    expect(diagnostics).toEqual([]);
    expect(withoutSpans(attentions)).toEqual([
      {
        name: 'tiny',
        heads: 4,
        kvHeads: 4,
        headDim: 16,
        valueDim: 16,
        layout: 'bhnd',
        dtype: 'f32',
        declaredGroups: false,
        groups: [
          {
            name: 'tiny',
            heads: 4,
            kvHeads: 4,
            headOffset: 0,
            kvHeadOffset: 0,
            causal: false,
            scale: 0.25,
            mask: { kind: 'full' },
          },
        ],
      },
    ]);
  });

  it('keeps every property that is set', () => {
    const { attentions, diagnostics } = check(
      [
        'attention everything {',
        '  heads: 8; kv_heads: 2; head_dim: 128; value_dim: 64',
        '  causal: true; scale: 0.5; softcap: 50; bias: alibi',
        '  mask: window(left: 128) | sink(4)',
        '  head_routing: top(2); max_seq: 8192; layout: bnhd; dtype: f16',
        '}',
      ].join('\n'),
    );
    expect(diagnostics).toEqual([]);
    expect(withoutSpans(attentions)).toEqual([
      {
        name: 'everything',
        heads: 8,
        kvHeads: 2,
        headDim: 128,
        valueDim: 64,
        layout: 'bnhd',
        dtype: 'f16',
        maxSeq: 8192,
        headRouting: { k: 2 },
        declaredGroups: false,
        groups: [
          {
            name: 'everything',
            heads: 8,
            kvHeads: 2,
            headOffset: 0,
            kvHeadOffset: 0,
            causal: true,
            scale: 0.5,
            softcap: 50,
            bias: 'alibi',
            mask: {
              kind: 'union',
              terms: [
                { kind: 'window', left: 128, right: 0 },
                { kind: 'sink', count: 4 },
              ],
            },
          },
        ],
      },
    ]);
  });

  it('fills in the defaults of mask primitives and mechanisms', () => {
    const masks = (text: string) =>
      withoutSpans(
        check(`attention a {\n  heads: 2; head_dim: 64\n  ${text}\n}\n`).attentions[0]?.groups[0],
      );
    expect(masks('mask: random(3)')).toMatchObject({
      mask: { kind: 'random', count: 3, block: 64, seed: 0 },
    });
    expect(masks('mask: topk(2)')).toMatchObject({ mask: { kind: 'topk', k: 2, block: 64 } });
    expect(masks('mask: lsh(buckets: 8)')).toMatchObject({
      mask: { kind: 'lsh', buckets: 8, seed: 0 },
    });
    expect(masks('mask: window(right: 3)')).toMatchObject({
      mask: { kind: 'window', left: 0, right: 3 },
    });
    expect(masks('mask: window(width: 5)')).toMatchObject({
      mask: { kind: 'window', left: 5, right: 5 },
    });
    expect(masks('mask: global([9, 0, 5])')).toMatchObject({
      mask: { kind: 'global', first: 0, positions: [0, 5, 9] },
    });
    expect(masks('mask: global(7, first: 4)')).toMatchObject({
      mask: { kind: 'global', first: 4, positions: [7] },
    });
    expect(masks('mask: segment & segment()')).toMatchObject({
      mask: { kind: 'intersect', terms: [{ kind: 'segment' }, { kind: 'segment' }] },
    });
    expect(
      masks('mask: dilated(4, 2) | stride(3) | blocks(16) | cluster(4) | causal()'),
    ).toMatchObject({
      mask: {
        kind: 'union',
        terms: [
          { kind: 'dilated', width: 4, dilation: 2 },
          { kind: 'stride', step: 3 },
          { kind: 'blocks', size: 16 },
          { kind: 'cluster', count: 4 },
          { kind: 'causal' },
        ],
      },
    });
    expect(masks('kernel: favor(128)')).toMatchObject({
      kernel: { kind: 'favor', features: 128, seed: 0 },
    });
    expect(masks('kernel: elu1()')).toMatchObject({ kernel: { kind: 'elu1' } });
    expect(masks('lowrank: nystrom(32)')).toMatchObject({
      lowrank: { kind: 'nystrom', landmarks: 32, iters: 6 },
    });
    expect(masks('lowrank: nystrom(landmarks: 16, iters: 3)')).toMatchObject({
      lowrank: { kind: 'nystrom', landmarks: 16, iters: 3 },
    });
  });

  it('resolves scale: auto against head_dim', () => {
    const scale = (text: string) =>
      check(`attention a { heads: 1; ${text} }`).attentions[0]?.groups[0]?.scale;
    expect(scale('head_dim: 64')).toBe(0.125);
    expect(scale('head_dim: 100; scale: auto')).toBe(0.1);
    expect(scale('head_dim: 64; scale: 1e-1')).toBe(0.1);
  });
});

describe('groups', () => {
  const hybrid = [
    'attention hybrid {',
    '  head_dim: 64',
    '  causal: true',
    '  kv_heads: 2',
    '  softcap: 30',
    '  group local  { heads: 4; mask: window(128) }',
    '  group linear { heads: 6; kernel: elu1; softcap: 20; causal: false; kv_heads: 3 }',
    '  group global { heads: 2; mask: global(0) | window(8) }',
    '}',
  ].join('\n');

  it('inherit score modifiers that then conflict with their own mechanism', () => {
    // `linear` inherits `softcap: 30` from the attention and sets a kernel: E506.
    const { attentions, diagnostics } = check(hybrid.replace(' softcap: 20;', ''));
    expect(diagnostics.map((d) => d.code)).toEqual(['E506']);
    expect(attentions).toEqual([]);
  });

  it('compute head and kv head offsets per group', () => {
    const text = hybrid.replace('  softcap: 30\n', '').replace(' softcap: 20;', '');
    const { attentions, diagnostics } = check(text);
    expect(diagnostics).toEqual([]);
    const [attention] = attentions;
    expect(attention).toMatchObject({ heads: 12, kvHeads: 7, declaredGroups: true });
    expect(
      attention?.groups.map((g) => [
        g.name,
        g.heads,
        g.kvHeads,
        g.headOffset,
        g.kvHeadOffset,
        g.causal,
      ]),
    ).toEqual([
      ['local', 4, 2, 0, 0, true],
      ['linear', 6, 3, 4, 2, false],
      ['global', 2, 2, 10, 5, true],
    ]);
    expect(attention?.groups[1]?.kernel?.kind).toBe('elu1');
    expect(attention?.groups[0]?.kernel).toBeUndefined();
    expect(attention?.groups[1]?.mask.kind).toBe('full');
  });

  it('inherit score modifiers and masks from the attention', () => {
    const { attentions } = check(
      'attention a {\n  head_dim: 32; heads: 2; softcap: 30; mask: blocks(16)\n  group x { }\n  group y { mask: full }\n}\n',
    );
    expect(withoutSpans(attentions[0]?.groups)).toEqual([
      {
        name: 'x',
        heads: 2,
        kvHeads: 2,
        headOffset: 0,
        kvHeadOffset: 0,
        causal: false,
        scale: 1 / Math.sqrt(32),
        mask: { kind: 'blocks', size: 16 },
        softcap: 30,
      },
      {
        name: 'y',
        heads: 2,
        kvHeads: 2,
        headOffset: 2,
        kvHeadOffset: 2,
        causal: false,
        scale: 1 / Math.sqrt(32),
        mask: { kind: 'full' },
        softcap: 30,
      },
    ]);
  });

  it('keep spans that point at the spec text', () => {
    const text = 'attention a {\n  head_dim: 64\n  group g { heads: 2; mask: window(4) }\n}\n';
    const group = check(text).attentions[0]?.groups[0];
    expect(group && text.slice(group.span.start, group.span.end)).toBe(
      'group g { heads: 2; mask: window(4) }',
    );
    expect(group && text.slice(group.mask.span.start, group.mask.span.end)).toBe('window(4)');
  });
});

describe('reporting', () => {
  it('reports three independent mistakes in one run', () => {
    const text = [
      'attention a {',
      '  heads: 8',
      '  head_dim: 64',
      '  mask: windw(4)',
      '  kv_heads: 3',
      '}',
      'attention b {',
      '  heads: 4; head_dim: 32',
      '  lowrank: linformer(16)',
      '}',
    ].join('\n');
    const source = new SourceText('spec.attn', text);
    const { attentions, diagnostics } = check(text);
    expect(attentions).toEqual([]);
    expect(renderDiagnostics(diagnostics, source)).toMatchInlineSnapshot(`
      "error[E201]: unknown mask primitive \`windw\`
       --> spec.attn:4:9
        |
      4 |   mask: windw(4)
        |         ^^^^^
        = help: did you mean \`window\`?

      error[E500]: \`kv_heads\` (3) does not divide \`heads\` (8)
       --> spec.attn:5:13
        |
      2 |   heads: 8
        |          - heads set here
      ...
      5 |   kv_heads: 3
        |             ^
        = help: head h reads kv head floor(h / (heads / kv_heads)), so each kv head serves the same number of heads
        = help: use a divisor of 8: 1, 2, 4, 8

      error[E505]: \`linformer\` needs \`max_seq\`
       --> spec.attn:9:12
        |
      9 |   lowrank: linformer(16)
        |            ^^^^^^^^^^^^^
        = help: the run-time inputs \`E\` and \`F\` of \`linformer(r)\` are \`[kv_heads, r, max_seq]\`
        = help: add \`max_seq: N\` to the attention, with N the longest key sequence
      "
    `);
  });

  it('hands on the clean attentions of a file with errors', () => {
    const { attentions } = check(
      'attention good { heads: 2; head_dim: 8 }\nattention bad { heads: 2 }\nattention also { heads: 1; head_dim: 4 }\n',
    );
    expect(attentions.map((a) => a.name)).toEqual(['good', 'also']);
  });

  it('keeps attentions that only have warnings', () => {
    const { attentions, diagnostics } = check(
      'attention a { heads: 2; head_dim: 8; mask: full | causal }',
    );
    expect(diagnostics.map((d) => d.code)).toEqual(['W105']);
    expect(attentions).toHaveLength(1);
  });

  it('does not report what a syntax error may have hidden, nor hand the attention on', () => {
    const text = 'attention a {\n  heads: 8\n  head_dim: @\n}\n';
    const parsed = parseSpec(text);
    expect(parsed.diagnostics.length).toBeGreaterThan(0);
    const { attentions, diagnostics } = checkSpec(parsed.ast);
    expect(diagnostics.filter((d) => d.code === 'E305')).toEqual([]);
    expect(attentions).toEqual([]);
  });

  it('sorts diagnostics by position', () => {
    const { diagnostics } = check(
      'attention a {\n  layout: bhdn\n  heads: 0\n  head_dim: 64\n  dtype: f64\n}\n',
    );
    expect(diagnostics.map((d) => d.code)).toEqual(['E209', 'E400', 'E209']);
  });
});
