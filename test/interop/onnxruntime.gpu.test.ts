// Interop with onnxruntime-web's WebGPU execution provider on one device (llvmpipe): an ONNX
// graph (three MatMuls, built in memory by onnx-model.ts) computes q, k and v from x and keeps
// them on the GPU (`preferredOutputLocation: 'gpu-buffer'`); attnc runs on ORT's output
// buffers as device tensors and writes o into its own buffer; a second graph takes that buffer
// as an input (`ort.Tensor.fromGpuBuffer`) and projects it. Compared with the CPU reference
// (attention) and a host matmul (the projection).
//
// ORT's Node setup (WebGPU bundle by path, --liftoff-only, writeBuffer of shared memory) is
// bench/peers/ort.ts, shared with the bench's ORT peer. MatMul shaders compile in about a second on llvmpipe; ORT's own
// attention ops (not used here) take about 95 s of CPU the first time.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allAdapterLimits, installNavigatorGpu } from '../../bench/peers/navigator-gpu.js';
import { matMulModel } from '../../bench/peers/onnx-model.js';
import { loadOrt, type LoadedOrt, type Ort } from '../../bench/peers/ort.js';
import { compareOutput } from '../../src/api/compare-output.js';
import { compile } from '../../src/api/compile.js';
import { reference } from '../../src/api/reference.js';
import { createRuntime, type Runtime } from '../../src/api/runtime.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';
import { matMul, wave } from './host-math.js';

const availability = await adapterAvailability('llvmpipe');

describe.skipIf(!availability.run)('onnxruntime-web (WebGPU EP) and attnc share a device', () => {
  let ort: Ort;
  let loaded: LoadedOrt | undefined;
  let device: GPUDevice;
  let runtime: Runtime;
  beforeAll(async () => {
    const adapter = await installNavigatorGpu();
    // ORT asks for the adapter's limits; the device is requested with all of them.
    device = await adapter.requestDevice({ requiredLimits: allAdapterLimits(adapter) });
    loaded = await loadOrt();
    ort = loaded.ort;
    runtime = await createRuntime({ device });
  }, 300_000);
  afterAll(() => {
    loaded?.restore();
    runtime?.destroy();
  });

  it('q, k, v from an ONNX graph in, o out as an ORT GPU-buffer input, equal to the reference', async () => {
    const [B, N, C, H, D] = [2, 32, 16, 2, 16];
    const spec = `attention interop { heads: ${H}; head_dim: ${D}; layout: bnhd; causal: true }`;
    const module = compile(spec, { target: runtime.profile }).modules[0]!;
    const attention = await runtime.load(module);
    const options = { executionProviders: [{ name: 'webgpu', device }] };

    // [B, N, C] x [C, H*D] is [B, N, H, D] in memory: the spec's bnhd layout.
    const qkv = await ort.InferenceSession.create(
      matMulModel(
        ['q', 'k', 'v'].map((name) => ({ a: 'x', b: `w${name}`, out: name })),
        [
          { name: 'x', dims: [B, N, C] },
          ...['wq', 'wk', 'wv'].map((name) => ({ name, dims: [C, H * D] })),
        ],
        ['q', 'k', 'v'].map((name) => ({ name, dims: [B, N, H * D] })),
      ),
      { ...options, preferredOutputLocation: 'gpu-buffer' },
    );
    const project = await ort.InferenceSession.create(
      matMulModel(
        [{ a: 'o', b: 'wo', out: 'y' }],
        [
          { name: 'o', dims: [B, N, H * D] },
          { name: 'wo', dims: [H * D, C] },
        ],
        [{ name: 'y', dims: [B, N, C] }],
      ),
      options,
    );
    const x = wave(B * N * C, 0);
    const wo = wave(H * D * C, 4, 0.3);
    const { q, k, v } = await qkv.run({
      x: new ort.Tensor('float32', x, [B, N, C]),
      wq: new ort.Tensor('float32', wave(C * H * D, 1, 0.3), [C, H * D]),
      wk: new ort.Tensor('float32', wave(C * H * D, 2, 0.3), [C, H * D]),
      wv: new ort.Tensor('float32', wave(C * H * D, 3, 0.3), [C, H * D]),
    });
    for (const t of [q!, k!, v!]) expect(t.location).toBe('gpu-buffer');

    const oBuffer = device.createBuffer({
      size: B * N * H * D * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const shape = [B, N, H, D];
    await attention.runOnDevice({
      q: { buffer: q!.gpuBuffer, dtype: 'f32', shape },
      k: { buffer: k!.gpuBuffer, dtype: 'f32', shape },
      v: { buffer: v!.gpuBuffer, dtype: 'f32', shape },
      o: { buffer: oBuffer, dtype: 'f32' },
    });
    const { y } = await project.run({
      o: ort.Tensor.fromGpuBuffer(oBuffer, { dataType: 'float32', dims: [B, N, H * D] }),
      wo: new ort.Tensor('float32', wo, [H * D, C]),
    });

    const expected = reference(module, {
      q: await q!.getData(),
      k: await k!.getData(),
      v: await v!.getData(),
      batch: B,
      seqQ: N,
      seqK: N,
    }).o;
    const projected = matMul(expected, wo, B * N, H * D, C);
    expect(compareOutput(await y!.getData(), projected).relativeError).toBeLessThan(1e-4);

    for (const t of [q!, k!, v!, y!]) t.dispose();
    await qkv.release();
    await project.release();
    oBuffer.destroy();
    attention.destroy();
  }, 300_000);
});
