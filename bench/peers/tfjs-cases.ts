// tfjs-webgpu's attention as a tfjs user writes it, as bench cases on the bench's own device:
// softmax(q kᵀ · 1/√D [+ causal bias]) v with tf.matMul and tf.softmax inside tf.tidy. The
// causal bias (0 on and below the diagonal, -Infinity above) is built once per shape, as an
// app would keep it. tfjs queues its dispatches and submits in batches, so each run ends by
// submitting the rest as tfjs does before a read-back, and the harness's onSubmittedWorkDone()
// waits for it all.

import { randomMatrix } from '../baseline.js';
import type { BenchCase, CaseFactory } from '../harness.js';
import { causalDensity } from '../attnc-cases.js';
import { checkRows, keyRange } from '../reference-rows.js';
import { verifyBeforeTiming } from './peer-check.js';

/**
 * The parts of tfjs used here, typed locally: tfjs-core's own declarations pull in an older
 * @webgpu/types (0.1.38, nested in its node_modules) whose GPUFeatureName lacks 'subgroups',
 * and would replace the project's WebGPU types wherever they load first.
 */
interface Tensor {
  dispose(): void;
  data(): Promise<Float32Array | Int32Array | Uint8Array>;
}
export interface Tf {
  tensor2d(values: Float32Array, shape: [number, number]): Tensor;
  matMul(a: Tensor, b: Tensor, transposeA?: boolean, transposeB?: boolean): Tensor;
  mul(a: Tensor, b: number): Tensor;
  add(a: Tensor, b: Tensor): Tensor;
  softmax(logits: Tensor): Tensor;
  tidy(fn: () => Tensor): Tensor;
  dispose(tensors: Tensor[]): void;
  backend(): unknown;
  removeBackend(name: string): void;
  registerBackend(name: string, factory: () => unknown): boolean;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
}
interface TfjsWebGpu {
  WebGPUBackend: new (device: GPUDevice, adapterInfo?: GPUAdapterInfo) => unknown;
}

// Through variables, so TypeScript does not load the packages' declarations (see Tf).
const TFJS_CORE = '@tensorflow/tfjs-core';
const TFJS_WEBGPU = '@tensorflow/tfjs-backend-webgpu';

/**
 * Loads tfjs-core and its WebGPU backend and makes the backend run on `device` (the
 * backend's own factory would request a second device; kernels are registered under the
 * name 'webgpu', so the factory is replaced under that name). navigator.gpu must be
 * installed first: the backend checks for it when it loads.
 */
export async function loadTfjs(device: GPUDevice): Promise<Tf> {
  const tf = (await import(TFJS_CORE)) as Tf;
  const { WebGPUBackend } = (await import(TFJS_WEBGPU)) as TfjsWebGpu;
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, device.adapterInfo));
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its WebGPU backend');
  await tf.ready();
  return tf;
}

/** The backend's own methods that submit what tfjs has queued (public in its JS). */
interface TfjsWebGpuQueue {
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** -Infinity above the diagonal, 0 elsewhere: added to the scores, it makes them causal. */
function causalBias(n: number): Float32Array {
  const bias = new Float32Array(n * n);
  for (let row = 0; row < n; row++) bias.fill(-Infinity, row * n + row + 1, (row + 1) * n);
  return bias;
}

function tfjsFactory(tf: Tf, name: string, causal: boolean): CaseFactory {
  return {
    name,
    async create(device, { n, d }): Promise<BenchCase> {
      const inputs = {
        q: randomMatrix(n * d, 1),
        k: randomMatrix(n * d, 2),
        v: randomMatrix(n * d, 3),
        n,
        d,
      };
      const [q, k, v] = [inputs.q, inputs.k, inputs.v].map((x) => tf.tensor2d(x, [n, d]));
      const bias = causal ? tf.tensor2d(causalBias(n), [n, n]) : undefined;
      const scale = 1 / Math.sqrt(d);
      const backend = tf.backend() as unknown as TfjsWebGpuQueue;
      let output: Tensor | undefined;
      const benchCase: BenchCase = {
        name,
        density: causal ? causalDensity(n) : 1,
        n,
        d,
        heads: 1,
        run() {
          output?.dispose();
          output = tf.tidy(() => {
            const scores = tf.mul(tf.matMul(q!, k!, false, true), scale);
            return tf.matMul(tf.softmax(bias ? tf.add(scores, bias) : scores), v!);
          });
          // What tfjs itself does before a read-back: close the open pass, submit.
          backend.ensureCommandEncoderReady();
          backend.endComputePassEncoder();
          backend.submitQueue();
        },
        async check() {
          if (output === undefined) throw new Error(`${name}: check before any run`);
          const o = (await output.data()) as Float32Array;
          return checkRows(o, inputs, keyRange(n, { causal }));
        },
        destroy() {
          tf.dispose([q!, k!, v!, ...(bias ? [bias] : []), ...(output ? [output] : [])]);
          output = undefined;
        },
      };
      await verifyBeforeTiming(device, benchCase);
      return benchCase;
    },
  };
}

export function tfjsFactories(tf: Tf): CaseFactory[] {
  return [tfjsFactory(tf, 'tfjs-dense', false), tfjsFactory(tf, 'tfjs-causal', true)];
}
