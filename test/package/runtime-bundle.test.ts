// The runtime entry in a browser bundle, built with esbuild from the package as a user's app
// sees it (dist/, its export map and browser field, no flags): a minimal app that runs a
// generated module bundles none of the compiler, chevrotain included, while the same app
// compiling at run time bundles it all. The sizes are printed for the README.

import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureDist, root } from './dist.js';

interface Bundle {
  readonly minified: number;
  readonly gzipped: number;
  readonly inputs: readonly string[];
}

async function bundle(app: string): Promise<Bundle> {
  const result = await build({
    entryPoints: [`${root}test/package/fixtures/${app}.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  return {
    minified: code.length,
    gzipped: gzipSync(code, { level: 9 }).length,
    inputs: Object.keys((result.metafile as Metafile).inputs),
  };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

describe('a browser bundle of attnc/runtime', () => {
  let runtimeApp: Bundle;
  let compilerApp: Bundle;
  beforeAll(async () => {
    await ensureDist();
    runtimeApp = await bundle('runtime-app');
    compilerApp = await bundle('compiler-app');
    console.log(
      `minimal app, esbuild --minify, gzip -9: runtime only ${kb(runtimeApp.minified)} (${kb(runtimeApp.gzipped)} gzipped); ` +
        `with the compiler ${kb(compilerApp.minified)} (${kb(compilerApp.gzipped)} gzipped)`,
    );
  }, 180_000);

  it('holds no chevrotain and nothing of the compiler', () => {
    expect(runtimeApp.inputs.filter((p) => p.includes('chevrotain'))).toEqual([]);
    const compilerParts = /dist\/(syntax|check|lower|passes|frontend|codegen\/(wgsl|compile))/;
    expect(runtimeApp.inputs.filter((p) => compilerParts.test(p))).toEqual([]);
    // Nor the Node adapter finder (dawn.node), replaced through the browser field.
    expect(runtimeApp.inputs.filter((p) => p.includes('node-adapters'))).toEqual([
      '(disabled):dist/runtime/node-adapters.js',
    ]);
    expect(runtimeApp.inputs).toContain('dist/runtime/loaded-kernel.js');
  });

  it('is a fraction of the app that compiles at run time, which does hold chevrotain', () => {
    expect(compilerApp.inputs.some((p) => p.includes('node_modules/chevrotain'))).toBe(true);
    expect(runtimeApp.gzipped * 4).toBeLessThan(compilerApp.gzipped);
    // The runtime with a plan inline (device-error scopes, device tensors, plan validation and
    // the KV cache with its recurrent-state, projected-row, per-group and routed side-table
    // stores included: 33.5 KB gzipped); a budget that catches a compiler creeping back in
    // (chevrotain alone is several times that).
    expect(runtimeApp.gzipped).toBeLessThan(36 * 1024);
  });
});
