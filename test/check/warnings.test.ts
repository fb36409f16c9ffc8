// W1xx: legal specs that are probably mistakes.

import { describe, expect, it } from 'vitest';
import { codes, diagnose } from './helpers.js';

const wrap = (body: string) => `attention a {\n  heads: 8; head_dim: 64\n  ${body}\n}\n`;

describe('warnings', () => {
  it('W100: a file without attentions', () => {
    expect(diagnose('# nothing here\n')).toMatchInlineSnapshot(`
      "warning[W100]: no attention declared
       --> spec.attn:1:1
        |
      1 | # nothing here
        | ^
        = help: declare one with \`attention NAME { heads: 8; head_dim: 64 }\`"
    `);
  });

  it('W101: a window wider than max_seq', () => {
    expect(diagnose(wrap('max_seq: 256\n  mask: window(512)'))).toMatchInlineSnapshot(`
      "warning[W101]: window reaches 512 positions, beyond max_seq (256)
       --> spec.attn:4:9
        |
      3 |   max_seq: 256
        |            --- max_seq set here
      4 |   mask: window(512)
        |         ^^^^^^^^^^^
        = help: no key is more than 255 positions from a query, so a reach of 255 means the same"
    `);
  });

  it('W101: a dilated window reaching past max_seq', () => {
    expect(codes(wrap('max_seq: 256\n  mask: dilated(64, 8)'))).toEqual(['W101']);
  });

  it('W102: a global position listed twice', () => {
    expect(diagnose(wrap('mask: global(0, 5, 0)'))).toMatchInlineSnapshot(`
      "warning[W102]: position 0 is listed twice in \`global\`
       --> spec.attn:3:22
        |
      3 |   mask: global(0, 5, 0)
        |                      ^
        |                - first listed here
        = help: remove one of them"
    `);
  });

  it('W102: a global position already covered by first', () => {
    expect(diagnose(wrap('mask: global(2, first: 4)'))).toMatchInlineSnapshot(`
      "warning[W102]: position 2 is already covered by \`first: 4\`
       --> spec.attn:3:16
        |
      3 |   mask: global(2, first: 4)
        |                ^
        |                   -------- covers positions 0 to 3
        = help: remove it"
    `);
  });

  it('W103: a global position beyond max_seq', () => {
    expect(diagnose(wrap('max_seq: 128\n  mask: global(0, 200)'))).toMatchInlineSnapshot(`
      "warning[W103]: global position 200 is not below max_seq (128)
       --> spec.attn:4:19
        |
      3 |   max_seq: 128
        |            --- max_seq set here
      4 |   mask: global(0, 200)
        |                   ^^^
        = help: positions at or beyond max_seq never occur; remove it"
    `);
  });

  it('W104: causal both as a property and in the mask', () => {
    expect(diagnose(wrap('causal: true\n  mask: causal & window(32)'))).toMatchInlineSnapshot(`
      "warning[W104]: \`causal\` is given twice
       --> spec.attn:4:9
        |
      3 |   causal: true
        |           ---- \`causal: true\` already makes the mask causal
      4 |   mask: causal & window(32)
        |         ^^^^^^
        = help: remove one of them"
    `);
  });

  it('W105: full in a union', () => {
    expect(diagnose(wrap('mask: window(32) | full'))).toMatchInlineSnapshot(`
      "warning[W105]: \`full\` in a union allows every position: the other terms have no effect
       --> spec.attn:3:22
        |
      3 |   mask: window(32) | full
        |                      ^^^^
        = help: remove \`full\`, or write \`mask: full\`"
    `);
  });

  it('W105: full in an intersection', () => {
    expect(diagnose(wrap('mask: full & window(32)'))).toMatchInlineSnapshot(`
      "warning[W105]: \`full\` in an intersection has no effect
       --> spec.attn:3:9
        |
      3 |   mask: full & window(32)
        |         ^^^^
        = help: remove it"
    `);
  });

  it('W106: head routing that keeps every head', () => {
    expect(diagnose(wrap('head_routing: top(8)'))).toMatchInlineSnapshot(`
      "warning[W106]: \`top(8)\` keeps every head, so routing only rescales the heads
       --> spec.attn:3:21
        |
      2 |   heads: 8; head_dim: 64
        |          - heads set here
      3 |   head_routing: top(8)
        |                     ^
        = help: use a k below 8 to drop heads, or remove \`head_routing\`"
    `);
  });

  it('W107: a single cluster', () => {
    expect(diagnose(wrap('mask: cluster(1)'))).toMatchInlineSnapshot(`
      "warning[W107]: \`cluster(1)\` puts every query and key in one cluster, so it allows every position
       --> spec.attn:3:9
        |
      3 |   mask: cluster(1)
        |         ^^^^^^^^^^
        = help: use \`full\`, or more than one cluster"
    `);
  });

  it('W108: a linformer rank not below max_seq', () => {
    expect(diagnose(wrap('max_seq: 128\n  lowrank: linformer(128)'))).toMatchInlineSnapshot(`
      "warning[W108]: \`linformer\` rank 128 is not below max_seq (128): nothing is compressed
       --> spec.attn:4:12
        |
      3 |   max_seq: 128
        |            --- max_seq set here
      4 |   lowrank: linformer(128)
        |            ^^^^^^^^^^^^^^
        = help: use a rank well below 128, or plain softmax attention"
    `);
  });

  it('W109: an attention property every group overrides', () => {
    expect(
      diagnose(
        'attention a {\n  head_dim: 64\n  heads: 12\n  group x { heads: 4 }\n  group y { heads: 8 }\n}\n',
      ),
    ).toMatchInlineSnapshot(`
      "warning[W109]: \`heads\` is set on the attention but every group sets its own
       --> spec.attn:3:3
        |
      3 |   heads: 12
        |   ^^^^^
        = help: with groups, the attention has the sum of its groups' heads; its own \`heads\` is only a default for groups that do not set one
        = help: remove it from the attention"
    `);
  });

  it('warnings do not keep an attention out of the output', () => {
    const text = wrap('mask: window(32) | full');
    expect(codes(text)).toEqual(['W105']);
  });
});
