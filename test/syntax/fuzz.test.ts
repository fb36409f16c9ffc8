// Property tests: whatever text comes in, the front end returns diagnostics or an AST; it
// never throws and never hangs. Inputs are random token soups and mutations of the examples.

import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSource } from '../../src/frontend.js';

const examples = new URL('../../examples/', import.meta.url);
const exampleTexts = readdirSync(examples)
  .filter((f) => f.endsWith('.attn'))
  .sort()
  .map((f) => readFileSync(new URL(f, examples), 'utf8'));

const FRAGMENTS = [
  'attention',
  'group',
  'heads',
  'kv_heads',
  'head_dim',
  'mask',
  'kernel',
  'lowrank',
  'causal',
  'window',
  'global',
  'first',
  'left',
  'right',
  'topk',
  'block',
  'lsh',
  'buckets',
  'favor',
  'linformer',
  'nystrom',
  'true',
  'false',
  '0',
  '1',
  '64',
  '-3',
  '2.5',
  '1e-6',
  '1e',
  '7x',
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  ';',
  ',',
  '|',
  '&',
  '\n',
  ' ',
  '#c\n',
  '//c\n',
  '@',
  '"',
  '\t',
  'é',
  '\u0000',
  'x',
];

/** Text of tokens that often almost parse, which reaches deep into the parser's recovery. */
const tokenSoup = fc
  .array(fc.constantFrom(...FRAGMENTS), { maxLength: 120 })
  .map((parts) => parts.join(' '));

type Edit = { at: number; remove: number; insert: string };
const mutatedExample = fc
  .tuple(
    fc.nat({ max: exampleTexts.length - 1 }),
    fc.array(
      fc.record({
        at: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x),
        remove: fc.nat({ max: 6 }),
        insert: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 4 })),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  )
  .map(([index, edits]) => {
    let text = exampleTexts[index]!;
    for (const edit of edits as (Omit<Edit, 'at'> & { at: number })[]) {
      const at = Math.floor(edit.at * text.length);
      text = text.slice(0, at) + edit.insert + text.slice(at + edit.remove);
    }
    return text;
  });

function frontEndTerminates(text: string): void {
  const started = performance.now();
  const result = checkSource(text, 'fuzz.attn');
  const elapsed = performance.now() - started;
  // Generous bound: these inputs are at most a few KB and normally take well under 10 ms.
  expect(elapsed).toBeLessThan(2000);
  expect(Array.isArray(result.diagnostics)).toBe(true);
  expect(result.ast.kind).toBe('file');
  for (const d of result.diagnostics) {
    expect(d.primary.span.start).toBeGreaterThanOrEqual(0);
    expect(d.primary.span.end).toBeLessThanOrEqual(text.length);
    expect(d.primary.span.start).toBeLessThanOrEqual(d.primary.span.end);
    expect(d.message.length).toBeGreaterThan(0);
  }
  // A file with no diagnostics at all must have checked into attentions (nothing lost silently).
  if (result.diagnostics.length === 0) {
    expect(result.attentions.length).toBe(result.ast.attentions.length);
  }
}

describe('front end on arbitrary text', () => {
  it('never throws on random token soups', () => {
    fc.assert(fc.property(tokenSoup, frontEndTerminates), { numRuns: 400 });
  });

  it('never throws on mutated examples', () => {
    fc.assert(fc.property(mutatedExample, frontEndTerminates), { numRuns: 400 });
  });

  it('never throws on arbitrary unicode strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), frontEndTerminates), {
      numRuns: 300,
    });
  });
});
