// The checker's log (esbuild style): every check appends diagnostics here and keeps going.
// It also counts errors, so the driver can tell whether one attention came out clean.

import type { Diagnostic, Label, Severity } from '../diagnostics/diagnostic.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';
import type { Span } from '../base/span.js';

export interface DiagnosticExtras {
  /** Text printed after the primary carets. */
  readonly label?: string;
  readonly secondary?: readonly Label[];
  readonly notes?: readonly (string | undefined)[];
}

export class DiagnosticSink {
  private readonly list: Diagnostic[] = [];
  /** What each reported diagnostic says and where, to drop repeats in constant time. */
  private readonly reported = new Set<string>();
  private errors = 0;

  get errorCount(): number {
    return this.errors;
  }

  get diagnostics(): readonly Diagnostic[] {
    return this.list;
  }

  error(code: DiagnosticCode, message: string, span: Span, extras: DiagnosticExtras = {}): void {
    this.add('error', code, message, span, extras);
  }

  warning(code: DiagnosticCode, message: string, span: Span, extras: DiagnosticExtras = {}): void {
    this.add('warning', code, message, span, extras);
  }

  private add(
    severity: Severity,
    code: DiagnosticCode,
    message: string,
    span: Span,
    extras: DiagnosticExtras,
  ): void {
    // Group rules run once per group against inherited settings, so the same problem can be
    // found twice; it is reported once.
    const key = `${code} ${span.start} ${span.end} ${message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    if (severity === 'error') this.errors++;
    const notes = (extras.notes ?? []).filter((n): n is string => n !== undefined);
    this.list.push({
      code,
      severity,
      message,
      primary: extras.label === undefined ? { span } : { span, message: extras.label },
      ...(extras.secondary && extras.secondary.length > 0 ? { secondary: extras.secondary } : {}),
      ...(notes.length > 0 ? { notes } : {}),
    });
  }
}
