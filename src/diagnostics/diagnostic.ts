// Errors are values (esbuild's log): every phase returns diagnostics and keeps going.
// A diagnostic points at spans of one source file; rendering happens elsewhere.

import type { Span } from '../base/span.js';
import type { DiagnosticCode } from './codes.js';

export type Severity = 'error' | 'warning';

export interface Label {
  readonly span: Span;
  readonly message?: string;
}

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  readonly message: string;
  /** What is wrong, pointed at with carets. */
  readonly primary: Label;
  /** Related places (the first definition of a duplicate, say), pointed at with dashes. */
  readonly secondary?: readonly Label[];
  /** How to fix it, or why it matters. Rendered as `= help: ...` lines. */
  readonly notes?: readonly string[];
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Sorted by position, then code, so output is the same however phases interleave. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      a.primary.span.start - b.primary.span.start ||
      a.primary.span.end - b.primary.span.end ||
      a.code.localeCompare(b.code),
  );
}
