// The attnc bundler plugin, written once on unplugin and exported per bundler (vite.ts,
// rollup.ts, esbuild.ts, webpack.ts): `import { createLongformer } from './longformer.attn'`
// compiles the spec at build time for the chosen target. Spec errors become build errors that
// carry the file, line and column (Vite shows them in its overlay), warnings become build
// warnings, and the spec is a watched file, so a dev server or watch build reloads on change.

import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { createUnplugin, type UnpluginContext, type UnpluginFactory } from 'unplugin';
import { compile, TARGET_NAMES } from '../api/compile.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { renderDiagnostic } from '../diagnostics/render.js';
import type { SourceText } from '../diagnostics/source.js';
import { emitSpecDeclarations, emitSpecJavaScript } from './spec-module.js';

export interface AttncPluginOptions {
  /** The target profile the kernels are compiled for (default `portable`, runs everywhere). */
  readonly target?: string;
  /**
   * Write `NAME.d.attn.ts` next to each imported `NAME.attn`, so TypeScript (with
   * `allowArbitraryExtensions`) sees the typed exports. Default true.
   */
  readonly declarations?: boolean;
}

const SPEC_ID = /\.attn(?:\?.*)?$/;

/** The spec file behind a module id (bundlers may add a query such as `?import`). */
function specPath(id: string): string {
  return id.replace(/\?.*$/, '');
}

export function declarationPath(spec: string): string {
  return spec.replace(/\.attn$/, '.d.attn.ts');
}

/** A diagnostic as a bundler error or warning: position first, the rendered excerpt as frame. */
function bundlerMessage(diagnostic: Diagnostic, source: SourceText, file: string) {
  const start = source.position(diagnostic.primary.span.start);
  return {
    id: file,
    message: `${diagnostic.severity}[${diagnostic.code}]: ${diagnostic.message} (${file}:${start.line}:${start.column})`,
    // Rollup, Vite and esbuild count columns from 0; diagnostics count from 1.
    loc: { file, line: start.line, column: start.column - 1 },
    frame: renderDiagnostic(diagnostic, source),
  };
}

async function writeIfChanged(path: string, text: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current !== text) await writeFile(path, text);
}

export const attncPluginFactory: UnpluginFactory<AttncPluginOptions | undefined> = (
  options = {},
) => {
  const target = options.target ?? 'portable';
  if (!TARGET_NAMES.includes(target)) {
    throw new Error(
      `attnc plugin: unknown target '${target}'; targets are: ${TARGET_NAMES.join(', ')}`,
    );
  }
  const declarations = options.declarations ?? true;
  return {
    name: 'attnc',
    enforce: 'pre',
    loadInclude: (id) => SPEC_ID.test(id),
    async load(id) {
      const file = specPath(id);
      this.addWatchFile(file);
      const text = await readFile(file, 'utf8');
      const result = compile(text, { file, target });
      const context = this as UnpluginContext;
      for (const d of result.diagnostics.filter((d) => d.severity !== 'error')) {
        context.warn(bundlerMessage(d, result.source, file));
      }
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length > 0) {
        // Rollup, Vite and webpack stop at the first error; esbuild collects them all.
        for (const d of errors) context.error(bundlerMessage(d, result.source, file));
        return { code: '' };
      }
      if (declarations) {
        await writeIfChanged(
          declarationPath(file),
          emitSpecDeclarations(basename(file), result.modules),
        );
      }
      return { code: emitSpecJavaScript(basename(file), result.modules) };
    },
    esbuild: { loader: 'js' },
  };
};

export const attncPlugin = createUnplugin(attncPluginFactory);
