// Byte-free source ranges: UTF-16 offsets into the spec text, half-open [start, end).
// Line and column are derived only when a diagnostic is rendered (see diagnostics/source.ts).
// A leaf of every layer (syntax, diagnostics, check, ir all carry spans), so it lives in
// base/, which imports nothing: the layers that share it need not import each other.

export interface Span {
  readonly start: number;
  readonly end: number;
}

export function span(start: number, end: number): Span {
  return { start, end };
}

export function joinSpans(a: Span, b: Span): Span {
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}
