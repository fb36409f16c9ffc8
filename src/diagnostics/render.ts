// Renders diagnostics the way rustc and esbuild do: a header with the code, the location,
// the source line, a caret run under the primary span and dashes under secondary spans.
// Colours come from picocolors; whether to use them is the caller's choice (RenderOptions).

import { createColors } from 'picocolors';

type Colors = ReturnType<typeof createColors>;
import type { Diagnostic, Label, Severity } from './diagnostic.js';
import type { SourceText } from './source.js';

export interface RenderOptions {
  /** ANSI colours, for a terminal. */
  readonly color?: boolean;
}

const TAB_WIDTH = 4;

/**
 * Longer source lines are shown as a window around the label, and longer messages and notes
 * with their middle elided: a file may hold a megabyte-long name on one line.
 */
const MAX_SHOWN_LINE = 160;
const SHOWN_BEFORE_LABEL = 40;
const MAX_SHOWN_MESSAGE = 240;

/** rustc's palette: every colour bold. */
function palette(c: Colors) {
  return {
    red: (text: string) => c.bold(c.red(text)),
    yellow: (text: string) => c.bold(c.yellow(text)),
    blue: (text: string) => c.bold(c.blue(text)),
    cyan: (text: string) => c.bold(c.cyan(text)),
    bold: (text: string) => c.bold(text),
  };
}

export function renderDiagnostic(
  diagnostic: Diagnostic,
  source: SourceText,
  options: RenderOptions = {},
): string {
  const styles = palette(createColors(options.color ?? false));
  const paint = (style: keyof typeof styles, text: string) => styles[style](text);
  const severityStyle = diagnostic.severity === 'error' ? 'red' : 'yellow';

  const start = source.position(diagnostic.primary.span.start);
  const labels: { label: Label; primary: boolean }[] = [
    { label: diagnostic.primary, primary: true },
    ...(diagnostic.secondary ?? []).map((label) => ({ label, primary: false })),
  ];
  const lines = [...new Set(labels.map(({ label }) => source.position(label.span.start).line))];
  lines.sort((a, b) => a - b);
  const gutter = String(lines[lines.length - 1] ?? 1).length;
  const bar = paint('blue', `${' '.repeat(gutter)} |`);

  const out: string[] = [];
  out.push(
    `${paint(severityStyle, `${diagnostic.severity}[${diagnostic.code}]`)}${paint('bold', `: ${elide(diagnostic.message)}`)}`,
  );
  out.push(
    `${' '.repeat(gutter)}${paint('blue', '-->')} ${source.file}:${start.line}:${start.column}`,
  );
  out.push(bar);
  let previous = 0;
  for (const line of lines) {
    if (previous && line > previous + 1) out.push(paint('blue', '...'));
    previous = line;
    const onLine = labels.filter(({ label }) => source.position(label.span.start).line === line);
    const shown = shownPart(source, line, onLine[0]!.label);
    out.push(`${paint('blue', `${String(line).padStart(gutter)} |`)} ${shown.text}`);
    for (const { label, primary } of onLine) {
      const marker = underline(source, label, line, shown, primary ? '^' : '-');
      const styled = paint(primary ? severityStyle : 'blue', marker);
      out.push(
        `${bar} ${styled}${label.message ? ' ' + paint(primary ? severityStyle : 'blue', label.message) : ''}`,
      );
    }
  }
  for (const note of diagnostic.notes ?? []) {
    // Notes may name their kind (`note: ...`); otherwise they are hints on how to fix.
    const [, kind = 'help', text = note] = /^(help|note): (.*)$/s.exec(note) ?? [];
    out.push(`${' '.repeat(gutter)} ${paint('cyan', `= ${kind}:`)} ${elide(text)}`);
  }
  return out.join('\n');
}

export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  source: SourceText,
  options: RenderOptions = {},
): string {
  return diagnostics.map((d) => renderDiagnostic(d, source, options) + '\n').join('\n');
}

/** The part of a source line shown: all of it, or a window starting a little before `label`. */
interface ShownLine {
  readonly text: string;
  /** Character offsets within the line of the window, [from, to). */
  readonly from: number;
  readonly to: number;
  /** Printed before the window: `...` when the line was cut on the left. */
  readonly lead: string;
}

function shownPart(source: SourceText, line: number, label: Label): ShownLine {
  const text = source.line(line);
  if (text.length <= MAX_SHOWN_LINE) {
    return { text: expandTabs(text), from: 0, to: text.length, lead: '' };
  }
  const startColumn = source.position(label.span.start).column;
  const from = Math.max(0, startColumn - 1 - SHOWN_BEFORE_LABEL);
  const to = Math.min(text.length, from + MAX_SHOWN_LINE);
  const lead = from > 0 ? '...' : '';
  const tail = to < text.length ? '...' : '';
  return { text: lead + expandTabs(text.slice(from, to)) + tail, from, to, lead };
}

/** The marker run for a label on one line; a span that runs past what is shown stops there. */
function underline(
  source: SourceText,
  label: Label,
  line: number,
  shown: ShownLine,
  mark: string,
): string {
  const text = source.line(line).slice(shown.from, shown.to);
  const clamp = (column: number) => Math.min(Math.max(column - 1 - shown.from, 0), text.length);
  const start = clamp(source.position(label.span.start).column);
  const endPosition = source.position(label.span.end);
  const end = endPosition.line === line ? clamp(endPosition.column) : text.length;
  const before = shown.lead.length + expandTabs(text.slice(0, start)).length;
  const width = Math.max(
    1,
    shown.lead.length + expandTabs(text.slice(0, Math.max(end, start))).length - before,
  );
  return ' '.repeat(before) + mark.repeat(width);
}

/** A message or note with its middle elided when it is too long to read. */
function elide(text: string): string {
  if (text.length <= MAX_SHOWN_MESSAGE) return text;
  const keep = Math.floor((MAX_SHOWN_MESSAGE - 40) / 2);
  const hidden = text.length - 2 * keep;
  return `${text.slice(0, keep)}...(${hidden} characters)...${text.slice(text.length - keep)}`;
}

function expandTabs(text: string): string {
  if (!text.includes('\t')) return text;
  let out = '';
  for (const ch of text) {
    out += ch === '\t' ? ' '.repeat(TAB_WIDTH - (out.length % TAB_WIDTH)) : ch;
  }
  return out;
}

export interface JsonDiagnostic {
  readonly file: string;
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly notes: readonly string[];
}

/** The machine-readable form used by `attnc check --format json`. */
export function diagnosticToJson(diagnostic: Diagnostic, source: SourceText): JsonDiagnostic {
  const start = source.position(diagnostic.primary.span.start);
  const end = source.position(diagnostic.primary.span.end);
  return {
    file: source.file,
    code: diagnostic.code,
    severity: diagnostic.severity,
    message: diagnostic.message,
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column,
    notes: diagnostic.notes ?? [],
  };
}
