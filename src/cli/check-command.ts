// `attnc check FILE...`: every diagnostic of every file; exit 0 when clean (warnings
// allowed), 1 on any error, 2 on usage errors (missing file, unknown flag).

import { hasErrors, type Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnosticToJson, renderDiagnostic, type JsonDiagnostic } from '../diagnostics/render.js';
import { checkSource } from '../frontend.js';
import {
  COLOR_OPTION,
  FORMAT_OPTION,
  JSON_OPTION,
  outputFormat,
  parseCommandLine,
  type CommandSpec,
} from './command-line.js';
import { UsageError, type CliIo } from './io.js';
import { readSpecFile } from './read-spec-file.js';

export const CHECK_HELP = `Usage: attnc check [options] FILE...

Parses and checks spec files and prints every problem found.

Options:
  --format text|json  output format (default text; json: one JSON object on stdout, for scripts,
                      editors and CI)
  --json              same as --format json
  --color auto|always|never
  -h, --help          show this help

Exit status: 0 when no file has errors (warnings allowed), 1 when any has, 2 on usage errors.
`;

const CHECK_COMMAND: CommandSpec = {
  name: 'check',
  help: CHECK_HELP,
  options: [FORMAT_OPTION, JSON_OPTION, COLOR_OPTION],
};

export async function checkCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(CHECK_COMMAND, argv, io);
  if (!values) return 0;
  const { positionals } = values;
  const format = outputFormat(values);
  const color = resolveColor(values.string('color'), io.color);
  if (positionals.length === 0) throw new UsageError('no spec files given');

  const json: JsonDiagnostic[] = [];
  let errors = 0;
  let warnings = 0;
  let usageProblem = false;
  for (const file of positionals) {
    const read = readSpecFile(file);
    if (!read.ok) {
      if (read.kind === 'usage') {
        usageProblem = true;
        io.stderr(`attnc: error: ${read.message}\n`);
        continue;
      }
      errors++;
      if (format === 'json') {
        json.push({
          file,
          code: read.code!,
          severity: 'error',
          message: read.message,
          line: 1,
          column: 1,
          endLine: 1,
          endColumn: 1,
          notes: [],
        });
      } else {
        io.stdout(`error[${read.code}]: ${read.message}\n --> ${file}\n\n`);
      }
      continue;
    }
    const result = checkSource(read.text, file);
    const diagnostics: readonly Diagnostic[] = result.diagnostics;
    if (hasErrors(diagnostics)) {
      // counted per diagnostic below
    }
    for (const d of diagnostics) {
      if (d.severity === 'error') errors++;
      else warnings++;
      if (format === 'json') json.push(diagnosticToJson(d, result.source));
      else io.stdout(renderDiagnostic(d, result.source, { color }) + '\n\n');
    }
  }

  if (format === 'json') {
    io.stdout(JSON.stringify({ diagnostics: json, errors, warnings }, null, 2) + '\n');
  } else {
    const files = positionals.length === 1 ? '1 file' : `${positionals.length} files`;
    if (errors || warnings) {
      io.stdout(`${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${files}\n`);
    } else if (!usageProblem) {
      io.stdout(`checked ${files}: no problems\n`);
    }
  }
  if (usageProblem) return 2;
  return errors > 0 ? 1 : 0;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function resolveColor(option: string | undefined, terminal: boolean): boolean {
  switch (option ?? 'auto') {
    case 'auto':
      return terminal;
    case 'always':
      return true;
    case 'never':
      return false;
    default:
      throw new UsageError(`unknown --color value \`${option}\`: use auto, always or never`);
  }
}
