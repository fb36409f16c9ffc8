// The fuzzer's inputs: a pure function of (seed, index), covering every construct of the
// language and the boundary values, bounded in size, and valid often enough that the
// compiler behind the checker is exercised, not only the parser.

import { describe, expect, it } from 'vitest';
import { fuzzInput } from '../../scripts/fuzz/inputs.js';
import { MAX_MUTATED_LENGTH, MAX_SMALL_LENGTH, mutate } from '../../scripts/fuzz/mutate.js';
import { Rng } from '../../scripts/fuzz/rng.js';
import { checkSource } from '../../src/frontend.js';

const SAMPLE = 3000;
const inputs = Array.from({ length: SAMPLE }, (_, i) => fuzzInput(11, i));

describe('fuzz inputs', () => {
  it('are the same for the same seed and index, and differ across seeds', () => {
    for (const i of [0, 1, 17, 2999, 123456789]) {
      expect(fuzzInput(11, i)).toEqual(fuzzInput(11, i));
    }
    const other = Array.from({ length: 50 }, (_, i) => fuzzInput(12, i).text);
    const same = other.filter((t, i) => t === inputs[i]!.text).length;
    expect(same).toBeLessThan(5);
  });

  it('cover every property, primitive, feature map, low-rank method and head grouping', () => {
    const all = inputs.map((x) => x.text).join('\n');
    const constructs = [
      ...['heads:', 'kv_heads:', 'head_dim:', 'value_dim:', 'causal:', 'scale:', 'mask:'],
      ...['kernel:', 'lowrank:', 'softcap:', 'bias: alibi', 'head_routing: top('],
      ...['max_seq:', 'layout: bnhd', 'layout: bhnd', 'dtype: f16', 'dtype: f32', 'group '],
      ...['full', 'causal', 'window(', 'left:', 'right:', 'dilated(', 'stride(', 'global('],
      ...['first:', 'global([', 'sink(', 'blocks(', 'random(', 'block:', 'seed:', 'segment'],
      ...['topk(', 'cluster(', 'lsh(buckets:', ' | ', ' & ', '(('],
      ...['elu1', 'relu', 'favor(', 'linformer(', 'nystrom(', 'iters:'],
    ];
    for (const construct of constructs) expect(all, construct).toContain(construct);
  });

  it('draw arguments from the boundary values', () => {
    const all = inputs.map((x) => x.text).join('\n');
    for (const value of ['(0)', '2147483647', '2147483648', '9007199254740992', '-1', 'NaN']) {
      expect(all, value).toContain(value);
    }
    // The rare large inputs: names of 1000+ characters, nesting 390+ deep, long unions.
    const many = Array.from({ length: 20_000 }, (_, i) => fuzzInput(11, i).text);
    expect(many.some((t) => /[a-z]{1000}/.test(t))).toBe(true);
    expect(many.some((t) => t.includes('('.repeat(390)))).toBe(true);
    expect(many.some((t) => t.split(' | ').length > 100 || t.split(' & ').length > 100)).toBe(true);
    expect(many.filter((t) => t.length > MAX_SMALL_LENGTH).length).toBeGreaterThan(5);
  });

  it('are mostly small, never over the large bound', () => {
    const lengths = inputs.map((x) => x.text.length);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(MAX_MUTATED_LENGTH);
    const small = lengths.filter((n) => n <= MAX_SMALL_LENGTH).length;
    expect(small / SAMPLE).toBeGreaterThan(0.99);
    expect(lengths.reduce((a, b) => a + b, 0) / SAMPLE).toBeLessThan(1000);
  });

  it('are valid often enough to reach the compiler, and invalid often enough to test checks', () => {
    const sample = inputs.slice(0, 600);
    const valid = sample.filter((x) => {
      try {
        const front = checkSource(x.text);
        return (
          front.diagnostics.every((d) => d.severity !== 'error') && front.attentions.length > 0
        );
      } catch {
        return false; // a front-end bug the fuzzer reports; not this test's concern
      }
    }).length;
    expect(valid / sample.length).toBeGreaterThan(0.25);
    expect(valid / sample.length).toBeLessThan(0.8);
  });

  it('mutations keep to the size limit they are given', () => {
    const rng = new Rng(5, 0);
    const text = 'attention a { heads: 8; head_dim: 64; mask: window(4) | global(0) }';
    for (let i = 0; i < 300; i++) {
      const small = mutate(rng, text, text, { maxMutations: 8, large: false });
      expect(small.text.length).toBeLessThanOrEqual(MAX_SMALL_LENGTH);
      expect(small.applied.length).toBeGreaterThan(0);
      const large = mutate(rng, text, text, { maxMutations: 8, large: true });
      expect(large.text.length).toBeLessThanOrEqual(MAX_MUTATED_LENGTH);
    }
  });
});
