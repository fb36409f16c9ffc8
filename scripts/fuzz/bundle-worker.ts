// Builds the fuzz worker and its target into one ES module with esbuild, in a temporary
// folder. A worker then starts in a fraction of a second with plain `node` instead of
// compiling every TypeScript file on load, which matters because the pool restarts a
// worker after every hang, crash or memory kill.

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER_SOURCE = new URL('./worker.ts', import.meta.url);

export interface WorkerBundle {
  readonly file: string;
  dispose(): void;
}

/** `targetModule`: path of a module exporting `target` (the compiler's, or a test's). */
export async function bundleWorker(targetModule: string): Promise<WorkerBundle> {
  const dir = mkdtempSync(join(tmpdir(), 'attnc-fuzz-'));
  const file = join(dir, 'worker.mjs');
  const entry = [
    `import { target } from ${JSON.stringify(targetModule)};`,
    `import { startWorker } from ${JSON.stringify(fileURLToPath(WORKER_SOURCE))};`,
    'void startWorker(target);',
  ].join('\n');
  try {
    await build({
      stdin: {
        contents: entry,
        resolveDir: REPO_ROOT,
        loader: 'ts',
        sourcefile: 'fuzz-worker-entry.ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: file,
      conditions: ['attnc-source'],
      // The bundle lives in a temporary folder; modules that find files next to themselves
      // (inputs.ts reads examples/) must still see scripts/fuzz/.
      define: { 'import.meta.url': JSON.stringify(WORKER_SOURCE.href) },
      plugins: [nativePackage('webgpu')],
      sourcemap: 'inline',
      logLevel: 'silent',
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not build the fuzz worker: ${(error as Error).message}`);
  }
  return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Leaves a package with native code out of the bundle, imported by its absolute path. */
function nativePackage(name: string): Plugin {
  return {
    name: `external-${name}`,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${name}$`) }, () => ({
        path: pathToFileURL(createRequire(import.meta.url).resolve(name)).href,
        external: true,
      }));
    },
  };
}
