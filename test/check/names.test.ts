// E2xx: unknown, duplicate and misplaced names, each as the user sees it.

import { describe, expect, it } from 'vitest';
import { diagnose } from './helpers.js';

describe('unknown names', () => {
  it('E200: unknown property, with a did-you-mean', () => {
    expect(diagnose('attention a {\n  haeds: 8\n  head_dim: 64\n}\n')).toMatchInlineSnapshot(`
      "error[E200]: unknown property \`haeds\`
       --> spec.attn:2:3
        |
      2 |   haeds: 8
        |   ^^^^^
        = help: did you mean \`heads\`?"
    `);
  });

  it('E200: a mask primitive used as a property points at `mask:`', () => {
    expect(diagnose('attention a {\n  heads: 8; head_dim: 64\n  window: 4\n}\n'))
      .toMatchInlineSnapshot(`
      "error[E200]: unknown property \`window\`
       --> spec.attn:3:3
        |
      3 |   window: 4
        |   ^^^^^^
        = help: \`window\` is a mask primitive; write \`mask: window(...)\`"
    `);
  });

  it('E201: unknown mask primitive', () => {
    expect(diagnose('attention a {\n  heads: 8; head_dim: 64\n  mask: windw(4) | sink(1)\n}\n'))
      .toMatchInlineSnapshot(`
      "error[E201]: unknown mask primitive \`windw\`
       --> spec.attn:3:9
        |
      3 |   mask: windw(4) | sink(1)
        |         ^^^^^
        = help: did you mean \`window\`?"
    `);
  });

  it('E202: unknown feature map', () => {
    expect(diagnose('attention a {\n  heads: 8; head_dim: 64\n  kernel: elu\n}\n'))
      .toMatchInlineSnapshot(`
      "error[E202]: unknown feature map \`elu\`
       --> spec.attn:3:11
        |
      3 |   kernel: elu
        |           ^^^
        = help: did you mean \`elu1\`?"
    `);
  });

  it('E202: a mask primitive as a kernel points at `mask:`', () => {
    expect(diagnose('attention a {\n  heads: 8; head_dim: 64\n  kernel: window(4)\n}\n'))
      .toMatchInlineSnapshot(`
      "error[E202]: unknown feature map \`window\`
       --> spec.attn:3:11
        |
      3 |   kernel: window(4)
        |           ^^^^^^
        = help: \`window\` is a mask primitive; write \`mask: window(...)\`"
    `);
  });

  it('E203: unknown low-rank method', () => {
    expect(diagnose('attention a {\n  heads: 8; head_dim: 64\n  lowrank: nystroem(16)\n}\n'))
      .toMatchInlineSnapshot(`
      "error[E203]: unknown low-rank method \`nystroem\`
       --> spec.attn:3:12
        |
      3 |   lowrank: nystroem(16)
        |            ^^^^^^^^
        = help: did you mean \`nystrom\`?"
    `);
  });

  it('E204: unknown argument name', () => {
    expect(diagnose('attention a {\n  heads: 8; head_dim: 64\n  mask: random(2, blok: 32)\n}\n'))
      .toMatchInlineSnapshot(`
      "error[E204]: unknown argument \`blok\` for \`random\`
       --> spec.attn:3:19
        |
      3 |   mask: random(2, blok: 32)
        |                   ^^^^
        = help: did you mean \`block\`?"
    `);
  });

  it('E204: an unknown argument name with no close match lists the real ones', () => {
    expect(diagnose('attention a {\n  heads: 8; head_dim: 64\n  mask: sink(n: 4)\n}\n'))
      .toMatchInlineSnapshot(`
      "error[E204]: unknown argument \`n\` for \`sink\`
       --> spec.attn:3:14
        |
      3 |   mask: sink(n: 4)
        |              ^
        = help: \`sink\` takes \`count\`"
    `);
  });

  it('E209: unknown enum value', () => {
    expect(diagnose('attention a {\n  heads: 8; head_dim: 64\n  layout: bhdn\n}\n'))
      .toMatchInlineSnapshot(`
      "error[E209]: unknown value \`bhdn\` for \`layout\`
       --> spec.attn:3:11
        |
      3 |   layout: bhdn
        |           ^^^^
        = help: did you mean \`bhnd\`?"
    `);
  });

  it('E209: unknown value for scale, bias and head_routing', () => {
    expect(
      diagnose(
        'attention a {\n  heads: 8; head_dim: 64\n  scale: atuo\n  bias: alibi2\n  head_routing: topk(2)\n}\n',
      ),
    ).toMatchInlineSnapshot(`
      "error[E209]: unknown value \`atuo\` for \`scale\`
       --> spec.attn:3:10
        |
      3 |   scale: atuo
        |          ^^^^
        = help: did you mean \`auto\`?

      error[E209]: unknown bias \`alibi2\`
       --> spec.attn:4:9
        |
      4 |   bias: alibi2
        |         ^^^^^^
        = help: did you mean \`alibi\`?

      error[E209]: unknown head routing \`topk\`
       --> spec.attn:5:17
        |
      5 |   head_routing: topk(2)
        |                 ^^^^
        = help: did you mean \`top\`?"
    `);
  });
});

describe('duplicates', () => {
  it('E205: duplicate property, pointing at the first one', () => {
    expect(diagnose('attention a {\n  heads: 8\n  head_dim: 64\n  heads: 4\n}\n'))
      .toMatchInlineSnapshot(`
      "error[E205]: property \`heads\` is set twice
       --> spec.attn:4:3
        |
      2 |   heads: 8
        |   ----- first set here
      ...
      4 |   heads: 4
        |   ^^^^^
        = help: remove one of them"
    `);
  });

  it('E206: duplicate attention name', () => {
    expect(
      diagnose('attention a { heads: 8; head_dim: 64 }\nattention a { heads: 4; head_dim: 32 }\n'),
    ).toMatchInlineSnapshot(`
      "error[E206]: attention \`a\` is declared twice
       --> spec.attn:2:11
        |
      1 | attention a { heads: 8; head_dim: 64 }
        |           - first declared here
      2 | attention a { heads: 4; head_dim: 32 }
        |           ^
        = help: rename one of them"
    `);
  });

  it('E207: duplicate group name', () => {
    expect(
      diagnose(
        'attention a {\n  head_dim: 64\n  group g { heads: 4 }\n  group g { heads: 2 }\n}\n',
      ),
    ).toMatchInlineSnapshot(`
      "error[E207]: group \`g\` is declared twice in \`a\`
       --> spec.attn:4:9
        |
      3 |   group g { heads: 4 }
        |         - first declared here
      4 |   group g { heads: 2 }
        |         ^
        = help: rename one of them"
    `);
  });

  it('E208: duplicate named argument', () => {
    expect(
      diagnose('attention a {\n  heads: 8; head_dim: 64\n  mask: random(2, seed: 1, seed: 2)\n}\n'),
    ).toMatchInlineSnapshot(`
      "error[E208]: argument \`seed\` of \`random\` is given twice
       --> spec.attn:3:28
        |
      3 |   mask: random(2, seed: 1, seed: 2)
        |                            ^^^^
        |                   ---- first given here
        = help: remove one of them"
    `);
  });
});

describe('placement', () => {
  it('E210: a tensor-wide property in a group', () => {
    expect(diagnose('attention a {\n  head_dim: 64\n  group g { heads: 4; head_dim: 32 }\n}\n'))
      .toMatchInlineSnapshot(`
      "error[E210]: \`head_dim\` cannot be set in a group
       --> spec.attn:3:23
        |
      3 |   group g { heads: 4; head_dim: 32 }
        |                       ^^^^^^^^
        = help: all groups share the tensors q, k, v and o, and this property fixes their shape or type
        = help: set it on \`attention a\` instead"
    `);
  });

  it('E210: head_routing in a group says why', () => {
    expect(
      diagnose('attention a {\n  head_dim: 64\n  group g { heads: 4; head_routing: top(2) }\n}\n'),
    ).toMatchInlineSnapshot(`
      "error[E210]: \`head_routing\` cannot be set in a group
       --> spec.attn:3:23
        |
      3 |   group g { heads: 4; head_routing: top(2) }
        |                       ^^^^^^^^^^^^
        = help: head routing chooses among all heads of the attention at once
        = help: set it on \`attention a\` instead"
    `);
  });
});
