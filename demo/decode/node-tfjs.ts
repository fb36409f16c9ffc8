// tfjs-webgpu and an attnc runtime on one device in Node: tfjs finds WebGPU through
// `navigator.gpu`, which is installed here with a Node adapter opened by attnc's own adapter
// code (bench/peers/navigator-gpu.ts; on llvmpipe in compatibility mode), and attnc takes
// tfjs's device. Shared by `npm run demo:decode` and the tests.

import { installNavigatorGpu } from '../../bench/peers/navigator-gpu.js';
import { createRuntime, type Runtime } from '../../src/api/runtime.js';
import type { NodeAdapterKind } from '../../src/runtime/adapter-not-found.js';
import { loadTfjsWebGpu, tfjsDevice, type Tf } from './tfjs-types.js';

export interface TfjsOnDevice {
  readonly tf: Tf;
  readonly runtime: Runtime;
  readonly adapterName: string;
  /** Destroys the attnc runtime and resets tfjs (which releases its buffers). */
  close(): void;
}

export async function openTfjsWithAttnc(kind: NodeAdapterKind): Promise<TfjsOnDevice> {
  const adapter = await installNavigatorGpu(kind);
  const tf = await loadTfjsWebGpu();
  const runtime = await createRuntime({ device: tfjsDevice(tf) });
  const info = adapter.info;
  return {
    tf,
    runtime,
    adapterName: `${info.device || info.description || info.vendor} (${kind})`,
    close() {
      runtime.destroy();
      tf.engine().reset();
    },
  };
}
