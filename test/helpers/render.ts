// Renders what the syntax layer says about a spec, as a user would see it (no colour).

import { renderDiagnostics } from '../../src/diagnostics/render.js';
import { SourceText } from '../../src/diagnostics/source.js';
import { parseSpec } from '../../src/syntax/parse.js';

export function renderSyntax(text: string, file = 'spec.attn'): string {
  return renderDiagnostics(parseSpec(text).diagnostics, new SourceText(file, text));
}
