// E3xx: argument counts, types, order and the use of `|`/`&` outside masks.

import { describe, expect, it } from 'vitest';
import { codes, diagnose } from './helpers.js';

const wrap = (body: string) => `attention a {\n  heads: 8; head_dim: 64\n  ${body}\n}\n`;

describe('argument counts (E300)', () => {
  it('too many positional arguments', () => {
    expect(diagnose(wrap('mask: dilated(4, 2, 1)'))).toMatchInlineSnapshot(`
      "error[E300]: \`dilated\` takes 2 positional arguments, but 3 were given
       --> spec.attn:3:23
        |
      3 |   mask: dilated(4, 2, 1)
        |                       ^
        = help: write \`dilated(width, dilation)\`"
    `);
  });

  it('a named-only parameter given by position says to name it', () => {
    expect(diagnose(wrap('mask: random(2, 64)'))).toMatchInlineSnapshot(`
      "error[E300]: \`random\` takes 1 positional argument, but 2 were given
       --> spec.attn:3:19
        |
      3 |   mask: random(2, 64)
        |                   ^^
        = help: \`block\` and \`seed\` must be given by name: \`random(count, block: b, seed: s)\`"
    `);
  });

  it('a named-only required argument given by position is one error, not two', () => {
    expect(diagnose(wrap('mask: lsh(8)'))).toMatchInlineSnapshot(`
      "error[E300]: \`lsh\` takes no positional arguments, but 1 was given
       --> spec.attn:3:13
        |
      3 |   mask: lsh(8)
        |             ^
        = help: \`buckets\` and \`seed\` must be given by name: \`lsh(buckets: n, seed: s)\`"
    `);
  });

  it('a feature map that needs arguments written bare', () => {
    expect(diagnose(wrap('kernel: favor'))).toMatchInlineSnapshot(`
      "error[E300]: \`favor\` needs arguments
       --> spec.attn:3:11
        |
      3 |   kernel: favor
        |           ^^^^^
        = help: write \`favor(features, seed: s)\`"
    `);
  });

  it('a missing required argument', () => {
    expect(diagnose(wrap('mask: topk(block: 32)'))).toMatchInlineSnapshot(`
      "error[E300]: \`topk\` is missing its argument \`k\`
       --> spec.attn:3:9
        |
      3 |   mask: topk(block: 32)
        |         ^^^^^^^^^^^^^^^
        = help: write \`topk(k, block: b)\`"
    `);
  });

  it('a primitive that needs arguments written bare', () => {
    expect(diagnose(wrap('mask: window'))).toMatchInlineSnapshot(`
      "error[E300]: \`window\` needs arguments
       --> spec.attn:3:9
        |
      3 |   mask: window
        |         ^^^^^^
        = help: write \`window(width)\` or \`window(left: a, right: b)\`"
    `);
  });

  it('arguments to a primitive that takes none', () => {
    expect(diagnose(wrap('mask: causal(1)'))).toMatchInlineSnapshot(`
      "error[E300]: \`causal\` takes no arguments, but 1 was given
       --> spec.attn:3:16
        |
      3 |   mask: causal(1)
        |                ^
        = help: write \`causal\`"
    `);
  });

  it('window with neither a width nor a side', () => {
    expect(diagnose(wrap('mask: window()'))).toMatchInlineSnapshot(`
      "error[E300]: \`window\` is missing its width
       --> spec.attn:3:9
        |
      3 |   mask: window()
        |         ^^^^^^^^
        = help: write \`window(width)\` or \`window(left: a, right: b)\`"
    `);
  });

  it('global with no position', () => {
    expect(diagnose(wrap('mask: global()'))).toMatchInlineSnapshot(`
      "error[E300]: \`global\` needs at least one position
       --> spec.attn:3:9
        |
      3 |   mask: global()
        |         ^^^^^^^^
        = help: write \`global(t1, t2, ...)\` or \`global(first: g)\`"
    `);
  });
});

describe('types (E301)', () => {
  it('a decimal where an integer is needed', () => {
    expect(diagnose(wrap('mask: window(2.5)'))).toMatchInlineSnapshot(`
      "error[E301]: argument \`width\` of \`window\` must be an integer, found \`2.5\`
       --> spec.attn:3:16
        |
      3 |   mask: window(2.5)
        |                ^^^
        = help: integer values take no decimal point and no exponent"
    `);
  });

  it('an exponent where an integer is needed, with the integer to write', () => {
    expect(diagnose(wrap('max_seq: 1e3'))).toMatchInlineSnapshot(`
      "error[E301]: \`max_seq\` must be an integer, found \`1e3\`
       --> spec.attn:3:12
        |
      3 |   max_seq: 1e3
        |            ^^^
        = help: write it as an integer literal: \`1000\`"
    `);
  });

  it('a name where a bool is needed, with a suggestion', () => {
    expect(diagnose(wrap('causal: True'))).toMatchInlineSnapshot(`
      "error[E301]: \`causal\` must be \`true\` or \`false\`, found \`True\`
       --> spec.attn:3:11
        |
      3 |   causal: True
        |           ^^^^
        = help: did you mean \`true\`?"
    `);
  });

  it('a list where an integer is needed', () => {
    expect(diagnose('attention a {\n  heads: [8]; head_dim: 64\n}\n')).toMatchInlineSnapshot(`
      "error[E301]: \`heads\` must be an integer, found a list
       --> spec.attn:2:10
        |
      2 |   heads: [8]; head_dim: 64
        |          ^^^
        = help: a list is only accepted as the single argument of \`global\`"
    `);
  });

  it('a bool where scale is expected mentions auto', () => {
    expect(diagnose(wrap('scale: true'))).toMatchInlineSnapshot(`
      "error[E301]: \`scale\` must be a number, found \`true\`
       --> spec.attn:3:10
        |
      3 |   scale: true
        |          ^^^^
        = help: write a positive number, or \`auto\` for 1 / sqrt(head_dim)"
    `);
  });

  it('a list among several global positions', () => {
    expect(diagnose(wrap('mask: global([0, 5], 7)'))).toMatchInlineSnapshot(`
      "error[E301]: a \`global\` position must be an integer, found a list
       --> spec.attn:3:16
        |
      3 |   mask: global([0, 5], 7)
        |                ^^^^^^
        = help: a list is only accepted as the single argument of \`global\`"
    `);
  });

  it('a number where a feature map is needed', () => {
    expect(diagnose(wrap('kernel: 4'))).toMatchInlineSnapshot(`
      "error[E301]: \`kernel\` must be a feature map, found \`4\`
       --> spec.attn:3:11
        |
      3 |   kernel: 4
        |           ^
        = help: expected \`elu1\`, \`relu\` or \`favor\`"
    `);
  });
});

describe('argument order and naming', () => {
  it('E302: a positional argument after a named one', () => {
    expect(diagnose(wrap('mask: random(block: 32, 2)'))).toMatchInlineSnapshot(`
      "error[E302]: positional argument after a named one in \`random\`
       --> spec.attn:3:27
        |
      3 |   mask: random(block: 32, 2)
        |                           ^
        |                --------- named argument here
        = help: put positional arguments first: \`random(count, block: b, seed: s)\`"
    `);
  });

  it('E306: an argument given by position and by name', () => {
    expect(diagnose(wrap('mask: topk(4, k: 2)'))).toMatchInlineSnapshot(`
      "error[E306]: argument \`k\` of \`topk\` is given both by position and by name
       --> spec.attn:3:17
        |
      3 |   mask: topk(4, k: 2)
        |                 ^^^^
        |              - \`k\` given by position here
        = help: remove one of them"
    `);
  });

  it('E306: window with a width and a side', () => {
    expect(diagnose(wrap('mask: window(4, left: 2)'))).toMatchInlineSnapshot(`
      "error[E306]: \`window\` takes a width or \`left:\`/\`right:\`, not both
       --> spec.attn:3:19
        |
      3 |   mask: window(4, left: 2)
        |                   ^^^^^^^
        |                - width given here
        = help: write \`window(width)\` for a symmetric window, or \`window(left: a, right: b)\`"
    `);
  });
});

describe('masks and operators', () => {
  it('E303: a number in a mask', () => {
    expect(diagnose(wrap('mask: window(4) | 8'))).toMatchInlineSnapshot(`
      "error[E303]: expected a mask, found \`8\`
       --> spec.attn:3:21
        |
      3 |   mask: window(4) | 8
        |                     ^
        = help: a mask is a primitive such as \`window(64)\`, or primitives combined with \`|\` and \`&\`"
    `);
  });

  it('E303: a bool in a mask points at causal', () => {
    expect(diagnose(wrap('mask: true'))).toMatchInlineSnapshot(`
      "error[E303]: expected a mask, found \`true\`
       --> spec.attn:3:9
        |
      3 |   mask: true
        |         ^^^^
        = help: for causal attention write \`causal: true\` or \`mask: causal\`"
    `);
  });

  it('E303: a feature map in a mask points at kernel', () => {
    expect(diagnose(wrap('mask: elu1'))).toMatchInlineSnapshot(`
      "error[E303]: \`elu1\` is a feature map, not a mask
       --> spec.attn:3:9
        |
      3 |   mask: elu1
        |         ^^^^
        = help: \`elu1\` is a feature map; write \`kernel: elu1\`"
    `);
  });

  it('E304: `|` outside a mask', () => {
    expect(diagnose(wrap('kernel: elu1 | relu'))).toMatchInlineSnapshot(`
      "error[E304]: \`|\` is only allowed between masks, not in \`kernel\`
       --> spec.attn:3:11
        |
      3 |   kernel: elu1 | relu
        |           ^^^^^^^^^^^
        = help: \`kernel\` takes a single value"
    `);
  });

  it('E304: `&` inside a mask argument', () => {
    expect(diagnose(wrap('mask: window(4 & 8)'))).toMatchInlineSnapshot(`
      "error[E304]: \`&\` is only allowed between masks, not in argument \`width\` of \`window\`
       --> spec.attn:3:16
        |
      3 |   mask: window(4 & 8)
        |                ^^^^^
        = help: argument \`width\` of \`window\` takes a single value"
    `);
  });
});

describe('missing properties (E305)', () => {
  it('head_dim, pointed at the attention name', () => {
    expect(diagnose('attention a {\n  heads: 8\n}\n')).toMatchInlineSnapshot(`
      "error[E305]: attention \`a\` is missing the required property \`head_dim\`
       --> spec.attn:1:11
        |
      1 | attention a {
        |           ^
        = help: add \`head_dim: 64\` to the attention"
    `);
  });

  it('heads in a group that does not inherit any', () => {
    expect(diagnose('attention a {\n  head_dim: 64\n  group g { mask: window(4) }\n}\n'))
      .toMatchInlineSnapshot(`
      "error[E305]: group \`g\` is missing the required property \`heads\`
       --> spec.attn:3:9
        |
      3 |   group g { mask: window(4) }
        |         ^
        = help: add \`heads: 8\` to the group or to the attention"
    `);
  });

  it('is not reported when the property is only misspelt', () => {
    expect(codes('attention a {\n  heads: 8\n  headdim: 64\n}\n')).toEqual(['E200']);
  });
});
