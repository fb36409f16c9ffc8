// `attnc lsp`: the language server over stdio, for editors (editors/vscode starts it).
// Runs until the client sends `exit` or closes the pipe.

import { parseArgs } from 'node:util';
import type { CliIo } from './io.js';

export const LSP_HELP = `Usage: attnc lsp [--stdio]

Starts the attnc language server (Language Server Protocol over stdin and stdout): the
checker's diagnostics as you type, hover documentation, completion and formatting.
Editors start it; see editors/vscode for the VS Code extension.

Options:
  --stdio      talk over stdin/stdout (the default and only transport)
  -h, --help   show this help
`;

export async function lspCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { stdio: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout(LSP_HELP);
    return 0;
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
