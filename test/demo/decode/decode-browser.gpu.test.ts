// The demo's decode loop in a real browser page: Debian's headless Chromium with WebGPU on its
// SwiftShader (the flags of test/runtime/browser.gpu.test.ts). The page bundles tfjs-webgpu,
// attnc and demo/decode (esbuild, platform browser), builds the model from (config, seed) and
// generates greedily; here the CPU model runs the same loop and every step's logits and the
// generated tokens are compared. Skips outside CI when /usr/bin/chromium is missing.

import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuDecoder } from '../../../demo/decode/cpu-model.js';
import type { DecodeModelConfig } from '../../../demo/decode/config.js';
import { runDecodeLoop, type DecodeModel } from '../../../demo/decode/decode-loop.js';
import { makeWeights } from '../../../demo/decode/weights.js';
import { inCI } from '../../runtime/gpu-availability.js';
import type { DecodePageRequest, DecodePageResult } from './page/decode-page.js';

const CHROMIUM = '/usr/bin/chromium';
const available = inCI || existsSync(CHROMIUM);
if (!available) console.warn(`skipping the decode page test (outside CI): no ${CHROMIUM}`);

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

// Two windowed layers (window 4, 2 sinks: passed many times over 14 positions) and a global one.
const CONFIG: DecodeModelConfig = {
  vocab: 256,
  dModel: 32,
  layers: 3,
  heads: 4,
  kvHeads: 2,
  headDim: 8,
  mlpHidden: 48,
  window: 4,
  sinks: 2,
  ropeTheta: 10000,
  normEpsilon: 1e-5,
};

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let error = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    error = Math.max(error, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return error / scale;
}

describe.skipIf(!available)('the decode loop in headless Chromium (WebGPU on SwiftShader)', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const entry = fileURLToPath(new URL('./page/decode-page.ts', import.meta.url));
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
    await page.waitForFunction(() => 'decodePage' in globalThis, undefined, { timeout: 60_000 });
    expect(errors).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  it('generates the tokens of the CPU model, with the same logits at every step', async () => {
    const request: DecodePageRequest = {
      config: CONFIG,
      seed: 11,
      prompt: [...new TextEncoder().encode('Decoding in a page. ')],
      context: 14,
      tokens: 5,
      chunk: 4,
    };
    const result: DecodePageResult = await page.evaluate(
      (r) => (globalThis as any).decodePage.decode(r),
      request,
    );
    expect(result.backend).toBe('external');
    // Ring caches for the windowed layers, smaller than the 18 positions decoded: they wrap.
    expect(result.caches.map((c) => c.kind)).toEqual(['ring', 'ring', 'contiguous']);
    expect(result.caches[0]!.rows).toBeLessThan(18);

    const cpu = new CpuDecoder(CONFIG, makeWeights(CONFIG, request.seed));
    const expectedLogits: Float64Array[] = [];
    const recording: DecodeModel = {
      get length() {
        return cpu.length;
      },
      prefill: (tokens) => cpu.prefill(tokens),
      async stepGreedy(tokens) {
        const logits = cpu.step(tokens);
        expectedLogits.push(logits);
        return [...logits].indexOf(Math.max(...logits));
      },
    };
    const expected = await runDecodeLoop(recording, {
      prompt: Uint8Array.from(request.prompt),
      context: request.context,
      tokens: request.tokens,
      chunk: request.chunk,
      probeSteps: 1,
    });
    expect(result.logits.length).toBe(expectedLogits.length);
    const errors = result.logits.map((logits, i) => relativeError(logits, expectedLogits[i]!));
    expect(Math.max(...errors), errors.join(', ')).toBeLessThan(1e-4);
    expect(result.generated).toEqual(expected.generated);
  }, 240_000);
});
