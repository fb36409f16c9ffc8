// The VS Code extension folder: its manifest points at files that exist, its grammar is the
// repository's, and its client starts `attnc lsp` over stdio for the `attn` language (run
// here against stand-ins for the `vscode` and `vscode-languageclient` modules, which exist
// only inside VS Code and the extension's own install).

import { readFileSync, existsSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';

const folder = new URL('../../editors/vscode/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', folder), 'utf8'));

describe('editors/vscode', () => {
  it('contributes the attn language, its configuration and the grammar, all present', () => {
    const [language] = manifest.contributes.languages;
    expect(language).toMatchObject({ id: 'attn', extensions: ['.attn'] });
    expect(existsSync(new URL(language.configuration, folder))).toBe(true);
    const [grammar] = manifest.contributes.grammars;
    expect(grammar).toMatchObject({ language: 'attn', scopeName: 'source.attn' });
    expect(existsSync(new URL(grammar.path, folder))).toBe(true);
    expect(existsSync(new URL(manifest.main, folder))).toBe(true);
    expect(manifest.dependencies['vscode-languageclient']).toBeDefined();
  });

  it('ships the repository grammar unchanged (`npm run tmgrammar` writes both)', () => {
    const [grammar] = manifest.contributes.grammars;
    expect(readFileSync(new URL(grammar.path, folder), 'utf8')).toBe(
      readFileSync(new URL('../../grammar/attn.tmLanguage.json', import.meta.url), 'utf8'),
    );
  });

  it('comments with `#` and pairs every bracket the language has', () => {
    const config = JSON.parse(readFileSync(new URL('language-configuration.json', folder), 'utf8'));
    expect(config.comments.lineComment).toBe('#');
    expect(config.brackets).toEqual([
      ['{', '}'],
      ['(', ')'],
      ['[', ']'],
    ]);
  });

  describe('the client', () => {
    const load = (Module as unknown as { _load: (...args: unknown[]) => unknown })._load;
    afterEach(() => {
      (Module as unknown as { _load: unknown })._load = load;
    });

    it('starts `attnc lsp` over stdio for attn documents, with the settings applied', async () => {
      const started: { serverOptions: unknown; clientOptions: unknown }[] = [];
      const settings: Record<string, unknown> = {};
      const fakes: Record<string, unknown> = {
        vscode: {
          workspace: {
            getConfiguration: (section: string) => ({
              get: (key: string, fallback: unknown) => settings[`${section}.${key}`] ?? fallback,
            }),
          },
        },
        'vscode-languageclient/node': {
          TransportKind: { stdio: 0 },
          LanguageClient: class {
            constructor(
              _id: string,
              _name: string,
              serverOptions: unknown,
              clientOptions: unknown,
            ) {
              started.push({ serverOptions, clientOptions });
            }
            start() {
              return Promise.resolve();
            }
          },
        },
      };
      (Module as unknown as { _load: unknown })._load = function (
        request: string,
        ...rest: unknown[]
      ) {
        return request in fakes ? fakes[request] : load.call(this, request, ...rest);
      };
      const require = createRequire(import.meta.url);
      const extensionPath = new URL(manifest.main, folder).pathname;
      delete require.cache[extensionPath];
      const extension = require(extensionPath);
      await extension.activate();
      expect(started[0]!.serverOptions).toMatchObject({
        command: 'attnc',
        args: ['lsp'],
        transport: 0,
      });
      expect(started[0]!.clientOptions).toEqual({ documentSelector: [{ language: 'attn' }] });
      settings['attnc.server.command'] = 'node';
      settings['attnc.server.args'] = ['dist/cli/main.js', 'lsp'];
      expect(extension.serverOptions()).toMatchObject({
        command: 'node',
        args: ['dist/cli/main.js', 'lsp'],
      });
    });
  });
});
