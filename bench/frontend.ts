// Front-end speed: parse + check a generated 10,000-line spec built from the examples
// (each copy renamed so names stay unique). Prints the median of several runs.
// Run: npm run bench:frontend [-- --lines 10000 --runs 15]

import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkSource } from '../src/frontend.js';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '15' },
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
