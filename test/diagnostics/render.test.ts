// The renderer on hostile input: a megabyte-long line or name is shown as a readable window.

import { describe, expect, it } from 'vitest';
import { renderDiagnostic } from '../../src/diagnostics/render.js';
import { SourceText } from '../../src/diagnostics/source.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';

function error(start: number, end: number, message = 'bad'): Diagnostic {
  return { code: 'E200', severity: 'error', message, primary: { span: { start, end } } };
}

describe('long lines', () => {
  it('shows a window around the label, with the carets under it', () => {
    const text = 'a'.repeat(1000) + 'BAD' + 'b'.repeat(1000);
    const rendered = renderDiagnostic(error(1000, 1003), new SourceText('s.attn', text));
    const [, , , source, carets] = rendered.split('\n');
    expect(source!.length).toBeLessThan(200);
    expect(source).toMatch(/^1 \| \.\.\.a+BADb+\.\.\.$/);
    expect(source!.indexOf('BAD')).toBe(carets!.indexOf('^'));
    expect(carets!.trimEnd().endsWith('^^^')).toBe(true);
  });

  it('stops a long span at the end of what is shown', () => {
    const text = 'x'.repeat(100_000);
    const rendered = renderDiagnostic(error(0, 100_000), new SourceText('s.attn', text));
    const carets = rendered.split('\n')[4]!;
    expect(carets.length).toBeLessThan(200);
    expect(carets).toMatch(/^ {2}\| \^+$/);
  });

  it('elides the middle of a very long message', () => {
    const message = `unknown property \`${'x'.repeat(100_000)}\``;
    const rendered = renderDiagnostic(error(0, 1, message), new SourceText('s.attn', 'x'));
    const header = rendered.split('\n')[0]!;
    expect(header.length).toBeLessThan(300);
    expect(header).toContain('...(99');
    expect(header.startsWith('error[E200]: unknown property `xxx')).toBe(true);
    expect(header.endsWith('xxx`')).toBe(true);
  });

  it('leaves short lines as they were', () => {
    const text = '\tabc';
    const rendered = renderDiagnostic(error(1, 4), new SourceText('s.attn', text));
    expect(rendered.split('\n').slice(3, 5)).toEqual(['1 |     abc', '  |     ^^^']);
  });
});
