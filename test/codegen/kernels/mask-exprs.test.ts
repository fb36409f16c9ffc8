// The mask predicates as kernel IR (src/codegen/kernels/mask-exprs.ts): evaluated here by a
// small interpreter of the expressions, `allowedExpr` must equal the mask's meaning
// (maskAllows) on every element, `classifyTile` must never call a tile with an allowed key
// empty nor one with a masked key full, and `visitRange` must cover every allowed key. The
// kernels' own tests (test/kernels/) run the same expressions on llvmpipe.

import { describe, expect, it } from 'vitest';
import {
  allowedExpr,
  classifyTile,
  visitRange,
  type MaskCodegenContext,
} from '../../../src/codegen/kernels/mask-exprs.js';
import { maskLeaves, type Mask } from '../../../src/ir/ir.js';
import { maskAllows } from '../../../src/ir/mask.js';
import { KernelBuilder, T, block } from '../../../src/kernel/build.js';
import type { Expr } from '../../../src/kernel/ir.js';
import { renderExpr } from '../../../src/kernel/render-wgsl.js';
import { verifyKernel } from '../../../src/kernel/verify.js';
import { PORTABLE_PROFILE } from '../../../src/target/profile.js';

const span = { start: 0, end: 0 };
const band = (lo: number | null, hi: number | null): Mask => ({ kind: 'band', lo, hi, span });
const union = (...terms: Mask[]): Mask => ({ kind: 'union', terms, span });
const intersect = (...terms: Mask[]): Mask => ({ kind: 'intersect', terms, span });
const global = (first: number, positions: number[]): Mask => ({
  kind: 'global',
  first,
  positions,
  span,
});

const MASKS: Readonly<Record<string, Mask>> = {
  all: { kind: 'all', span },
  none: { kind: 'none', span },
  causal: band(null, 0),
  window: band(-5, 3),
  'far window': band(-2147483647, 2147483647),
  dilated: { kind: 'dilated', width: 3, dilation: 2, span },
  stride: { kind: 'stride', step: 3, span },
  global: global(2, [13, 30]),
  'global, no positions': global(1, []),
  sink: { kind: 'sink', count: 4, span },
  blocks: { kind: 'blocks', size: 6, span },
  'window | sink': union(band(-4, 0), { kind: 'sink', count: 3, span }),
  'causal & (window | sink)': intersect(
    band(null, 0),
    union(band(-6, 6), { kind: 'sink', count: 2, span }),
  ),
  'causal & (global | dilated)': intersect(
    band(null, 0),
    union(global(1, [17]), { kind: 'dilated', width: 2, dilation: 3, span }),
  ),
};

type Value = number | boolean;

/** The value of a mask expression at integer positions (no helper calls: no tables). */
function evaluate(e: Expr, env: Readonly<Record<string, number>>): Value {
  const num = (x: Expr) => evaluate(x, env) as number;
  switch (e.kind) {
    case 'literal':
      return e.value;
    case 'ref':
      if (!(e.name in env)) throw new Error(`unbound ${e.name}`);
      return env[e.name]!;
    case 'paren':
      return evaluate(e.inner, env);
    case 'construct':
      return num(e.args[0]!);
    case 'unary':
      return e.op === '!' ? !evaluate(e.operand, env) : -num(e.operand);
    case 'call': {
      const args = e.args.map((a) => evaluate(a, env));
      const n = args as number[];
      if (e.fn === 'min') return Math.min(n[0]!, n[1]!);
      if (e.fn === 'max') return Math.max(n[0]!, n[1]!);
      if (e.fn === 'abs') return Math.abs(n[0]!);
      if (e.fn === 'clamp') return Math.min(Math.max(n[0]!, n[1]!), n[2]!);
      if (e.fn === 'select') return args[2] ? args[1]! : args[0]!;
      throw new Error(`no ${e.fn} here`);
    }
    case 'binary':
      return binary(e.op, evaluate(e.left, env), evaluate(e.right, env));
    default:
      throw new Error(`not a mask expression: ${e.kind}`);
  }
}

function binary(op: string, a: Value, b: Value): Value {
  const [x, y] = [a as number, b as number];
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return Math.trunc(x / y);
    case '%':
      return x % y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
    case '==':
      return x === y;
    case '&&':
      return (a as boolean) && (b as boolean);
    case '||':
      return (a as boolean) || (b as boolean);
    default:
      throw new Error(`no ${op} here`);
  }
}

const context = (mask: Mask): MaskCodegenContext => ({
  rules: maskLeaves(mask).map((leaf) => ({ kind: 'closed-form', primitive: leaf.kind })),
  randomOf: new Map(),
});

describe('mask predicates as kernel IR', () => {
  const seqK = 40;
  const tile = 8;
  for (const [name, mask] of Object.entries(MASKS)) {
    it(`${name}: allowed equals the mask, tile classes and the visit range hold`, () => {
      const allowed = allowedExpr(mask, context(mask));
      const classify = classifyTile(mask, context(mask));
      const visit = visitRange(mask);
      for (let pa = 0; pa < seqK; pa += tile) {
        const pb = pa + tile - 1;
        const tileEnv = { pa, pb, NK: seqK };
        const clamp = (x: Expr) => Math.min(Math.max(evaluate(x, tileEnv) as number, 0), seqK);
        const prefix =
          visit.prefix === null ? 0 : Math.min(evaluate(visit.prefix, tileEnv) as number, seqK);
        const [lo, hi] = [clamp(visit.lo), clamp(visit.hi)];
        for (let ja = 0; ja < seqK; ja += tile) {
          const jb = ja + tile - 1;
          const cls = evaluate(classify, { ...tileEnv, ja, jb });
          for (let p = pa; p <= pb; p++)
            for (let j = ja; j <= jb; j++) {
              const truth = maskAllows(mask, { i: p, p, j, seqK });
              const at = `p ${p}, j ${j}`;
              expect(evaluate(allowed, { p, j }), at).toBe(truth);
              if (cls === 0) expect(truth, `${at} in an empty tile`).toBe(false);
              if (cls === 2) expect(truth, `${at} in a full tile`).toBe(true);
              if (truth) expect(j < prefix || (lo <= j && j < hi), `${at} not visited`).toBe(true);
            }
        }
      }
    });
  }

  it('renders as the text templates wrote it', () => {
    const m = MASKS['causal & (global | dilated)']!;
    expect(renderExpr(allowedExpr(m, context(m)))).toBe(
      '((i32(j) - i32(p) <= 0i) && (((j < 1u || j == 17u) || (p < 1u || p == 17u)) || ' +
        '(abs(i32(p) - i32(j)) <= 6i && (i32(p) - i32(j)) % 3i == 0i)))',
    );
    const v = visitRange(MASKS['window | sink']!);
    expect([v.prefix, v.lo, v.hi].map((e) => renderExpr(e!))).toEqual([
      '3u',
      'min(i32(pa) - 4i, NK)',
      'max(i32(min(pb + 1u, u32(NK))), 0i)',
    ]);
    const b = MASKS.blocks!;
    expect(renderExpr(classifyTile(b, context(b)))).toBe(
      'select(select(1u, 2u, pa / 6u == pb / 6u && ja / 6u == jb / 6u && pa / 6u == ja / 6u), ' +
        '0u, jb / 6u < pa / 6u || ja / 6u > pb / 6u)',
    );
  });

  it('the verifier checks the names a mask expression reads', () => {
    const segment: Mask = { kind: 'segment', span };
    const k = new KernelBuilder(64);
    k.gridIndex('invocation', 'x', null);
    // `allowed` without its segRow parameter: the verifier names the missing reference.
    k.function({
      name: 'allowed',
      params: ['p', 'j', 'b'].map((name) => ({ name, type: T.u32 })),
      returns: T.bool,
      body: block((body) => body.return(allowedExpr(segment, context(segment)))),
    });
    const messages = verifyKernel(k.main(() => {}).build(), PORTABLE_PROFILE.limits).map(
      (problem) => problem.message,
    );
    expect(messages).toContain('fn allowed: `segRow` is used before it is defined');
  });
});
