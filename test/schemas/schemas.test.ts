// The published JSON Schemas (schemas/) checked with an independent validator (ajv): every
// generated plan, plans compiled for every target, and `attnc check --format json` output
// (clean, with errors, with warnings, with an unreadable file) validate; wrong ones do not.

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { compile, TARGET_NAMES } from '../../src/api/compile.js';
import { runCli } from '../../src/cli/cli.js';
import type { CliIo } from '../../src/cli/io.js';

const root = new URL('../../', import.meta.url).pathname;
const readJson = (path: string): unknown => JSON.parse(readFileSync(join(root, path), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: true });
const validatePlan = ajv.compile(readJson('schemas/plan.schema.json') as object);
const validateReport = ajv.compile(readJson('schemas/diagnostics.schema.json') as object);

function planFiles(): string[] {
  return readdirSync(join(root, 'generated'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.plan.json'))
    .map((f) => join('generated', f));
}

describe('schemas/plan.schema.json', () => {
  it('accepts every plan in generated/', () => {
    const files = planFiles();
    expect(files.length).toBeGreaterThanOrEqual(18);
    for (const file of files) {
      const ok = validatePlan(readJson(file));
      expect({ file, errors: validatePlan.errors ?? null }).toEqual({ file, errors: null });
      expect(ok).toBe(true);
    }
  });

  it('accepts every example compiled for every target', () => {
    const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.attn'));
    for (const target of TARGET_NAMES) {
      for (const example of examples) {
        const text = readFileSync(join(root, 'examples', example), 'utf8');
        for (const module of compile(text, { target }).modules) {
          // Through JSON, as a plan reaches a file or a network.
          const plan = JSON.parse(JSON.stringify(module.plan));
          expect(validatePlan(plan), `${example} for ${target}`).toBe(true);
        }
      }
    }
  });

  it('rejects a plan with a wrong field, a missing field or an unknown field', () => {
    const plan = readJson('generated/longformer/longformer.plan.json') as Record<string, any>;
    const wrongBinding = structuredClone(plan);
    wrongBinding['kernels'][0].bindings[0].type = 'texture';
    expect(validatePlan(wrongBinding)).toBe(false);
    const { steps: _, ...noSteps } = plan;
    expect(validatePlan(noSteps)).toBe(false);
    expect(validatePlan({ ...plan, extra: 1 })).toBe(false);
    expect(validatePlan({ ...plan, version: 2 })).toBe(false);
    const badSize = structuredClone(plan);
    badSize['buffers'][0].size = { op: 'pow', args: [2, 3] };
    expect(validatePlan(badSize)).toBe(false);
  });
});

async function checkJson(...files: string[]): Promise<unknown> {
  let stdout = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: () => {}, color: false };
  await runCli(['check', '--format', 'json', ...files], io);
  return JSON.parse(stdout);
}

describe('schemas/diagnostics.schema.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attnc-schema-'));
  const file = (name: string, text: string | Buffer) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('accepts what `attnc check --format json` prints', async () => {
    const reports = [
      await checkJson(file('good.attn', 'attention a { heads: 4; head_dim: 64; }')),
      await checkJson(file('bad.attn', 'attention a {\n  haeds: 4\n  head_dim: 640\n}\n')),
      await checkJson(file('binary.attn', Buffer.from([0, 159, 146, 150]))),
      await checkJson(join(root, 'examples', 'longformer.attn'), join(root, 'examples', 'gqa.attn')),
    ];
    const withDiagnostics = reports.filter(
      (r) => (r as { diagnostics: unknown[] }).diagnostics.length > 0,
    );
    expect(withDiagnostics.length).toBeGreaterThanOrEqual(2);
    for (const report of reports) {
      const ok = validateReport(report);
      expect(validateReport.errors ?? null).toBeNull();
      expect(ok).toBe(true);
    }
  });

  it('rejects a diagnostic without a position or with a 0-based one', async () => {
    const report = (await checkJson(file('bad2.attn', 'attention a { haeds: 4; }'))) as any;
    const { line: _, ...noLine } = report.diagnostics[0];
    expect(validateReport({ ...report, diagnostics: [noLine] })).toBe(false);
    expect(validateReport({ ...report, diagnostics: [{ ...noLine, line: 0 }] })).toBe(false);
  });
});
