// The VS Code client for attnc: starts `attnc lsp` over stdio for .attn files. Plain
// CommonJS so the folder installs without a build step; highlighting comes from the
// TextMate grammar in syntaxes/ (a copy of grammar/attn.tmLanguage.json).

const { workspace } = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** @type {import('vscode-languageclient/node').LanguageClient | undefined} */
let client;

/** The server command from the settings `attnc.server.command` and `attnc.server.args`. */
function serverOptions() {
  const config = workspace.getConfiguration('attnc');
  return {
    command: config.get('server.command', 'attnc'),
    args: config.get('server.args', ['lsp']),
    transport: TransportKind.stdio,
    // npm installs `attnc.cmd` on Windows, which only a shell can run.
    options: { shell: process.platform === 'win32' },
  };
}

function activate() {
  client = new LanguageClient('attnc', 'attnc', serverOptions(), {
    documentSelector: [{ language: 'attn' }],
  });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate, serverOptions };
