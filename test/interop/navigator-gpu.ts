// Libraries that find WebGPU through `navigator.gpu` (tfjs-backend-webgpu, onnxruntime-web)
// get llvmpipe's adapter in Node this way: opened by the runtime's own Node adapter code
// (Dawn's OpenGL backend, compatibility mode; a plain core request returns null there), then
// handed out by a `navigator.gpu` whose requestAdapter always returns it.

import { openNodeAdapter } from '../../src/runtime/node-adapters.js';

export async function installNavigatorGpu(): Promise<GPUAdapter> {
  const opened = await openNodeAdapter('llvmpipe', async (adapter) => adapter);
  if (!opened.ok) throw new Error(`no llvmpipe adapter: ${opened.reason}`);
  const adapter = opened.opened.adapter;
  const gpu = {
    requestAdapter: async () => adapter,
    getPreferredCanvasFormat: () => 'rgba8unorm',
    wgslLanguageFeatures: new Set<string>(),
  };
  Object.defineProperty(globalThis, 'navigator', {
    value: { ...(globalThis as { navigator?: object }).navigator, gpu },
    configurable: true,
    writable: true,
  });
  return adapter;
}
