// Front-end speed: parse + check a generated 10,000-line spec built from the examples
// (each copy renamed so names stay unique). Prints the median of several runs, then one run of
// each hostile case just under the CLI's 4 MiB limit (issue 8: every spec checks in near-linear
// time and bounded memory) with its time and heap growth.
// Run: npm run bench:frontend [-- --lines 10000 --runs 15 --hostile false]

import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkSource } from '../src/frontend.js';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '15' },
    hostile: { type: 'string', default: 'true' },
  },
});
const targetLines = Number(values.lines);
const runs = Number(values.runs);

const examples = new URL('../examples/', import.meta.url);
const texts = readdirSync(examples)
  .filter((f) => f.endsWith('.attn'))
  .sort()
  .map((f) => readFileSync(new URL(f, examples), 'utf8'));

export function generateSpec(lines: number): string {
  const parts: string[] = [];
  let count = 0;
  for (let copy = 0; count < lines; copy++) {
    const text = texts[copy % texts.length]!.replace(/attention (\w+)/g, `attention $1_${copy}`);
    parts.push(text);
    count += text.split('\n').length;
  }
  return parts.join('\n');
}

const spec = generateSpec(targetLines);
const lineCount = spec.split('\n').length;
const times: number[] = [];
let attentions = 0;
let diagnostics = 0;
for (let i = 0; i < runs + 2; i++) {
  const start = performance.now();
  const result = checkSource(spec, 'bench.attn');
  const elapsed = performance.now() - start;
  if (i >= 2) times.push(elapsed); // the first runs warm up the JIT
  attentions = result.attentions.length;
  diagnostics = result.diagnostics.length;
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(
  `front end: ${lineCount} lines, ${(spec.length / 1024).toFixed(0)} KiB, ${attentions} attentions, ` +
    `${diagnostics} diagnostics`,
);
console.log(
  `parse + check: median ${median.toFixed(1)} ms over ${runs} runs ` +
    `(min ${times[0]!.toFixed(1)} ms, max ${times[times.length - 1]!.toFixed(1)} ms), ` +
    `${((lineCount / median) * 1000).toFixed(0)} lines/s`,
);

/** Hostile specs, each just under MAX_SPEC_BYTES: what a fuzzer or an attacker would send. */
function hostileCases(): [string, string][] {
  const limit = 4 * 1024 * 1024 - 1024;
  const fill = (head: string, unit: (i: number) => string, tail: string) => {
    const parts = [head];
    let size = head.length + tail.length;
    for (let i = 0; ; i++) {
      const next = unit(i);
      if (size + next.length > limit) break;
      parts.push(next);
      size += next.length;
    }
    parts.push(tail);
    return parts.join('');
  };
  const open = 'attention a {\n  heads: 1\n  head_dim: 8\n';
  return [
    ['many small attentions', fill('', (i) => `attention a${i} { heads: 1; head_dim: 8 }\n`, '')],
    ['one long union', fill(`${open}  mask: causal`, (i) => ` | window(${(i % 50) + 1})`, '\n}\n')],
    ['one long list', fill(`${open}  mask: global([0`, (i) => `, ${i + 1}`, '])\n}\n')],
    ['unknown properties', fill(open, (i) => `  haeds${i % 10}: 1\n`, '}\n')],
    ['duplicate properties', fill(open, () => '  causal: true\n', '}\n')],
    ['deep parentheses', fill(`${open}  mask: `, () => '(', '\n}\n')],
    ['long unknown name', fill(`${open}  `, () => 'x', ': 1\n}\n')],
    ['unexpected characters', fill(open, () => '@ ', '}\n')],
    // Every declaration broken: past the first hundred they are skipped, not recovered.
    ['broken declarations', fill('', (i) => `attention a${i} { heads 4; head_dim: 8 }\n`, '')],
    ['malformed numbers', fill('', (i) => `attention a${i} { heads: 4x; head_dim: 8 }\n`, '')],
  ];
}

if (values.hostile !== 'false') {
  console.log('\nhostile specs (one run each):');
  for (const [name, text] of hostileCases()) {
    const heapBefore = process.memoryUsage().heapUsed;
    const start = performance.now();
    const cpuBefore = process.cpuUsage();
    const result = checkSource(text, 'hostile.attn');
    const elapsed = performance.now() - start;
    const cpu = process.cpuUsage(cpuBefore);
    const heap = (process.memoryUsage().heapUsed - heapBefore) / (1024 * 1024);
    const lines = text.split('\n').length;
    console.log(
      `  ${name.padEnd(22)} ${(text.length / (1024 * 1024)).toFixed(2)} MiB, ${String(lines).padStart(7)} lines: ` +
        `${elapsed.toFixed(0).padStart(6)} ms (CPU ${((cpu.user + cpu.system) / 1000).toFixed(0).padStart(5)} ms), heap +${heap.toFixed(0)} MiB, ${result.diagnostics.length} diagnostics`,
    );
  }
}
