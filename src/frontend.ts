// The front end as one call: spec text -> checked attentions and every diagnostic, sorted.
// Used by the CLI, the public API and (later) the compiler driver.

import { checkSpec } from './check/check.js';
import type { CheckedAttention } from './check/checked.js';
import { sortDiagnostics, type Diagnostic } from './diagnostics/diagnostic.js';
import { SourceText } from './diagnostics/source.js';
import type { SpecFile } from './syntax/ast.js';
import { parseSpec } from './syntax/parse.js';

export interface FrontEndResult {
  readonly source: SourceText;
  readonly ast: SpecFile;
  /** The attentions that checked without errors, in file order. */
  readonly attentions: readonly CheckedAttention[];
  readonly diagnostics: readonly Diagnostic[];
}

export function checkSource(text: string, file = '<input>'): FrontEndResult {
  const source = new SourceText(file, text);
  const parsed = parseSpec(text);
  const checked = checkSpec(parsed.ast);
  // "No attention declared" only helps when nothing else explains the empty result.
  const checkDiagnostics = parsed.diagnostics.length
    ? checked.diagnostics.filter((d) => d.code !== 'W100')
    : checked.diagnostics;
  return {
    source,
    ast: parsed.ast,
    attentions: checked.attentions,
    diagnostics: sortDiagnostics([...parsed.diagnostics, ...checkDiagnostics]),
  };
}
