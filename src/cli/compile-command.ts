// `attnc compile FILE... -o DIR`: per attention, each kernel's WGSL, the host plan as JSON and
// a TypeScript module with a typed factory. Exit 1 when any file has errors (nothing is
// written for a file with errors), 2 on usage errors.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { compile, TARGET_NAMES } from '../api/compile.js';
import { moduleFiles } from '../api/module-files.js';
import { hasErrors } from '../diagnostics/diagnostic.js';
import { renderDiagnostic } from '../diagnostics/render.js';
import { resolveColor } from './check-command.js';
import { UsageError, type CliIo } from './io.js';
import { readSpecFile } from './read-spec-file.js';

export const COMPILE_HELP = `Usage: attnc compile [options] FILE... -o DIR

Compiles every attention of each spec to WGSL kernels, a host plan (JSON) and a TypeScript
module with a typed factory; writes DIR/NAME.KERNEL.wgsl, DIR/NAME.plan.json, DIR/NAME.ts.

Options:
  -o, --out DIR       output directory (created if missing)
  --target NAME       device profile: ${TARGET_NAMES.join(', ')} (default portable: runs on
                      every WebGPU device, compatibility-mode limits, no optional features)
  --import-from SPEC  module the generated TypeScript imports the runtime from (default attnc/runtime)
  --color auto|always|never
  -h, --help          show this help
`;

export async function compileCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      target: { type: 'string', default: 'portable' },
      'import-from': { type: 'string' },
      color: { type: 'string', default: 'auto' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(COMPILE_HELP);
    return 0;
  }
  const color = resolveColor(values.color, io.color);
  if (!values.out) throw new UsageError('no output directory: pass -o DIR');
  if (!TARGET_NAMES.includes(values.target)) {
    throw new UsageError(`unknown target \`${values.target}\`: use ${TARGET_NAMES.join(', ')}`);
  }
  if (positionals.length === 0) throw new UsageError('no spec files given');

  let failed = false;
  let usageProblem = false;
  for (const file of positionals) {
    const read = readSpecFile(file);
    if (!read.ok) {
      io.stderr(`attnc: error: ${read.message}\n`);
      if (read.kind === 'usage') usageProblem = true;
      else failed = true;
      continue;
    }
    const result = compile(read.text, { file, target: values.target });
    for (const d of result.diagnostics)
      io.stderr(renderDiagnostic(d, result.source, { color }) + '\n\n');
    if (hasErrors(result.diagnostics)) {
      failed = true;
      continue;
    }
    mkdirSync(values.out, { recursive: true });
    for (const module of result.modules) {
      const specPath = relative(values.out, file) || file;
      for (const out of moduleFiles(module, specPath, values['import-from'])) {
        writeFileSync(join(values.out, out.path), out.text);
        io.stdout(`wrote ${join(values.out, out.path)}\n`);
      }
    }
  }
  if (usageProblem) return 2;
  return failed ? 1 : 0;
}
