// onnxruntime-web's own attention operators on its WebGPU execution provider, as bench cases
// on the bench's device: a one-node ONNX model built in memory, inputs and outputs kept on the
// GPU (`Tensor.fromGpuBuffer`, `preferredOutputLocation: 'gpu-buffer'`).
// - non-causal: com.microsoft MultiHeadAttention (ORT's WebGPU kernel rejects causal);
// - causal: com.microsoft GroupQueryAttention, which is always causal (a prompt: no past,
//   seqlens_k = N - 1, total_sequence_length = N); its run also writes present_key/value.
// Without subgroups (llvmpipe) ORT runs a shared-memory FlashAttention shader (64 queries per
// workgroup, 32 keys per step; GQA copies the KV cache first). Mesa compiles that shader for
// about 95 s of CPU the first time on a machine, then keeps it in ~/.cache/mesa_shader_cache.

import { randomMatrix } from '../baseline.js';
import type { BenchCase, CaseFactory } from '../harness.js';
import { causalDensity } from '../attnc-cases.js';
import { checkRows, keyRange } from '../reference-rows.js';
import { onnxModel } from './onnx-model.js';
import type { Ort, OrtTensor } from './ort.js';
import { verifyBeforeTiming } from './peer-check.js';

/** The one-node model: q, k, v [1, N, D] in, o [1, N, D] out (plus GQA's present k/v). */
function attentionModel(n: number, d: number, causal: boolean): Uint8Array {
  const qkv = ['query', 'key', 'value'].map((name) => ({ name, dims: [1, n, d] }));
  const output = { name: 'output', dims: [1, n, d] };
  if (!causal) {
    return onnxModel(
      [
        {
          opType: 'MultiHeadAttention',
          domain: 'com.microsoft',
          inputs: ['query', 'key', 'value'],
          outputs: ['output'],
          intAttributes: { num_heads: 1 },
        },
      ],
      qkv,
      [output],
    );
  }
  return onnxModel(
    [
      {
        opType: 'GroupQueryAttention',
        domain: 'com.microsoft',
        // query, key, value, past_key, past_value, seqlens_k, total_sequence_length
        inputs: ['query', 'key', 'value', '', '', 'seqlens_k', 'total_sequence_length'],
        outputs: ['output', 'present_key', 'present_value'],
        intAttributes: { num_heads: 1, kv_num_heads: 1 },
      },
    ],
    [
      ...qkv,
      { name: 'seqlens_k', dims: [1], type: 'int32' },
      { name: 'total_sequence_length', dims: [], type: 'int32' },
    ],
    [output, ...['present_key', 'present_value'].map((name) => ({ name, dims: [1, 1, n, d] }))],
  );
}

/** The progress line about ORT's first compile is printed once per process. */
let firstRunSaid = false;

function ortFactory(ort: Ort, name: string, causal: boolean): CaseFactory {
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
      const session = await ort.InferenceSession.create(attentionModel(n, d, causal), {
        executionProviders: [{ name: 'webgpu', device }],
        preferredOutputLocation: 'gpu-buffer',
      });
      const buffers = [inputs.q, inputs.k, inputs.v].map((data) => {
        const buffer = device.createBuffer({
          size: data.byteLength,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        });
        device.queue.writeBuffer(buffer, 0, data);
        return buffer;
      });
      const dims = [1, n, d];
      const feeds: Record<string, OrtTensor> = {
        query: ort.Tensor.fromGpuBuffer(buffers[0]!, { dataType: 'float32', dims }),
        key: ort.Tensor.fromGpuBuffer(buffers[1]!, { dataType: 'float32', dims }),
        value: ort.Tensor.fromGpuBuffer(buffers[2]!, { dataType: 'float32', dims }),
        ...(causal
          ? {
              seqlens_k: new ort.Tensor('int32', Int32Array.of(n - 1), [1]),
              total_sequence_length: new ort.Tensor('int32', Int32Array.of(n), []),
            }
          : {}),
      };
      let outputs: Record<string, OrtTensor> | undefined;
      const release = () => {
        for (const t of Object.values(outputs ?? {})) t.dispose();
        outputs = undefined;
      };
      const benchCase: BenchCase = {
        name,
        density: causal ? causalDensity(n) : 1,
        n,
        d,
        heads: 1,
        async run() {
          release();
          outputs = await session.run(feeds);
        },
        async check() {
          const o = outputs?.['output'];
          if (o === undefined) throw new Error(`${name}: check before any run`);
          if (o.location !== 'gpu-buffer') {
            throw new Error(`${name}: ORT left its output on '${o.location}', not the GPU`);
          }
          return checkRows(await o.getData(), inputs, keyRange(n, { causal }));
        },
        destroy() {
          release();
          session.release().catch((e: unknown) => console.error(`${name}: release: ${e}`));
          for (const buffer of buffers) buffer.destroy();
        },
      };
      if (!firstRunSaid) {
        firstRunSaid = true;
        console.log(
          `${name}: first run and check; on a machine whose Mesa cache lacks ORT's ` +
            'FlashAttention shader, compiling it takes about 95 s of CPU on llvmpipe',
        );
      }
      await verifyBeforeTiming(device, benchCase);
      return benchCase;
    },
  };
}

export function ortFactories(ort: Ort): CaseFactory[] {
  return [ortFactory(ort, 'ort-dense', false), ortFactory(ort, 'ort-causal', true)];
}
