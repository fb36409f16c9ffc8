// The parts of tfjs the demo uses, typed locally (as bench/peers/tfjs-cases.ts does):
// tfjs-core's declarations pull in an older @webgpu/types (nested in its node_modules) whose
// GPUFeatureName lacks 'subgroups', and would replace the project's WebGPU types wherever
// they load first. The packages themselves are imported through variables for the same reason.

export interface Tensor {
  readonly shape: readonly number[];
  dispose(): void;
  data(): Promise<Float32Array | Int32Array | Uint8Array>;
  /** tfjs-webgpu: a copy of the tensor in a GPU buffer, kept alive until tensorRef is disposed. */
  dataToGPU(): { readonly buffer?: GPUBuffer; readonly tensorRef: Tensor };
}

export interface Tf {
  tensor1d(values: Float32Array | number[], dtype?: 'float32' | 'int32'): Tensor;
  tensor2d(values: Float32Array, shape: [number, number]): Tensor;
  /** tfjs-webgpu: wraps a GPU buffer; with zeroCopy, tfjs neither copies nor owns it. */
  tensor(
    data: { readonly buffer: GPUBuffer; readonly zeroCopy: boolean },
    shape: number[],
    dtype: 'float32',
  ): Tensor;
  gather(x: Tensor, indices: Tensor): Tensor;
  reshape(x: Tensor, shape: number[]): Tensor;
  slice(x: Tensor, begin: number[], size: number[]): Tensor;
  concat(tensors: Tensor[], axis: number): Tensor;
  matMul(a: Tensor, b: Tensor, transposeA?: boolean, transposeB?: boolean): Tensor;
  add(a: Tensor, b: Tensor | number): Tensor;
  sub(a: Tensor, b: Tensor): Tensor;
  mul(a: Tensor, b: Tensor): Tensor;
  sigmoid(x: Tensor): Tensor;
  square(x: Tensor): Tensor;
  rsqrt(x: Tensor): Tensor;
  mean(x: Tensor, axis: number, keepDims: boolean): Tensor;
  argMax(x: Tensor, axis: number): Tensor;
  tidy<T extends Tensor | Tensor[]>(fn: () => T): T;
  dispose(tensors: Tensor | Tensor[]): void;
  backend(): unknown;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  engine(): { reset(): void };
}

const TFJS_CORE = '@tensorflow/tfjs-core';
const TFJS_WEBGPU = '@tensorflow/tfjs-backend-webgpu';

/**
 * tfjs-core with its WebGPU backend registered and selected, on the adapter `navigator.gpu`
 * gives (Node: install one first, see node-tfjs.ts; a browser has its own).
 */
export async function loadTfjsWebGpu(): Promise<Tf> {
  const tf = (await import(TFJS_CORE)) as Tf;
  await import(TFJS_WEBGPU);
  if (!(await tf.setBackend('webgpu'))) {
    throw new Error('tfjs could not start its webgpu backend (no WebGPU adapter?)');
  }
  await tf.ready();
  return tf;
}

/** tfjs-webgpu's GPUDevice, which attnc's runtime must share. */
export function tfjsDevice(tf: Tf): GPUDevice {
  const device = (tf.backend() as { device?: GPUDevice }).device;
  if (!device) throw new Error("tfjs's backend has no GPUDevice: is it the webgpu backend?");
  return device;
}
