// The playground end to end in headless Chromium (WebGPU on SwiftShader, as
// test/runtime/browser.gpu.test.ts runs it): build it with Vite, serve the static files on
// 127.0.0.1, type a spec with an error and see the checker's diagnostic, fix it, look at the
// stages, run it on the page's WebGPU device and check the error against the reference. Each
// state is kept as a screenshot under test-artifacts/playground/.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSpec, encodeSpec } from '../../playground/src/share.js';
import { inCI } from '../runtime/gpu-availability.js';

const CHROMIUM = '/usr/bin/chromium';
const available = inCI || existsSync(CHROMIUM);
if (!available) console.warn(`skipping playground tests (outside CI): no ${CHROMIUM}`);

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

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = join(root, 'playground', 'dist');
const artifacts = join(root, 'test-artifacts', 'playground');

const BROKEN =
  'attention swa {\n  heads: 2\n  head_dim: 16\n  causal: true\n  mask: windw(left: 8, right: 0)\n}\n';
const FIXED = BROKEN.replace('windw', 'window');
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
};

describe.skipIf(!available)('the playground in headless Chromium', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let url: string;
  const errors: string[] = [];

  beforeAll(async () => {
    await build({ configFile: join(root, 'playground', 'vite.config.ts'), logLevel: 'silent' });
    server = createServer((request, response) => {
      const path = normalize(decodeURIComponent((request.url ?? '/').split(/[?#]/)[0]!));
      const file = join(dist, path === '/' ? 'index.html' : path);
      if (!file.startsWith(dist) || !existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      });
      response.end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    mkdirSync(artifacts, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(url);
    await page.waitForSelector('.cm-content', { timeout: 30_000 });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  async function setSpec(text: string): Promise<void> {
    await page.click('.cm-content');
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(text);
  }

  it('loads with the example, its picture and no problems', async () => {
    await page.waitForSelector('#diagnostics li.ok');
    expect(await page.textContent('#view')).toContain('density:');
    await page.screenshot({ path: join(artifacts, '1-loaded.png') });
    expect(errors).toEqual([]);
  });

  it('shows the checker diagnostic for a spec with an error, in the list and the editor', async () => {
    await setSpec(BROKEN);
    await page.waitForSelector('#diagnostics li.error', { timeout: 10_000 });
    expect(await page.textContent('#diagnostics')).toContain('windw');
    await page.waitForSelector('.cm-lintRange-error');
    expect(await page.textContent('.cm-lintRange-error')).toBe('windw');
    await page.screenshot({ path: join(artifacts, '2-diagnostic.png') });
  });

  it('clears it once fixed, and shows the IR, WGSL and plan stage by stage', async () => {
    await setSpec(FIXED);
    await page.waitForSelector('#diagnostics li.ok', { timeout: 10_000 });
    const tabs = await page.$$eval('#tabs button', (buttons) => buttons.map((b) => b.textContent));
    expect(tabs).toEqual(
      expect.arrayContaining(['mask & block plan', 'lower', 'plan-blocks', 'plan']),
    );
    await page.click('#tabs button:text-is("plan-blocks")');
    expect(await page.textContent('#view pre')).toContain('plan');
    const wgslTab = tabs.find((t) => t?.startsWith('wgsl: '))!;
    await page.click(`#tabs button:text-is("${wgslTab}")`);
    expect(await page.textContent('#view pre')).toContain('@compute');
    await page.screenshot({ path: join(artifacts, '3-wgsl.png') });
    await page.click('#tabs button:text-is("mask & block plan")');
    await page.screenshot({ path: join(artifacts, '4-picture.png') });
  });

  it('keeps the spec in the URL, and opens a shared link with it', async () => {
    await page.waitForFunction("location.hash.startsWith('#s=')");
    const hash = new URL(page.url()).hash;
    expect(await decodeSpec(hash)).toBe(FIXED);
    const shared = await browser.newPage();
    const spec = FIXED.replace('heads: 2', 'heads: 3');
    await shared.goto(url + '#' + (await encodeSpec(spec)));
    await shared.waitForSelector('.cm-content');
    expect(
      await shared.evaluate(() => (globalThis as any).attncPlayground.editor.state.doc.toString()),
    ).toBe(spec);
    await shared.close();
  });

  it('runs the spec on the page WebGPU device within 1e-4 of the reference', async () => {
    await page.fill('#seq', '96');
    await page.dispatchEvent('#seq', 'change');
    await page.click('#run');
    await page.waitForSelector('#run-result[data-state="done"], #run-result[data-state="failed"]', {
      timeout: 120_000,
    });
    await page.screenshot({ path: join(artifacts, '5-run.png') });
    expect(await page.getAttribute('#run-result', 'data-state')).toBe('done');
    const maxErrors = await page.$$eval('#run-result tr[data-max-error]', (rows) =>
      rows.map((r) => Number(r.getAttribute('data-max-error'))),
    );
    expect(maxErrors).toHaveLength(1);
    expect(maxErrors[0]).toBeLessThanOrEqual(1e-4);
    expect(await page.textContent('#run-result')).toContain('swa');
    expect(errors).toEqual([]);
  }, 180_000);
});
