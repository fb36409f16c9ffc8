// Hover, completion and formatting edits as functions of the text (the stdio test drives
// the same functions through the protocol).

import { describe, expect, it } from 'vitest';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { completionsAt, diagnosticsFor, formattingEdits, hoverAt } from '../../src/lsp/server.js';

const TEXT = [
  'attention a {',
  '  heads: 8',
  '  head_dim: 64',
  '  kernel: favor(16, seed: 3)',
  '  lowrank: nystrom(32)',
  '  mask: random(2, block: 32) | unknown_thing',
  '  wibble: 3',
  '}',
  '',
].join('\n');
const doc = TextDocument.create('file:///t.attn', 'attn', 1, TEXT);

function hover(line: number, character: number): string | undefined {
  const result = hoverAt(doc, doc.offsetAt({ line, character }));
  return result ? (result.contents as { value: string }).value : undefined;
}

function labels(text: string): string[] {
  const offset = text.indexOf('‸');
  return completionsAt(text.slice(0, offset) + text.slice(offset + 1), offset).map((i) => i.label);
}

describe('hover', () => {
  it('documents feature maps and low-rank methods with their forms and defaults', () => {
    expect(hover(3, 11)).toContain('**favor**: a feature map, `kernel: ...`');
    expect(hover(3, 11)).toContain('`favor(features, seed: s)`');
    expect(hover(4, 12)).toContain('**nystrom**: a low-rank method');
    expect(hover(4, 12)).toContain('defaults: `iters: 6`');
  });

  it('documents an argument name with its callee, and whether it is required', () => {
    expect(hover(5, 20)).toContain(
      '**block**: argument of `random` (optional, given by name only)',
    );
    expect(hover(3, 21)).toContain('**seed**: argument of `favor`');
  });

  it('has nothing to say about unknown names, numbers and punctuation', () => {
    expect(hover(5, 36)).toBeUndefined();
    expect(hover(6, 3)).toBeUndefined();
    expect(hover(1, 9)).toBeUndefined();
    expect(hover(0, 12)).toBeUndefined();
  });
});

describe('completion', () => {
  it('offers each property its own values', () => {
    expect(labels('attention a {\n  kernel: ‸')).toEqual(['elu1', 'relu', 'favor']);
    expect(labels('attention a {\n  lowrank: ‸')).toEqual(['linformer', 'nystrom']);
    expect(labels('attention a {\n  layout: ‸')).toEqual(['bhnd', 'bnhd']);
    expect(labels('attention a {\n  causal: ‸')).toEqual(['true', 'false']);
    expect(labels('attention a {\n  heads: ‸')).toEqual([]);
  });

  it('leaves out argument names already given', () => {
    expect(labels('attention a {\n  mask: random(2, seed: 1, ‸')).toEqual(['count', 'block']);
  });

  it('offers `attention` between declarations', () => {
    expect(labels('‸')).toEqual(['attention']);
  });
});

describe('diagnostics and formatting edits', () => {
  it('turn warnings into LSP warnings and secondary spans into related information', () => {
    const twice = TextDocument.create(
      'file:///d.attn',
      'attn',
      1,
      'attention a {\n  heads: 4\n  heads: 4\n  head_dim: 8\n}\n',
    );
    const [duplicate] = diagnosticsFor(twice);
    expect(duplicate).toMatchObject({ code: 'E205', severity: 1 });
    expect(duplicate!.relatedInformation).toEqual([
      {
        location: {
          uri: 'file:///d.attn',
          range: { start: { line: 1, character: 2 }, end: { line: 1, character: 7 } },
        },
        message: 'first set here',
      },
    ]);
    const warned = TextDocument.create(
      'file:///w.attn',
      'attn',
      1,
      'attention a {\n  heads: 1\n  head_dim: 8\n  mask: full | causal\n}\n',
    );
    expect(diagnosticsFor(warned).map((d) => [d.code, d.severity])).toEqual([['W105', 2]]);
  });

  it('give no edit for a formatted document', async () => {
    const formatted = TextDocument.create(
      'file:///f.attn',
      'attn',
      1,
      'attention a {\n  heads: 4\n}\n',
    );
    expect(await formattingEdits(formatted, {})).toEqual([]);
  });
});
