// The stderr filter for Dawn's native "artificially reduced" warnings: it drops exactly those
// two lines, wherever chunk boundaries fall, and passes everything else through unchanged.

import { describe, expect, it } from 'vitest';
import { DAWN_LIMIT_WARNING, lineFilter } from '../../src/cli/dawn-log-filter.js';

const WARNINGS = [
  'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 90 to 16 to fit dynamic offset allocation limit.',
  'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 80 to 16 to fit dynamic offset allocation limit.',
];

function filtered(chunks: readonly string[]): string {
  let out = '';
  const filter = lineFilter((t) => (out += t), DAWN_LIMIT_WARNING);
  for (const chunk of chunks) filter.push(chunk);
  filter.end();
  return out;
}

describe('lineFilter with DAWN_LIMIT_WARNING', () => {
  const kept = 'error[E201]: unknown field `haeds`\n --> a.attn:2:3\n';
  const text = `${WARNINGS[0]}\n${kept}${WARNINGS[1]}\nlast line without newline`;

  it('drops the two warnings and keeps the rest byte for byte', () => {
    expect(filtered([text])).toBe(`${kept}last line without newline`);
  });

  it('gives the same result for every split of the stream into two chunks', () => {
    for (let cut = 0; cut <= text.length; cut++) {
      expect(filtered([text.slice(0, cut), text.slice(cut)])).toBe(
        `${kept}last line without newline`,
      );
    }
  });

  it('keeps other Dawn warnings and lines that only mention the words', () => {
    const other = 'Warning: some other Dawn message.\nnote: artificially reduced from 90 to 16\n';
    expect(filtered([other])).toBe(other);
  });
});
