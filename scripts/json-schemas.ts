// The published JSON Schemas (schemas/*.schema.json), converted from the valibot schemas the
// code itself checks with, so the two cannot drift apart. Used by scripts/generate.ts.

import { toJsonSchema } from '@valibot/to-json-schema';
import { HostPlanSchema, SizeExprSchema } from '../src/codegen/plan-schema.js';
import { CheckReportSchema } from '../src/diagnostics/diagnostic-schema.js';

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

export function jsonSchemaFiles(): Map<string, string> {
  const plan = {
    $schema: DRAFT_07,
    title: 'attnc host plan',
    description:
      'The host plan `attnc compile` writes as NAME.plan.json and a generated module exports as `plan`: buffers, arrays, WGSL kernels and the steps that run them (docs/runtime.md).',
    ...toJsonSchema(HostPlanSchema, { definitions: { SizeExpr: SizeExprSchema } }),
  };
  const diagnostics = {
    $schema: DRAFT_07,
    title: 'attnc check --format json',
    description:
      'What `attnc check --format json` prints: every diagnostic with its 1-based position, and the counts.',
    ...toJsonSchema(CheckReportSchema),
  };
  return new Map([
    ['plan.schema.json', JSON.stringify(plan, null, 2) + '\n'],
    ['diagnostics.schema.json', JSON.stringify(diagnostics, null, 2) + '\n'],
  ]);
}
