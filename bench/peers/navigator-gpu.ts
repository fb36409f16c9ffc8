// Libraries that find WebGPU through `navigator.gpu` (tfjs-backend-webgpu, onnxruntime-web)
// get a Node adapter this way: opened by the runtime's own Node adapter code (on llvmpipe,
// Dawn's OpenGL backend in compatibility mode; a plain core request returns null there),
// then handed out by a `navigator.gpu` whose requestAdapter always returns it. Shared by the
// interop tests and the bench's peers.

import { openNodeAdapter } from '../../src/runtime/node-adapters.js';
import type { NodeAdapterKind } from '../../src/runtime/adapter-not-found.js';

export async function installNavigatorGpu(kind: NodeAdapterKind = 'llvmpipe'): Promise<GPUAdapter> {
  const opened = await openNodeAdapter(kind, async (adapter) => adapter);
  if (!opened.ok) throw new Error(`no ${kind} adapter: ${opened.reason}`);
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

/** Every numeric limit the adapter offers, for a device that ORT (which asks for them) accepts. */
export function allAdapterLimits(adapter: GPUAdapter): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const name in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[name];
    if (typeof value === 'number') limits[name] = value;
  }
  return limits;
}
