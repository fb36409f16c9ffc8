// Worst-case compile cost: builds one spec file of the given kind just under the CLI's 4 MiB
// limit (LIMIT=bytes to change it), compiles it once, and prints wall time, peak RSS, output
// size and the diagnostics count. One process per kind, so peak RSS is that kind's alone.
// Run: npx tsx bench/compile-bounds.ts manyWindows   (kinds: see `gens` below)
import { compile } from '../src/api/compile.js';
import { checkSource } from '../src/frontend.js';
const LIMIT = Number(process.env.LIMIT ?? 4 * 1024 * 1024 - 1024);
const M = 2147483647;
const kind = process.argv[2]!;
const fill = (one: (i: number) => string) => {
  let text = '';
  for (let i = 0; ; i++) {
    const next = one(i);
    if (text.length + next.length > LIMIT) break;
    text += next;
  }
  return text;
};
const gens: Record<string, () => string> = {
  // many attentions, each with the largest arguments
  manyWindows: () =>
    fill(
      (i) =>
        `attention a${i} { heads: ${M}; head_dim: 256; mask: window(${M}) | dilated(1, ${M}) | global(${M}) | blocks(${M}) }\n`,
    ),
  manyTopk: () =>
    fill(
      (i) =>
        `attention a${i} { heads: 2; head_dim: 256; mask: topk(${M}, block: 1) | cluster(${M}) | lsh(buckets: ${M - 1}) | random(${M}, block: 1) }\n`,
    ),
  manyNystrom: () =>
    fill((i) => `attention a${i} { heads: 2; head_dim: 8; lowrank: nystrom(1024, iters: 100) }\n`),
  manyKvHeads: () => fill((i) => `attention a${i} { heads: ${M}; kv_heads: 2; head_dim: 8 }\n`),
  manyRouting: () =>
    fill((i) => `attention a${i} { heads: 1024; head_dim: 8; head_routing: top(1024) }\n`),
  manyFavor: () =>
    fill((i) => `attention a${i} { heads: 2; head_dim: 256; kernel: favor(16384) }\n`),
  // one attention with a huge mask expression
  hugeUnion: () =>
    `attention a { heads: 1; head_dim: 8; mask: ${fill((i) => `window(${i}) | `)}full }\n`,
  hugeGlobal: () =>
    `attention a { heads: 1; head_dim: 8; mask: global(${fill((i) => `${i}, `)}1) }\n`,
  hugeIntersect: () =>
    `attention a { heads: 1; head_dim: 8; mask: ${fill((i) => `window(${i}) & `)}full }\n`,
  deepParens: () => {
    const n = 200000;
    return `attention a { heads: 1; head_dim: 8; mask: ${'('.repeat(n)}full${')'.repeat(n)} }\n`;
  },
  manyGroups: () =>
    `attention a { head_dim: 8; ${fill((i) => `group g${i} { heads: 1; mask: window(${i}) } `)} }\n`,
  manyGroupsMixed: () =>
    `attention a { head_dim: 8; ${fill((i) => `group g${i} { heads: 1; ${['kernel: elu1', 'mask: topk(3)', 'lowrank: nystrom(4)', 'mask: cluster(4)'][i % 4]} } `)} }\n`,
};
const gen = gens[kind];
if (!gen) throw new Error(`kind must be one of: ${Object.keys(gens).join(', ')}`);
const text = gen();
const f0 = performance.now();
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const c0 = cpuMs();
// FRONT_END=1: time parse + check alone first (then peak RSS covers both runs). Its CPU time
// (all threads, GC included) is also reported: on a shared machine wall time says little.
const frontEndMs = process.env.FRONT_END
  ? Math.round((checkSource(text, 'spec.attn'), performance.now() - f0))
  : undefined;
const frontEndCpuMs = process.env.FRONT_END ? Math.round(cpuMs() - c0) : undefined;
const t0 = performance.now();
let peak = process.memoryUsage().rss;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);
const r = compile(text);
const ms = performance.now() - t0;
peak = Math.max(peak, process.memoryUsage().rss);
clearInterval(timer);
let wgsl = 0;
for (const m of r.modules) for (const k of m.plan.kernels) wgsl += k.wgsl.length;
console.log(
  JSON.stringify({
    kind,
    bytes: text.length,
    ms: Math.round(ms),
    frontEndMs,
    frontEndCpuMs,
    peakRssMB: Math.round(peak / 1e6),
    modules: r.modules.length,
    wgslMB: +(wgsl / 1e6).toFixed(1),
    diagnostics: r.diagnostics.length,
    first: r.diagnostics[0]?.code,
  }),
);
