// Grouping failures into distinct bugs: the same bug found through different specs gets one
// signature, different bugs get different ones.

import { describe, expect, it } from 'vitest';
import { signature } from '../../scripts/fuzz/report.js';

const at = (frames: string[]) => ['RangeError: x', ...frames.map((f) => `    at ${f}`)].join('\n');

describe('failure signatures', () => {
  it('blank numbers and quoted names, so one bug found twice is one group', () => {
    const a = signature({ index: 1, kind: 'exception', ms: 1, message: 'Error: bad `a0` 12' });
    const b = signature({ index: 2, kind: 'exception', ms: 1, message: 'Error: bad `zz` 7' });
    expect(a).toBe(b);
    expect(a).toBe('exception: Error: bad `_` N');
  });

  it("name an exception's innermost frame in src/, skipping dependencies", () => {
    const stack = at([
      'walk (/x/node_modules/chevrotain/src/parse/rest.ts:139:32)',
      'SpecParser.maskAtom (/repo/src/syntax/parser.ts:138:10)',
      'parseSpec (/repo/src/syntax/parse.ts:36:9)',
    ]);
    expect(
      signature({ index: 1, kind: 'exception', ms: 1, message: 'RangeError: x', detail: stack }),
    ).toBe('exception: RangeError: x @ SpecParser.maskAtom (src/syntax/parser.ts)');
    const elsewhere = at(['lowerMask (/repo/src/lower/lower.ts:10:1)']);
    expect(
      signature({
        index: 1,
        kind: 'exception',
        ms: 1,
        message: 'RangeError: x',
        detail: elsewhere,
      }),
    ).not.toBe(
      signature({ index: 1, kind: 'exception', ms: 1, message: 'RangeError: x', detail: stack }),
    );
  });

  it('treat one invalid kernel the same whatever the attention and profile', () => {
    const a = signature({
      index: 1,
      kind: 'invalid-wgsl',
      ms: 1,
      message:
        "kernel a0.a0.linear_states (llvmpipe) is not valid WGSL: 10:19: value cannot be represented as 'u32'",
    });
    const b = signature({
      index: 2,
      kind: 'invalid-wgsl',
      ms: 1,
      message:
        "kernel x.g1.linear_states (core-f16) is not valid WGSL: 10:19: value cannot be represented as 'u32'",
    });
    expect(a).toBe(b);
    const c = signature({
      index: 3,
      kind: 'invalid-wgsl',
      ms: 1,
      message:
        "kernel x.x.softmax (portable) is not valid WGSL: 90:36: value cannot be represented as 'i32'",
    });
    expect(c).not.toBe(a);
  });
});
