// `attnc lsp`: the language server over stdio, for editors (editors/vscode starts it).
// Runs until the client sends `exit` or closes the pipe.

import { parseCommandLine, type CommandSpec } from './command-line.js';
import { UsageError, type CliIo } from './io.js';

export const LSP_HELP = `Usage: attnc lsp [--stdio]

Starts the attnc language server (Language Server Protocol over stdin and stdout): the
checker's diagnostics as you type, hover documentation, completion and formatting.
Editors start it; see editors/vscode for the VS Code extension.

Options:
  --stdio      talk over stdin/stdout (the default and only transport)
  -h, --help   show this help
`;

const LSP_COMMAND: CommandSpec = { name: 'lsp', help: LSP_HELP, options: [{ flags: '--stdio' }] };

export async function lspCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(LSP_COMMAND, argv, io);
  if (!values) return 0;
  if (values.positionals.length > 0) {
    throw new UsageError(`unexpected argument \`${values.positionals[0]}\`: lsp takes no files`);
  }
  // Loaded here, not at the top: other commands should not pay for the server's modules.
  const { createConnection } = await import('vscode-languageserver/node');
  const { startLanguageServer } = await import('../lsp/server.js');
  const connection = createConnection(process.stdin, process.stdout);
  startLanguageServer(connection);
  // The library exits the process itself on `exit` (status 0 after `shutdown`, else 1) and
  // when stdin closes; until then the command is running.
  return new Promise<number>(() => {});
}
