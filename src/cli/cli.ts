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
import { tuneCommand } from './tune-command.js';
import { Command, CommanderError } from 'commander';
import { commanderMessage } from './command-line.js';
import { UsageError, type CliIo } from './io.js';

type CommandFn = (argv: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, { summary: string; run: CommandFn }> = {
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
  tune: {
    summary: 'choose kernel schedules for a spec by measuring candidates on a device',
    run: tuneCommand,
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
  if (argv.length === 0) {
    io.stdout(help());
    return 2;
  }
  // `attnc help [COMMAND]` is `attnc [COMMAND] --help`: the command's own help text.
  const [first, ...rest] = argv;
  const line = first === 'help' ? [...rest.slice(0, 1), '--help'] : argv;
  let chosen: string | undefined;
  const program = dispatcher(io, (name) => (chosen = name));
  try {
    program.parse([...line], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
    io.stderr(`attnc: error: ${commanderMessage(error)}\nrun \`attnc --help\` for the list\n`);
    return 2;
  }
  if (!chosen) {
    io.stdout(help());
    return 2;
  }
  const name = chosen;
  try {
    // The command is the first word (the top level takes no option before it but -h and -v),
    // and it parses the rest itself, `--` included.
    return await COMMANDS[name]!.run(line.slice(1), io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`attnc ${name}: error: ${error.message}\nrun \`attnc ${name} --help\` for usage\n`);
      return 2;
    }
    throw error;
  }
}

/**
 * The top level: commands (with "did you mean" for a misspelt one), --help and --version.
 * Each command parses its own arguments (command-line.ts): here they are only let through.
 */
function dispatcher(io: CliIo, choose: (name: string) => void): Command {
  const program = new Command('attnc')
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .version(version(), '-v, --version')
    .helpOption('-h, --help')
    .helpCommand(false)
    .configureHelp({ formatHelp: () => help() })
    .configureOutput({ writeOut: io.stdout, writeErr: () => {}, outputError: () => {} })
    .exitOverride();
  for (const [name, c] of Object.entries(COMMANDS)) {
    program
      .command(name)
      .description(c.summary)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .passThroughOptions()
      .action(() => choose(name));
  }
  return program;
}
