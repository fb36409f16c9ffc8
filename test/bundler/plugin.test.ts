// The bundler plugin at build time, without a browser: esbuild and Vite build the fixture app
// (test/bundler/fixtures/app) from a spec import, tsc accepts the app with the declarations
// the plugin writes (and rejects misuse), and spec errors are build errors with the file,
// line and column. The built apps run in Chromium in browser.gpu.test.ts.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';
import { build as viteBuild } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import attncEsbuild from '../../src/bundler/esbuild.js';
import attncVite from '../../src/bundler/vite.js';
import attncRollup from '../../src/bundler/rollup.js';
import attncWebpack from '../../src/bundler/webpack.js';
import { declarationPath } from '../../src/bundler/plugin.js';
import { emitSpecDeclarations } from '../../src/bundler/spec-module.js';
import { ensureDist, root } from '../package/dist.js';

const app = join(root, 'test/bundler/fixtures/app');
const spec = join(app, 'models/longformer.attn');
/** Scratch specs live inside the repository, so `attnc/runtime` resolves as in an app. */
const scratch = mkdtempSync(join(root, 'test/bundler/fixtures/scratch-'));

async function buildWithEsbuild(entry: string, outdir?: string) {
  return esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    write: outdir !== undefined,
    ...(outdir ? { outdir } : {}),
    metafile: true,
    logLevel: 'silent',
    plugins: [attncEsbuild()],
  });
}

interface ViteError {
  readonly message: string;
  readonly loc?: unknown;
  readonly frame?: string;
}

beforeAll(() => ensureDist(), 180_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the esbuild plugin', () => {
  it('bundles the app from the spec, with the runtime and no compiler', async () => {
    const result = await buildWithEsbuild(join(app, 'main.ts'));
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('test/bundler/fixtures/app/models/longformer.attn');
    expect(inputs.filter((p) => /chevrotain|dist\/(syntax|check|codegen\/wgsl)/.test(p))).toEqual(
      [],
    );
    const code = result.outputFiles![0]!.text;
    expect(code).toContain('"longformer"');
    expect(code).toContain('@compute');
  });

  it('writes the declarations next to the spec', () => {
    const modules = compile(readFileSync(spec, 'utf8')).modules;
    expect(readFileSync(declarationPath(spec), 'utf8')).toBe(
      emitSpecDeclarations('longformer.attn', modules),
    );
  });

  it('reports every spec error with its file, line and column', async () => {
    const bad = join(scratch, 'bad.attn');
    writeFileSync(bad, 'attention a {\n  haeds: 4\n  head_dim: 640\n}\n');
    writeFileSync(join(scratch, 'bad.ts'), "export * from './bad.attn';\n");
    const failure = await buildWithEsbuild(join(scratch, 'bad.ts')).then(
      () => null,
      (e: esbuild.BuildFailure) => e,
    );
    expect(failure).not.toBeNull();
    const errors = failure!.errors.map((e) => ({ text: e.text, location: e.location }));
    expect(errors).toEqual([
      expect.objectContaining({
        text: expect.stringMatching(/^error\[E\d{3}\]: .*haeds.* \(.*bad\.attn:2:3\)$/),
        location: expect.objectContaining({
          file: relative(process.cwd(), bad),
          line: 2,
          column: 2,
        }),
      }),
      expect.objectContaining({
        text: expect.stringMatching(/^error\[E\d{3}\]: .*640.*bad\.attn:3:13\)$/),
        location: expect.objectContaining({
          file: relative(process.cwd(), bad),
          line: 3,
          column: 12,
        }),
      }),
    ]);
  });

  it('passes spec warnings on as build warnings, and writes no declarations when asked not to', async () => {
    const warned = join(scratch, 'warned.attn');
    writeFileSync(warned, 'attention w {\n  heads: 1\n  head_dim: 8\n  mask: global(0, 5, 0)\n}\n');
    writeFileSync(join(scratch, 'warned.ts'), "export { createW } from './warned.attn';\n");
    const result = await esbuild.build({
      entryPoints: [join(scratch, 'warned.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
      plugins: [attncEsbuild({ declarations: false })],
    });
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => [w.text, w.location?.line, w.location?.column])).toEqual([
      [expect.stringMatching(/^warning\[W102\]: .*warned\.attn:4:\d+\)$/), 4, expect.any(Number)],
    ]);
    expect(existsSync(join(scratch, 'warned.d.attn.ts'))).toBe(false);
  });

  it('exports every attention of a spec with several', async () => {
    const two = join(scratch, 'two.attn');
    writeFileSync(
      two,
      'attention first { heads: 1; head_dim: 8; }\nattention second_one { heads: 2; head_dim: 8; mask: causal; }\n',
    );
    writeFileSync(
      join(scratch, 'two.ts'),
      "export { createFirst, createSecondOne, firstModule, secondOneModule } from './two.attn';\n",
    );
    const result = await buildWithEsbuild(join(scratch, 'two.ts'));
    expect(result.errors).toEqual([]);
    const declarations = readFileSync(join(scratch, 'two.d.attn.ts'), 'utf8');
    expect(declarations).toContain(
      'export declare function createSecondOne(device: GPUDevice): SecondOneKernel;',
    );
    expect(declarations).not.toContain('export declare const plan');
  });
});

describe('the Vite plugin', () => {
  it('builds the app', async () => {
    const output = await viteBuild({
      root: app,
      logLevel: 'silent',
      plugins: [attncVite()],
      build: { outDir: mkdtempSync(join(scratch, 'vite-')), write: false },
    });
    const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) =>
      'output' in o ? o.output : [],
    );
    const code = chunks.map((c) => ('code' in c ? c.code : '')).join('\n');
    expect(code).toContain('longformer.softmax');
    expect(code).toContain('@compute');
    expect(code).not.toMatch(/chevrotain/i);
  }, 120_000);

  it('fails the build on a spec error, with the location Vite shows in its overlay', async () => {
    const dir = mkdtempSync(join(scratch, 'vite-bad-'));
    cpSync(app, dir, { recursive: true });
    writeFileSync(
      join(dir, 'models/longformer.attn'),
      'attention longformer {\n  heads: 2\n  head_dim: 16\n  mask: windw(8)\n}\n',
    );
    const failure = await viteBuild({
      root: dir,
      logLevel: 'silent',
      plugins: [attncVite()],
      build: { write: false },
    }).then(
      () => null,
      (e: ViteError & { errors?: ViteError[] }) => e,
    );
    expect(failure).not.toBeNull();
    // Vite 8 (rolldown) gathers the plugin errors under `errors`; the overlay shows each.
    const error = failure!.errors?.[0] ?? failure!;
    expect(error!.message).toMatch(/error\[E\d{3}\]: .*windw/);
    expect(error!.loc).toEqual({ file: join(dir, 'models/longformer.attn'), line: 4, column: 8 });
    expect(error!.frame).toContain('4 |   mask: windw(8)');
  }, 120_000);
});

describe('the other bundlers', () => {
  it('have a plugin each', () => {
    expect(attncRollup()).toMatchObject({ name: 'attnc' });
    expect(typeof attncWebpack().apply).toBe('function');
    expect(() => attncVite({ target: 'warp-drive' })).toThrow(
      /unknown target 'warp-drive'; targets are: portable, /,
    );
  });
});

describe('TypeScript', () => {
  it('accepts the app and rejects misuse, given the declarations the plugin writes', async () => {
    await buildWithEsbuild(join(app, 'main.ts'));
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const run = () =>
      execFileSync(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], {
        cwd: app,
        encoding: 'utf8',
      });
    expect(run).not.toThrow();
  }, 120_000);
});
