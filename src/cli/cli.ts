// The `attnc` command line: a thin layer over the public API that dispatches subcommands
// and turns usage problems into exit code 2 with a one-line message (never a stack trace).

import { readFileSync } from 'node:fs';
import { benchCommand } from './bench-command.js';
import { checkCommand } from './check-command.js';
import { compileCommand } from './compile-command.js';
import { explainCommand } from './explain-command.js';
import { fmtCommand } from './fmt-command.js';
import { lspCommand } from './lsp-command.js';
import { runCommand } from './run-command.js';
import { UsageError, type CliIo } from './io.js';

type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, { summary: string; run: Command }> = {
  check: { summary: 'parse and check spec files, print every problem', run: checkCommand },
  compile: {
    summary: 'compile specs to WGSL, a host plan and a TypeScript module',
    run: compileCommand,
  },
  run: {
    summary: 'run every attention of a spec on random inputs (--verify: against the reference)',
    run: runCommand,
  },
  bench: {
    summary: 'time every attention of a spec on a device, next to dense attention of its shape',
    run: benchCommand,
  },
  explain: {
    summary: 'print the IR after a pass, the block plan density and a picture of the mask',
    run: explainCommand,
  },
  fmt: { summary: 'format spec files in place (--check: list unformatted ones)', run: fmtCommand },
  lsp: { summary: 'the language server for editors (LSP over stdio)', run: lspCommand },
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const commands = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
    .join('\n');
  return `attnc ${version()}: a compiler for efficient attention (.attn specs -> WGSL + WebGPU)

Usage: attnc <command> [options] [FILE...]

Commands:
${commands}

Options:
  -h, --help     show help (also \`attnc <command> --help\`)
  -v, --version  print the version

Docs: README.md and docs/language.md
`;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io.stdout(help());
    return first === undefined ? 2 : 0;
  }
  if (first === '-v' || first === '--version') {
    io.stdout(`${version()}\n`);
    return 0;
  }
  const command = COMMANDS[first];
  if (!command) {
    io.stderr(
      `attnc: error: unknown command \`${first}\`\n${suggestCommand(first)}run \`attnc --help\` for the list\n`,
    );
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr(
        `attnc ${first}: error: ${(error as Error).message}\nrun \`attnc ${first} --help\` for usage\n`,
      );
      return 2;
    }
    throw error;
  }
}

function suggestCommand(name: string): string {
  const close = Object.keys(COMMANDS).find((c) => c.startsWith(name.slice(0, 2)));
  return close ? `did you mean \`${close}\`? ` : '';
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
