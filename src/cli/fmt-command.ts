// `attnc fmt [--check] FILE...`: formats spec files in place with the prettier plugin
// (honouring `.prettierrc` options such as printWidth), or under --check lists the files
// that are not formatted. Exit 0 when all is well, 1 when a file is unformatted or does
// not parse, 2 on usage errors.

import { writeFileSync } from 'node:fs';
import { renderDiagnostic } from '../diagnostics/render.js';
import { SourceText } from '../diagnostics/source.js';
import type { FormatOptions } from '../format/format.js';
import { resolveColor } from './check-command.js';
import { COLOR_OPTION, parseCommandLine, type CommandSpec } from './command-line.js';
import { UsageError, type CliIo } from './io.js';
import { readSpecFile } from './read-spec-file.js';

export const FMT_HELP = `Usage: attnc fmt [options] FILE...

Formats spec files in place: canonical spacing, properties in the order written, comments
kept. Options from a .prettierrc (printWidth, tabWidth, useTabs) apply.

Options:
  --check             write nothing; list the files that are not formatted
  --color auto|always|never
  -h, --help          show this help

Exit status: 0 when every file is (now) formatted, 1 when a file is not formatted (--check)
or does not parse, 2 on usage errors.
`;

const FMT_COMMAND: CommandSpec = {
  name: 'fmt',
  help: FMT_HELP,
  options: [{ flags: '--check' }, COLOR_OPTION],
};

export async function fmtCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(FMT_COMMAND, argv, io);
  if (!values) return 0;
  const { positionals } = values;
  const checkOnly = values.flag('check');
  const color = resolveColor(values.string('color'), io.color);
  if (positionals.length === 0) throw new UsageError('no spec files given');

  // Loaded here, not at the top: other commands should not pay for loading prettier.
  const { formatOptionsFor, formatSpec } = await import('../format/format.js');
  let usageProblem = false;
  let failed = false;
  const unformatted: string[] = [];
  for (const file of positionals) {
    const read = readSpecFile(file);
    if (!read.ok) {
      io.stderr(
        read.kind === 'usage'
          ? `attnc: error: ${read.message}\n`
          : `error[${read.code}]: ${read.message}\n --> ${file}\n\n`,
      );
      if (read.kind === 'usage') usageProblem = true;
      else failed = true;
      continue;
    }
    let options: FormatOptions;
    try {
      options = await formatOptionsFor(file);
    } catch (error) {
      failed = true;
      io.stderr(
        `attnc fmt: cannot read the prettier config for \`${file}\`: ${(error as Error).message}\n`,
      );
      continue;
    }
    const done = await formatSpec(read.text, options);
    if (!done.ok) {
      failed = true;
      const source = new SourceText(file, read.text);
      for (const d of done.diagnostics) io.stderr(renderDiagnostic(d, source, { color }) + '\n\n');
      io.stderr(`attnc fmt: \`${file}\` does not parse; it was not formatted\n`);
      continue;
    }
    if (done.formatted === read.text) continue;
    unformatted.push(file);
    if (!checkOnly) {
      writeFileSync(file, done.formatted);
      io.stdout(`formatted ${file}\n`);
    }
  }

  if (checkOnly) {
    for (const file of unformatted) io.stdout(`${file}\n`);
    if (unformatted.length > 0) {
      const files = unformatted.length === 1 ? '1 file is' : `${unformatted.length} files are`;
      io.stderr(
        `${files} not formatted; run \`attnc fmt\` on ${unformatted.length === 1 ? 'it' : 'them'}\n`,
      );
    }
  }
  if (usageProblem) return 2;
  return failed || (checkOnly && unformatted.length > 0) ? 1 : 0;
}
