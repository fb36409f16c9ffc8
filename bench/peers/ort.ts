// onnxruntime-web's WebGPU execution provider in Node, set up once per process (the interop
// test and the bench's ORT peer both use it). Three things Node needs that a browser does
// not (measured on llvmpipe, Node 20, onnxruntime-web 1.30):
// - `import 'onnxruntime-web'` resolves to a build without WebGPU, so the WebGPU bundle is
//   imported by path;
// - V8 tiers ORT's 26 MB wasm up on background threads and no WebGPU promise resolves until
//   that ends (minutes on two cores), hence `--liftoff-only` before the import;
// - ORT's wasm heap is a SharedArrayBuffer, which dawn.node's `queue.writeBuffer` rejects
//   ("Invalid argument"), so writeBuffer copies such views first (undone by `restore`).

import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ORT_DIST = fileURLToPath(
  new URL('../../node_modules/onnxruntime-web/dist/', import.meta.url),
);
const ORT_WEBGPU_BUNDLE = `${ORT_DIST}ort.webgpu.bundle.min.mjs`;

/** The parts of onnxruntime-web's API used here (the bundle has no types of its own). */
export interface OrtTensor {
  readonly location: string;
  readonly gpuBuffer: GPUBuffer;
  readonly dims: readonly number[];
  getData(): Promise<Float32Array>;
  dispose(): void;
}
export interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
export interface Ort {
  env: { wasm: { wasmPaths: string; numThreads: number } };
  Tensor: {
    new (type: 'float32', data: Float32Array, dims: readonly number[]): OrtTensor;
    new (type: 'int32', data: Int32Array, dims: readonly number[]): OrtTensor;
    fromGpuBuffer(
      buffer: GPUBuffer,
      options: { dataType: 'float32'; dims: readonly number[] },
    ): OrtTensor;
  };
  InferenceSession: {
    create(model: Uint8Array, options: object): Promise<OrtSession>;
  };
}

export interface LoadedOrt {
  readonly ort: Ort;
  /** Puts GPUQueue.prototype.writeBuffer back as it was. */
  restore(): void;
}

/** Why ORT cannot be loaded here, or undefined when its WebGPU bundle is installed. */
export function ortMissing(): string | undefined {
  return existsSync(ORT_WEBGPU_BUNDLE)
    ? undefined
    : `onnxruntime-web is not installed (no ${ORT_WEBGPU_BUNDLE}); it is a devDependency: npm ci`;
}

type WriteBuffer = GPUQueue['writeBuffer'];
type WriteData = Parameters<WriteBuffer>[2];

/**
 * The same data outside a SharedArrayBuffer: a typed array's `slice()` copies into a new
 * ArrayBuffer of the same element type, so dataOffset and size (in elements) still apply.
 */
function unshared(data: WriteData): WriteData {
  if (data instanceof SharedArrayBuffer) return new Uint8Array(data).slice().buffer;
  if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
    if (data instanceof DataView) {
      return new DataView(
        new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer,
      );
    }
    return (data as unknown as { slice(): WriteData }).slice();
  }
  return data;
}

/** Imports ORT's WebGPU bundle with the Node fixes above (call after GPUQueue exists). */
export async function loadOrt(): Promise<LoadedOrt> {
  const missing = ortMissing();
  if (missing !== undefined) throw new Error(missing);
  setFlagsFromString('--liftoff-only');
  const writeBuffer = GPUQueue.prototype.writeBuffer;
  GPUQueue.prototype.writeBuffer = function (this: GPUQueue, buffer, offset, data, ...rest) {
    return writeBuffer.call(this, buffer, offset, unshared(data), ...rest);
  } as WriteBuffer;
  const ort = (await import(pathToFileURL(ORT_WEBGPU_BUNDLE).href)) as Ort;
  ort.env.wasm.wasmPaths = pathToFileURL(ORT_DIST).href;
  ort.env.wasm.numThreads = 1;
  return {
    ort,
    restore() {
      GPUQueue.prototype.writeBuffer = writeBuffer;
    },
  };
}
