// E4xx: values out of range.

import { describe, expect, it } from 'vitest';
import { codes, diagnose } from './helpers.js';

const wrap = (body: string) => `attention a {\n  heads: 8; head_dim: 64\n  ${body}\n}\n`;

describe('E400', () => {
  it('head_dim above 256', () => {
    expect(diagnose('attention a {\n  heads: 8\n  head_dim: 512\n}\n')).toMatchInlineSnapshot(`
      "error[E400]: \`head_dim\` must be between 1 and 256, found 512
       --> spec.attn:3:13
        |
      3 |   head_dim: 512
        |             ^^^"
    `);
  });

  it('nystrom iters above 100 (each iteration is four dispatches)', () => {
    expect(diagnose(wrap('lowrank: nystrom(8, iters: 20000)'))).toMatchInlineSnapshot(`
      "error[E400]: argument \`iters\` of \`nystrom\` must be between 1 and 100, found 20000
       --> spec.attn:3:30
        |
      3 |   lowrank: nystrom(8, iters: 20000)
        |                              ^^^^^"
    `);
  });

  it('mechanism counts at and past their upper bounds', () => {
    expect(codes(wrap('lowrank: nystrom(1024, iters: 100)'))).toEqual([]);
    expect(codes(wrap('lowrank: nystrom(1025)'))).toEqual(['E400']);
    expect(codes(wrap('lowrank: nystrom(8, iters: 0)'))).toEqual(['E400']);
    expect(codes(wrap('kernel: favor(16384)'))).toEqual([]);
    expect(codes(wrap('kernel: favor(16385)'))).toEqual(['E400']);
  });

  it('zero heads', () => {
    expect(diagnose('attention a {\n  heads: 0\n  head_dim: 64\n}\n')).toMatchInlineSnapshot(`
      "error[E400]: \`heads\` must be at least 1, found 0
       --> spec.attn:2:10
        |
      2 |   heads: 0
        |          ^"
    `);
  });

  it('a non-positive scale', () => {
    expect(diagnose(wrap('scale: 0'))).toMatchInlineSnapshot(`
      "error[E400]: \`scale\` must be a positive number, found 0
       --> spec.attn:3:10
        |
      3 |   scale: 0
        |          ^"
    `);
  });

  it('a zero block size', () => {
    expect(diagnose(wrap('mask: blocks(0)'))).toMatchInlineSnapshot(`
      "error[E400]: argument \`size\` of \`blocks\` must be at least 1, found 0
       --> spec.attn:3:16
        |
      3 |   mask: blocks(0)
        |                ^"
    `);
  });

  it('an integer too large for the kernels', () => {
    expect(diagnose(wrap('max_seq: 99999999999'))).toMatchInlineSnapshot(`
      "error[E400]: \`max_seq\` must be at most 2147483647, found 99999999999
       --> spec.attn:3:12
        |
      3 |   max_seq: 99999999999
        |            ^^^^^^^^^^^"
    `);
  });

  it('every out-of-range argument is reported', () => {
    expect(codes(wrap('mask: random(0, block: 0, seed: 4294967296)'))).toEqual([
      'E400',
      'E400',
      'E400',
    ]);
  });

  it('value_dim is bounded like head_dim', () => {
    expect(codes(wrap('value_dim: 300'))).toEqual(['E400']);
  });
});

describe('E401', () => {
  it('lsh with an odd bucket count', () => {
    expect(diagnose(wrap('mask: lsh(buckets: 7, seed: 3)'))).toMatchInlineSnapshot(`
      "error[E401]: \`lsh\` needs an even number of buckets, found 7
       --> spec.attn:3:22
        |
      3 |   mask: lsh(buckets: 7, seed: 3)
        |                      ^
        = help: a bucket is the argmax of \`[xR, -xR]\`, so buckets come in pairs
        = help: use 6 or 8"
    `);
  });
});

describe('E402', () => {
  it('head_routing keeping more heads than there are', () => {
    expect(diagnose(wrap('head_routing: top(9)'))).toMatchInlineSnapshot(`
      "error[E402]: \`top(9)\` keeps more heads than the attention has (8)
       --> spec.attn:3:21
        |
      2 |   heads: 8; head_dim: 64
        |          - heads set here
      3 |   head_routing: top(9)
        |                     ^
        = help: use a k between 1 and 8"
    `);
  });

  it('counts the heads of every group', () => {
    expect(
      codes(
        'attention a {\n  head_dim: 64\n  head_routing: top(7)\n  group x { heads: 4 }\n  group y { heads: 2 }\n}\n',
      ),
    ).toEqual(['E402']);
  });
});
