// The shape of `attnc check --format json` as a valibot schema, from which `npm run generate`
// writes the published schemas/diagnostics.schema.json (as plan-schema.ts does for the plan).
// The type test at the bottom keeps it and JsonDiagnostic of render.ts in step.

import * as v from 'valibot';
import type { JsonDiagnostic } from './render.js';

const position = v.pipe(v.number(), v.integer(), v.minValue(1));
const count = v.pipe(v.number(), v.integer(), v.minValue(0));

export const JsonDiagnosticSchema = v.strictObject({
  file: v.string(),
  code: v.pipe(v.string(), v.regex(/^[EW]\d{3}$/)),
  severity: v.picklist(['error', 'warning']),
  message: v.string(),
  /** 1-based, like every editor's status bar. */
  line: position,
  column: position,
  endLine: position,
  endColumn: position,
  notes: v.array(v.string()),
});

/** The whole output of `attnc check --format json`. */
export const CheckReportSchema = v.strictObject({
  diagnostics: v.array(JsonDiagnosticSchema),
  errors: count,
  warnings: count,
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type DeepMutable<T> = T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T;
const diagnosticTypesAgree: Same<
  DeepMutable<v.InferOutput<typeof JsonDiagnosticSchema>>,
  DeepMutable<JsonDiagnostic>
> = true;
void diagnosticTypesAgree;
