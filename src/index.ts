// The public API of attnc. The CLI is a thin layer over these exports.

export { checkSource, type FrontEndResult } from './frontend.js';
export { parseSpec, type ParseResult } from './syntax/parse.js';
export { checkSpec } from './check/check.js';
export type * from './check/checked.js';
export type * from './syntax/ast.js';
export type { Span } from './syntax/span.js';
export {
  hasErrors,
  sortDiagnostics,
  type Diagnostic,
  type Label,
  type Severity,
} from './diagnostics/diagnostic.js';
export { DIAGNOSTIC_CODES, type DiagnosticCode } from './diagnostics/codes.js';
export { SourceText, type Position } from './diagnostics/source.js';
export {
  diagnosticToJson,
  renderDiagnostic,
  renderDiagnostics,
  type JsonDiagnostic,
  type RenderOptions,
} from './diagnostics/render.js';
