// The renderer: a whole small kernel rendered exactly (enable directive from the IR's f16,
// params struct, bindings, workgroup memory, helpers, grid decoding and body), parentheses
// from precedence, and the migrated kernels byte-identical to the checked-in generated/.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  add,
  and,
  binary,
  block,
  call,
  construct,
  div,
  f32,
  f32Scientific,
  index,
  int,
  KernelBuilder,
  lt,
  member,
  mul,
  neg,
  or,
  paren,
  sub,
  T,
  u32,
  workgroupUniformLoad,
} from '../../src/kernel/build.js';
import { kernelFeatures } from '../../src/kernel/features.js';
import { renderExpr, renderKernel, renderStatements } from '../../src/kernel/render-wgsl.js';
import { compile } from '../../src/api/compile.js';

describe('WGSL renderer', () => {
  it('renders a whole kernel', () => {
    const k = new KernelBuilder(64);
    k.header('attnc test kernel');
    const N = k.const('N', T.u32, u32(4), ['four at a time']);
    k.uniform('total', 'batch');
    k.uniform('base', 0);
    k.storage(1, 'src', 'read', T.vec(4, 'f16'));
    k.storage(2, 'dst', 'read_write', T.f32);
    k.workgroupVar('tile', T.array(T.f32, N), ['staged values']);
    k.function({
      name: 'twice',
      params: [{ name: 'v', type: T.f32 }],
      returns: T.f32,
      body: block((b) => b.return(mul('v', f32(2)))),
    });
    const x = k.gridIndex('workgroup', 'w', 'total');
    k.main((b) => {
      const h = b.let('h', construct(T.vec(4, 'f32'), index('src', x)));
      b.if(lt('lid', N), (t) => t.assign(index('tile', 'lid'), member(h, 'x')), undefined, {
        oneLine: true,
      });
      b.barrier();
      b.store('dst', add(x, 'lid'), call('twice', index('tile', 'lid')));
    });
    expect(renderKernel(k.build())).toBe(`enable f16;

// attnc test kernel
// four at a time
const N: u32 = 4u;

struct Params {
  total: u32,
  base: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

// staged values
var<workgroup> tile: array<f32, N>;

fn twice(v: f32) -> f32 {
  return v * 2.0;
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= P.total) { return; }
  let h = vec4<f32>(src[w]);
  if (lid < N) { tile[lid] = h.x; }
  workgroupBarrier();
  dst[w + lid] = twice(tile[lid]);
}
`);
  });

  it('writes parentheses where precedence needs them and where the IR asks', () => {
    expect(renderExpr(mul(add('a', 'b'), 'c'))).toBe('(a + b) * c');
    expect(renderExpr(add('a', mul('b', 'c')))).toBe('a + b * c');
    expect(renderExpr(sub('a', sub('b', 'c')))).toBe('a - (b - c)');
    expect(renderExpr(sub(sub('a', 'b'), 'c'))).toBe('a - b - c');
    expect(renderExpr(mul(paren(div('x', 'S')), 'n'))).toBe('(x / S) * n');
    expect(renderExpr(or(and('a', 'b'), 'c'))).toBe('(a && b) || c');
    expect(renderExpr(binary('&', binary('|', 'a', 'b'), 'c'))).toBe('(a | b) & c');
    // WGSL's grammar wants unary operands for shifts and a bitwise operator's right side, and
    // a bitwise chain only of its own operator: tighter-binding children are parenthesized too.
    expect(renderExpr(binary('>>', add('a', 'b'), 'c'))).toBe('(a + b) >> c');
    expect(renderExpr(binary('<<', 'a', mul('b', 'c')))).toBe('a << (b * c)');
    expect(renderExpr(binary('<<', binary('<<', 'a', 'b'), 'c'))).toBe('(a << b) << c');
    expect(renderExpr(binary('&', add('a', 'b'), 'c'))).toBe('(a + b) & c');
    expect(renderExpr(binary('|', 'x', binary('<<', 'y', u32(16))))).toBe('x | (y << 16u)');
    expect(renderExpr(binary('&', binary('&', 'a', 'b'), 'c'))).toBe('a & b & c');
    expect(renderExpr(binary('&', 'a', binary('&', 'b', 'c')))).toBe('a & (b & c)');
    expect(renderExpr(and(binary('&', 'a', 'b'), 'c'))).toBe('(a & b) && c');
    expect(renderExpr(lt(binary('>>', 'a', 'b'), 'c'))).toBe('a >> b < c');
    expect(renderExpr(binary('&', 'e', u32(1)))).toBe('e & 1u');
    expect(renderExpr(neg(add('a', 'b')))).toBe('-(a + b)');
    expect(renderExpr(member(add('a', 'b'), 'x'))).toBe('(a + b).x');
    expect(renderExpr(index('t', add('i', u32(1))))).toBe('t[i + 1u]');
    expect(renderExpr(f32(0.1))).toBe('0.1');
    expect(renderExpr(f32(100))).toBe('1e+2');
    expect(renderExpr(f32Scientific(-3e38))).toBe('-3.0e38');
    expect(renderExpr(f32Scientific(1.5e-7))).toBe('1.5e-7');
    expect(renderExpr(f32Scientific(100))).toBe('1.0e2');
    // Shortest digits that give back the same f32, as plain f32 literals.
    expect(renderExpr(f32Scientific(Math.LN2))).toBe('6.931472e-1');
  });

  it('renders else-if chains, multi-line loops and one-line loops', () => {
    const stmts = block((b) => {
      b.if(
        lt('a', u32(1)),
        (t) => t.assign('r', u32(1)),
        (e) => e.assign('r', u32(2)),
      );
      b.for(
        'i',
        u32(0),
        (i) => lt(i, u32(3)),
        (body, i) => body.compound('r', '+=', i),
        {
          oneLine: true,
        },
      );
      b.loop((body) => {
        body.if(lt('r', u32(9)), (t) => t.break(), undefined, { oneLine: true });
        body.increment('r');
      });
    });
    expect(renderStatements(stmts, 1).join('\n')).toBe(
      [
        '  if (a < 1u) {',
        '    r = 1u;',
        '  } else {',
        '    r = 2u;',
        '  }',
        '  for (var i = 0u; i < 3u; i++) { r += i; }',
        '  loop {',
        '    if (r < 9u) { break; }',
        '    r++;',
        '  }',
      ].join('\n'),
    );
    const chain = [
      {
        kind: 'if' as const,
        cond: lt('a', u32(1)),
        then: block((t) => t.break()),
        else: {
          kind: 'if' as const,
          cond: lt('a', u32(2)),
          then: block((t) => t.continue()),
          else: block((t) => t.return()),
        },
      },
    ];
    expect(renderStatements(chain, 0)).toEqual([
      'if (a < 1u) {',
      '  break;',
      '} else if (a < 2u) {',
      '  continue;',
      '} else {',
      '  return;',
      '}',
    ]);
  });

  it('renders stepped loops and one-line helper functions', () => {
    const stmts = block((b) =>
      b.for(
        'j',
        'j0',
        (j) => lt(j, 'j1'),
        (body, j) => body.compound('s', '+=', j),
        {
          step: 'C',
        },
      ),
    );
    expect(renderStatements(stmts, 0)).toEqual([
      'for (var j = j0; j < j1; j += C) {',
      '  s += j;',
      '}',
    ]);
    const down = block((b) => {
      b.for(
        'x',
        u32(2),
        (x) => binary('>', x, 'pos'),
        (body, x) => body.compound('s', '+=', x),
        {
          down: true,
          oneLine: true,
        },
      );
      b.decrement('pos');
    });
    expect(renderStatements(down, 0)).toEqual([
      'for (var x = 2u; x > pos; x--) { s += x; }',
      'pos--;',
    ]);
    const k = new KernelBuilder(64);
    k.storage(1, 'buf', 'read', T.f32);
    k.function({
      name: 'ld',
      params: [{ name: 'e', type: T.u32 }],
      returns: T.f32,
      oneLine: true,
      body: block((b) => b.return(index('buf', 'e'))),
    });
    k.gridIndex('invocation', 'x', null);
    expect(renderKernel(k.main(() => {}).build())).toContain(
      '\nfn ld(e: u32) -> f32 { return buf[e]; }\n',
    );
  });

  it('derives features from the IR: f16 types and literals, subgroup builtins', () => {
    const k = (body: Parameters<KernelBuilder['main']>[0]) => {
      const b = new KernelBuilder(64);
      b.gridIndex('invocation', 'x', null);
      return b.main(body).build();
    };
    expect(kernelFeatures(k((b) => b.let('y', f32(1))))).toEqual([]);
    expect(kernelFeatures(k((b) => b.var('h', undefined, T.vec(4, 'f16'))))).toEqual([
      'shader-f16',
    ]);
    expect(kernelFeatures(k((b) => b.let('s', call('subgroupAdd', f32(1)))))).toEqual([
      'subgroups',
    ]);
    const both = k((b) => b.let('s', call('subgroupMax', construct(T.f16, f32(1)))));
    expect(kernelFeatures(both)).toEqual(['shader-f16', 'subgroups']);
    expect(renderKernel(both).startsWith('enable f16;\nenable subgroups;\n\n')).toBe(true);
  });

  it('renders the migrated kernels byte-identical to generated/', () => {
    const cases: [string, string][] = [
      ['document_mask', 'document_mask.segment_ranges'],
      ['performer', 'performer.linear_scan'],
      ['linear_transformer', 'linear_transformer.linear_scan'],
      // The fused softmax kernel: tiled with segment tables, random leaves, head routing.
      ['document_mask', 'document_mask.softmax'],
      ['bigbird', 'bigbird.softmax'],
      ['alibi_softcap', 'alibi_softcap.softmax'],
      ['mixture_of_heads', 'mixture_of_heads.softmax'],
      // The split-K decode kernels and the routed softmax kernel (topk, lsh, cluster).
      ['gqa', 'gqa.decode_partial'],
      ['gqa', 'gqa.decode_merge'],
      ['moba', 'moba.softmax'],
      ['reformer', 'reformer.softmax'],
      ['routing_transformer', 'routing_transformer.softmax'],
    ];
    for (const [example, kernel] of cases) {
      const path = new URL(`../../examples/${example}.attn`, import.meta.url);
      const result = compile(readFileSync(path, 'utf8'), { target: 'portable' });
      const plan = result.modules[0]!.plan.kernels.find((k) => k.name === kernel)!;
      const ir = result.modules[0]!.kernels.find((k) => k.name === kernel)!.ir;
      expect(ir).not.toBeNull();
      const expected = new URL(`../../generated/${example}/${kernel}.wgsl`, import.meta.url);
      expect(renderKernel(ir!)).toBe(readFileSync(expected, 'utf8'));
      expect(plan.wgsl).toBe(readFileSync(expected, 'utf8'));
    }
  });

  it('keeps the formatting hints: same-line statements, one-line if/else, blank lines, bare ints', () => {
    const stmts = block((b) => {
      b.let('a', u32(1));
      b.let('c', u32(2));
      b.sameLine();
      b.for(
        't',
        u32(0),
        (t) => lt(t, 'a'),
        (body) =>
          body.if(
            lt('t', 'c'),
            (r) => r.return(),
            (e) => e.assign('c', 't'),
            { oneLine: true },
          ),
        { oneLine: true },
      );
      b.let('x', workgroupUniformLoad('wg'));
    });
    expect(renderStatements(stmts, 1)).toEqual([
      '  let a = 1u; let c = 2u;',
      '  for (var t = 0u; t < a; t++) { if (t < c) { return; } else { c = t; } }',
      '  let x = workgroupUniformLoad(&wg);',
    ]);
    expect(() => block((b) => b.sameLine())).toThrow(/sameLine/);
    const k = new KernelBuilder(8);
    k.uniform('total', 'batch');
    k.workgroupVar('tile', T.array(T.f32, int(256)));
    k.workgroupVar('slot', T.u32, undefined, { blankBefore: 1 });
    const fn = { name: 'one', params: [], returns: T.u32, body: block((b) => b.return(u32(1))) };
    k.function({ ...fn, blankBefore: 1 })
      .function(fn)
      .function({ ...fn, name: 'two', blankBefore: 1 });
    k.gridIndex('workgroup', 'w', 'total');
    const wgsl = renderKernel(k.main(() => {}).build());
    expect(wgsl).toContain(
      'var<workgroup> tile: array<f32, 256>;\n\nvar<workgroup> slot: u32;\n\n\nfn one() -> u32 {\n  return 1u;\n}\nfn one() -> u32 {\n  return 1u;\n}\n\nfn two()',
    );
  });
});
