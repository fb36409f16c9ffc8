// E5xx: rules between properties.

import { describe, expect, it } from 'vitest';
import { divisors } from '../../src/check/rules.js';
import { codes, diagnose } from './helpers.js';

const wrap = (body: string) => `attention a {\n  heads: 8; head_dim: 64\n  ${body}\n}\n`;

describe('E500 kv_heads', () => {
  it('kv_heads not dividing heads', () => {
    expect(diagnose('attention a {\n  heads: 8\n  kv_heads: 3\n  head_dim: 64\n}\n'))
      .toMatchInlineSnapshot(`
      "error[E500]: \`kv_heads\` (3) does not divide \`heads\` (8)
       --> spec.attn:3:13
        |
      2 |   heads: 8
        |          - heads set here
      3 |   kv_heads: 3
        |             ^
        = help: head h reads kv head floor(h / (heads / kv_heads)), so each kv head serves the same number of heads
        = help: use a divisor of 8: 1, 2, 4, 8"
    `);
  });

  it('is checked per group, naming the group', () => {
    expect(
      diagnose(
        'attention a {\n  head_dim: 64\n  kv_heads: 2\n  group x { heads: 4 }\n  group y { heads: 3 }\n}\n',
      ),
    ).toMatchInlineSnapshot(`
      "error[E500]: \`kv_heads\` (2) does not divide \`heads\` (3) in group \`y\`
       --> spec.attn:3:13
        |
      3 |   kv_heads: 2
        |             ^
      ...
      5 |   group y { heads: 3 }
        |                    - heads set here
        = help: head h reads kv head floor(h / (heads / kv_heads)), so each kv head serves the same number of heads
        = help: use a divisor of 3: 1, 3"
    `);
  });
});

describe('E500 divisor help', () => {
  it('lists every divisor of a small count, the first twelve of a larger one', () => {
    expect(divisors(12)).toBe('1, 2, 3, 4, 6, 12');
    expect(divisors(5040)).toBe('1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, ...');
    expect(divisors(65537)).toBe('1, 65537'); // prime, above 256^2: still searched to its root
  });

  it('stays bounded at the largest heads (a prime: no search up to n)', () => {
    expect(divisors(2147483647)).toBe('1, ..., 2147483647');
    expect(divisors(2147483646)).toBe('1, 2, 3, 6, 7, 9, 11, 14, 18, 21, 22, 31, ..., 2147483646');
    const text = 'attention a {\n  heads: 2147483647\n  kv_heads: 2\n  head_dim: 64\n}\n';
    expect(codes(text)).toEqual(['E500']);
  });
});

describe('E501..E506 mechanisms', () => {
  it('E501: kernel with a sparse mask', () => {
    expect(diagnose(wrap('kernel: elu1\n  mask: causal & window(64)'))).toMatchInlineSnapshot(`
      "error[E501]: \`kernel\` needs a \`full\` or \`causal\` mask, found \`window\`
       --> spec.attn:4:18
        |
      3 |   kernel: elu1
        |           ---- linear attention chosen here
      4 |   mask: causal & window(64)
        |                  ^^^^^^^^^^
        = help: linear attention sums over all keys, or all earlier keys, in O(N); it cannot skip arbitrary ones
        = help: remove the mask (or use \`causal: true\`), or use softmax attention for this mask"
    `);
  });

  it('E501: kernel with full or causal is fine', () => {
    expect(codes(wrap('kernel: relu\n  mask: causal & full'))).toEqual(['W105']);
    expect(codes(wrap('kernel: favor(64, seed: 1)\n  causal: true'))).toEqual([]);
  });

  it('E502: lowrank with causal: true', () => {
    expect(diagnose(wrap('lowrank: nystrom(32)\n  causal: true'))).toMatchInlineSnapshot(`
      "error[E502]: low-rank attention cannot be causal
       --> spec.attn:4:11
        |
      3 |   lowrank: nystrom(32)
        |            ----------- low-rank attention chosen here
      4 |   causal: true
        |           ^^^^
        = help: the low-rank projections mix all keys, so no query can be kept from later ones
        = help: remove \`causal: true\`, or use softmax attention"
    `);
  });

  it('E502: lowrank with a causal mask', () => {
    expect(codes(wrap('lowrank: nystrom(32)\n  mask: causal'))).toEqual(['E502']);
  });

  it('E503: lowrank with a sparse mask', () => {
    expect(diagnose(wrap('lowrank: nystrom(32)\n  mask: blocks(64)'))).toMatchInlineSnapshot(`
      "error[E503]: low-rank attention needs a \`full\` mask, found \`blocks\`
       --> spec.attn:4:9
        |
      3 |   lowrank: nystrom(32)
        |            ----------- low-rank attention chosen here
      4 |   mask: blocks(64)
        |         ^^^^^^^^^^
        = help: the low-rank projections mix all keys, so no key can be masked out
        = help: remove the mask, or use softmax attention for this mask"
    `);
  });

  it('E504: kernel and lowrank together', () => {
    expect(diagnose(wrap('kernel: elu1\n  lowrank: nystrom(32)'))).toMatchInlineSnapshot(`
      "error[E504]: \`kernel\` and \`lowrank\` cannot both be set
       --> spec.attn:4:12
        |
      3 |   kernel: elu1
        |           ---- kernel set here
      4 |   lowrank: nystrom(32)
        |            ^^^^^^^^^^^
        = help: a kernel replaces softmax with a feature map; lowrank approximates softmax attention
        = help: keep one of them, or put them in separate \`group\`s"
    `);
  });

  it('E505: linformer without max_seq', () => {
    expect(diagnose(wrap('lowrank: linformer(128)'))).toMatchInlineSnapshot(`
      "error[E505]: \`linformer\` needs \`max_seq\`
       --> spec.attn:3:12
        |
      3 |   lowrank: linformer(128)
        |            ^^^^^^^^^^^^^^
        = help: the run-time inputs \`E\` and \`F\` of \`linformer(r)\` are \`[kv_heads, r, max_seq]\`
        = help: add \`max_seq: N\` to the attention, with N the longest key sequence"
    `);
  });

  it('E506: softcap with a kernel', () => {
    expect(diagnose(wrap('kernel: elu1\n  softcap: 30'))).toMatchInlineSnapshot(`
      "error[E506]: \`softcap\` cannot be used with \`kernel\`
       --> spec.attn:4:12
        |
      3 |   kernel: elu1
        |           ---- linear attention chosen here
      4 |   softcap: 30
        |            ^^
        = help: linear attention never forms the scores \`q·k\` that it would change
        = help: remove \`softcap\`, or put the two in separate \`group\`s"
    `);
  });

  it('E506: bias with lowrank', () => {
    expect(diagnose(wrap('max_seq: 4096\n  lowrank: linformer(128)\n  bias: alibi')))
      .toMatchInlineSnapshot(`
      "error[E506]: \`bias\` cannot be used with \`lowrank\`
       --> spec.attn:5:9
        |
      4 |   lowrank: linformer(128)
        |            -------------- low-rank attention chosen here
      5 |   bias: alibi
        |         ^^^^^
        = help: low-rank attention scores projected or averaged keys, which have no single position or score to change
        = help: remove \`bias\`, or put the two in separate \`group\`s"
    `);
  });

  it('an inherited conflict is reported once, not once per group', () => {
    expect(
      codes(
        'attention a {\n  head_dim: 64\n  kernel: elu1\n  mask: window(8)\n  group x { heads: 2 }\n  group y { heads: 2 }\n}\n',
      ),
    ).toEqual(['E501']);
  });

  it('a group may use a kernel while its sibling uses a sparse mask', () => {
    expect(
      codes(
        'attention a {\n  head_dim: 64\n  group x { heads: 2; mask: window(8) }\n  group y { heads: 2; kernel: elu1 }\n}\n',
      ),
    ).toEqual([]);
  });
});
