// `attnc compile FILE... -o DIR`: per attention, each kernel's WGSL, the host plan as JSON and
// a TypeScript module with a typed factory. Exit 1 when any file has errors (nothing is
// written for a file with errors, nor for one whose attention names another file already used),
// 2 on usage errors.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { compile, TARGET_NAMES } from '../api/compile.js';
import { moduleFiles } from '../api/module-files.js';
import type { CompiledModule } from '../api/compile.js';
import { hasErrors, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';
import type { Span } from '../base/span.js';
import { renderDiagnostic } from '../diagnostics/render.js';
import { resolveColor } from './check-command.js';
import { COLOR_OPTION, parseCommandLine, TARGET_OPTION, type CommandSpec } from './command-line.js';
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

const COMPILE_COMMAND: CommandSpec = {
  name: 'compile',
  help: COMPILE_HELP,
  options: [
    { flags: '-o, --out <DIR>' },
    TARGET_OPTION,
    { flags: '--import-from <SPEC>' },
    COLOR_OPTION,
  ],
};

export async function compileCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(COMPILE_COMMAND, argv, io);
  if (!values) return 0;
  const { positionals } = values;
  const color = resolveColor(values.string('color'), io.color);
  const outDir = values.string('out');
  if (!outDir) throw new UsageError('no output directory: pass -o DIR');
  const target = values.string('target')!;
  if (!TARGET_NAMES.includes(target)) {
    throw new UsageError(`unknown target \`${target}\`: use ${TARGET_NAMES.join(', ')}`);
  }
  const importFrom = values.string('import-from');
  if (positionals.length === 0) throw new UsageError('no spec files given');

  let failed = false;
  let usageProblem = false;
  // Files are named after attentions, so two attentions of one name would write the same files.
  const written = new Map<string, Declared>();
  for (const file of positionals) {
    const read = readSpecFile(file);
    if (!read.ok) {
      io.stderr(`attnc: error: ${read.message}\n`);
      if (read.kind === 'usage') usageProblem = true;
      else failed = true;
      continue;
    }
    const result = compile(read.text, { file, target });
    for (const d of result.diagnostics)
      io.stderr(renderDiagnostic(d, result.source, { color }) + '\n\n');
    if (hasErrors(result.diagnostics)) {
      failed = true;
      continue;
    }
    const declared = result.modules.map((module) => declaredAt(module, result.source));
    const clashes = declared.flatMap((here) => {
      const first = written.get(here.name);
      return first ? [clashDiagnostic(here, first)] : [];
    });
    if (clashes.length > 0) {
      for (const d of clashes) io.stderr(renderDiagnostic(d, result.source, { color }) + '\n\n');
      failed = true;
      continue;
    }
    for (const here of declared) written.set(here.name, here);
    mkdirSync(outDir, { recursive: true });
    for (const module of result.modules) {
      const specPath = relative(outDir, file) || file;
      for (const out of moduleFiles(module, specPath, importFrom)) {
        writeFileSync(join(outDir, out.path), out.text);
        io.stdout(`wrote ${join(outDir, out.path)}\n`);
      }
    }
  }
  if (usageProblem) return 2;
  return failed ? 1 : 0;
}

/** Where an attention is declared: its name's span and line:column in its file. */
interface Declared {
  readonly name: string;
  readonly span: Span;
  readonly where: string;
}

function declaredAt(module: CompiledModule, source: SourceText): Declared {
  const declaration = module.attention.span;
  const start = source.text.indexOf(module.name, declaration.start + 'attention'.length);
  const span = start === -1 ? declaration : { start, end: start + module.name.length };
  const { line, column } = source.position(span.start);
  return { name: module.name, span, where: `${source.file}:${line}:${column}` };
}

function clashDiagnostic(here: Declared, first: Declared): Diagnostic {
  return {
    code: 'E206',
    severity: 'error',
    message: `attention \`${here.name}\` is also declared in ${first.where}`,
    primary: { span: here.span, message: `its files would overwrite those of ${first.where}` },
    notes: [
      `compile writes ${here.name}.plan.json, ${here.name}.ts and its kernels for each; rename one of the two attentions, or compile them into different directories`,
    ],
  };
}
