// The runtime in a real browser: Debian's headless Chromium with WebGPU on its bundled
// SwiftShader (flags from shared/notes/webgpu-without-a-gpu.md). The page bundles the public
// API (esbuild, platform browser), passes its own `navigator.gpu` device to
// `createRuntime({ device })`, compiles specs for that device's profile and for `portable`,
// and runs them; every output is compared here with the CPU reference. In CI this never
// skips; elsewhere it skips when /usr/bin/chromium is missing.

import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, reference } from '../../src/index.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import type { PageRunRequest, PageRunResult } from './browser-page.js';
import { inCI } from './gpu-availability.js';

const CHROMIUM = '/usr/bin/chromium';
const available = inCI || existsSync(CHROMIUM);
if (!available) console.warn(`skipping browser runtime tests (outside CI): no ${CHROMIUM}`);

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

const CASES: readonly { readonly name: string; readonly spec: string; readonly n: number }[] = [
  {
    name: 'window | global, causal (softmax, block-sparse)',
    spec: 'attention a { heads: 2; head_dim: 16; mask: (window(8) | global(first: 2)) & causal; }',
    n: 77,
  },
  {
    name: 'GQA with softcap and alibi',
    spec: 'attention a { heads: 4; kv_heads: 2; head_dim: 8; softcap: 30; bias: alibi; }',
    n: 40,
  },
  {
    name: 'kernelized elu1, causal',
    spec: 'attention a { heads: 2; head_dim: 8; kernel: elu1; mask: causal; }',
    n: 70,
  },
  {
    name: 'topk routing | window',
    spec: 'attention a { heads: 1; head_dim: 8; mask: window(4) | topk(2, block: 16); }',
    n: 65,
  },
];

describe.skipIf(!available)('the runtime in headless Chromium (WebGPU on SwiftShader)', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const entry = fileURLToPath(new URL('./browser-page.ts', import.meta.url));
    const bundle = await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      // Reached only on the Node path (dynamic imports in src/runtime/node-adapters.ts).
      external: ['webgpu', 'node:*'],
      logLevel: 'silent',
    });
    const script = bundle.outputFiles[0]!.text;
    server = createServer((request, response) => {
      if (request.url === '/page.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' });
        response.end(script);
      } else {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end('<!doctype html><script type="module" src="/page.js"></script>');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // localhost is a secure context, which navigator.gpu requires.
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => 'attncPage' in globalThis, undefined, { timeout: 30_000 });
    expect(errors).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    await page?.evaluate(() => (globalThis as any).attncPage.destroy()).catch(() => {});
    await browser?.close();
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  async function runInPage(request: PageRunRequest): Promise<PageRunResult> {
    return page.evaluate((r) => (globalThis as any).attncPage.run(r), request);
  }

  for (const c of CASES) {
    for (const target of ['device', 'portable'] as const) {
      it(`${c.name}, compiled for ${target}`, async () => {
        const compiled = compile(c.spec);
        expect(compiled.diagnostics).toEqual([]);
        const module = compiled.modules[0]!;
        const inputs = randomInputs(module, { batch: 1, seqQ: c.n, seqK: c.n, seed: 5 });
        const plain: Record<string, number[] | number> = {};
        for (const [name, value] of Object.entries(inputs)) {
          if (value === undefined) continue;
          plain[name] = typeof value === 'number' ? value : Array.from(value as ArrayLike<number>);
        }
        const result = await runInPage({ spec: c.spec, target, inputs: plain });
        expect(result.kind).toBe('external');
        // SwiftShader is a CPU emulator: the device's own profile picks the rowwise shape.
        expect(result.runtimeProfile.cpuLike).toBe(true);
        expect(result.profile).toBe(target === 'device' ? result.runtimeProfile.name : 'portable');
        const expected = reference(module, inputs).o;
        expect(result.o.length).toBe(expected.length);
        let maxError = 0;
        for (let i = 0; i < expected.length; i++)
          maxError = Math.max(maxError, Math.abs(result.o[i]! - expected[i]!));
        expect(maxError).toBeLessThan(1e-4);
      }, 60_000);
    }
  }

  it('reports a wrong input shape in the page as a clear error', async () => {
    const spec = CASES[0]!.spec;
    const module = compile(spec).modules[0]!;
    const inputs = randomInputs(module, { batch: 1, seqQ: 16, seqK: 16, seed: 1 });
    const request: PageRunRequest = {
      spec,
      target: 'device',
      inputs: {
        q: Array.from(inputs.q).slice(1),
        k: Array.from(inputs.k),
        v: Array.from(inputs.v),
      },
    };
    await expect(runInPage(request)).rejects.toThrow(/\bq\b/);
  });
});
