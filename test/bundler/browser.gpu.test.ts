// The fixture app (test/bundler/fixtures/app), which imports a spec, built by Vite and by
// esbuild with the attnc plugin and run in headless Chromium with WebGPU on SwiftShader (as
// test/runtime/browser.gpu.test.ts drives it): every output is compared with the CPU
// reference. Vite's dev server reloads the page when the spec changes. In CI this never
// skips; elsewhere it skips when /usr/bin/chromium is missing.

import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build as viteBuild, createServer as createViteServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import attncEsbuild from '../../src/bundler/esbuild.js';
import attncVite from '../../src/bundler/vite.js';
import { ensureDist, root } from '../package/dist.js';
import { inCI } from '../runtime/gpu-availability.js';

const CHROMIUM = '/usr/bin/chromium';
const available = inCI || existsSync(CHROMIUM);
if (!available) console.warn(`skipping bundler browser tests (outside CI): no ${CHROMIUM}`);

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-unsafe-swiftshader',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

const app = join(root, 'test/bundler/fixtures/app');
const scratch = mkdtempSync(join(root, 'test/bundler/fixtures/scratch-'));
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
};

/** Serves a built app's directory on localhost (a secure context, which WebGPU needs). */
async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const path = join(dir, request.url === '/' ? 'index.html' : request.url!.replace(/\?.*$/, ''));
    if (!path.startsWith(dir) || !existsSync(path)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'text/plain' });
    response.end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

async function buildVite(): Promise<string> {
  const outDir = mkdtempSync(join(scratch, 'vite-'));
  await viteBuild({ root: app, logLevel: 'silent', plugins: [attncVite()], build: { outDir } });
  return outDir;
}

async function buildEsbuild(): Promise<string> {
  const outDir = mkdtempSync(join(scratch, 'esbuild-'));
  await esbuild.build({
    entryPoints: [join(app, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    outdir: outDir,
    logLevel: 'silent',
    plugins: [attncEsbuild()],
  });
  writeFileSync(
    join(outDir, 'index.html'),
    '<!doctype html><script type="module" src="/main.js"></script>',
  );
  return outDir;
}

async function openApp(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  await page.waitForFunction(() => 'attncApp' in globalThis, undefined, { timeout: 60_000 });
  expect(errors).toEqual([]);
  return page;
}

describe.skipIf(!available)('the fixture app in headless Chromium', () => {
  let browser: Browser;
  const servers: Server[] = [];

  beforeAll(async () => {
    await ensureDist();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    rmSync(scratch, { recursive: true, force: true });
  });

  const spec = readFileSync(join(app, 'models/longformer.attn'), 'utf8');
  const module = compile(spec).modules[0]!;

  for (const [bundler, build] of [
    ['Vite', buildVite],
    ['esbuild', buildEsbuild],
  ] as const) {
    it(`built by ${bundler}, matches the CPU reference`, async () => {
      const { server, url } = await serve(await build());
      servers.push(server);
      const page = await openApp(browser, url);
      for (const n of [37, 80]) {
        const inputs = randomInputs(module, { batch: 1, seqQ: n, seqK: n, seed: n });
        const o = await page.evaluate((i) => (globalThis as any).attncApp.run(i), {
          q: Array.from(inputs.q),
          k: Array.from(inputs.k),
          v: Array.from(inputs.v),
        });
        const expected = reference(module, inputs).o;
        expect(o.length).toBe(expected.length);
        let maxError = 0;
        for (let i = 0; i < o.length; i++)
          maxError = Math.max(maxError, Math.abs(o[i] - expected[i]!));
        expect(maxError).toBeLessThan(1e-4);
      }
      await page.close();
    }, 180_000);
  }

  it("reloads in Vite's dev server when the spec changes", async () => {
    const dir = mkdtempSync(join(scratch, 'dev-'));
    cpSync(app, dir, { recursive: true });
    const server = await createViteServer({
      root: dir,
      logLevel: 'silent',
      plugins: [attncVite()],
      server: { port: 0, host: '127.0.0.1' },
    });
    await server.listen();
    try {
      const url = server.resolvedUrls!.local[0]!;
      const page = await openApp(browser, url);
      expect(await page.evaluate(() => (globalThis as any).attncApp.heads)).toBe(2);
      const reloaded = page.waitForEvent('load', { timeout: 60_000 });
      const specPath = join(dir, 'models/longformer.attn');
      writeFileSync(specPath, readFileSync(specPath, 'utf8').replace('heads: 2', 'heads: 3'));
      await reloaded;
      await page.waitForFunction(() => (globalThis as any).attncApp?.heads === 3, undefined, {
        timeout: 60_000,
      });
      await page.close();
    } finally {
      await server.close();
    }
  }, 180_000);
});
