// The Rollup and webpack entries of the plugin build the fixture app's spec import (plain
// JavaScript, so neither needs a TypeScript loader): the bundle holds the compiled kernels
// and the runtime, no compiler; a spec error fails the build with its file and position.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { rollup } from 'rollup';
import webpack from 'webpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import attncRollup from '../../src/bundler/rollup.js';
import attncWebpack from '../../src/bundler/webpack.js';
import { ensureDist, root } from '../package/dist.js';

const app = join(root, 'test/bundler/fixtures/app');
const scratch = mkdtempSync(join(root, 'test/bundler/fixtures/scratch-'));

beforeAll(() => ensureDist(), 180_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function badCopy(): string {
  const dir = mkdtempSync(join(scratch, 'bad-'));
  cpSync(app, dir, { recursive: true });
  writeFileSync(
    join(dir, 'models/longformer.attn'),
    'attention longformer {\n  heads: 2\n  head_dim: 16\n  mask: windw(8)\n}\n',
  );
  return dir;
}

function expectBundle(code: string): void {
  expect(code).toContain('longformer.softmax');
  expect(code).toContain('@compute');
  expect(code).toContain('is not a valid attnc host plan'); // loadPlan's check: the runtime
  // chevrotain's parser classes and a compiler message (comments may name chevrotain).
  expect(code).not.toMatch(/CstParser|EmbeddedActionsParser|unknown mask primitive/);
}

describe('the Rollup plugin', () => {
  const build = async (dir: string) => {
    const bundle = await rollup({
      input: join(dir, 'plain.js'),
      plugins: [attncRollup(), nodeResolve({ browser: true })],
      onwarn: () => {},
    });
    const { output } = await bundle.generate({ format: 'es' });
    await bundle.close();
    return output.map((chunk) => ('code' in chunk ? chunk.code : '')).join('\n');
  };

  it('bundles the spec with the runtime and no compiler', async () => {
    expectBundle(await build(app));
  }, 120_000);

  it('fails on a spec error with its location', async () => {
    const dir = badCopy();
    const error = await build(dir).then(
      () => null,
      (e: { message: string; loc?: unknown }) => e,
    );
    expect(error?.message).toMatch(/error\[E201\]: unknown mask primitive `windw`/);
    expect(error?.loc).toEqual({ file: join(dir, 'models/longformer.attn'), line: 4, column: 8 });
  }, 120_000);
});

describe('the webpack plugin', () => {
  const build = (dir: string) =>
    new Promise<webpack.Stats>((resolve, reject) => {
      const outDir = mkdtempSync(join(scratch, 'webpack-'));
      webpack(
        {
          mode: 'production',
          target: 'web',
          context: dir,
          entry: join(dir, 'plain.js'),
          output: { path: outDir, filename: 'main.js' },
          plugins: [attncWebpack()],
          optimization: { minimize: false },
        },
        (error, stats) => (error || !stats ? reject(error) : resolve(stats)),
      );
    });

  it('bundles the spec with the runtime and no compiler', async () => {
    const stats = await build(app);
    expect(stats.toJson({ errors: true }).errors ?? []).toEqual([]);
    const outDir = stats.compilation.outputOptions.path!;
    expectBundle(readFileSync(join(outDir, 'main.js'), 'utf8'));
  }, 120_000);

  it('fails on a spec error, naming the file and position', async () => {
    const stats = await build(badCopy());
    const errors = stats.toJson({ errors: true }).errors ?? [];
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.map((e) => e.message).join('\n')).toMatch(
      /error\[E201\]: unknown mask primitive `windw` \(.*longformer\.attn:4:9\)/,
    );
  }, 120_000);
});
