// Interop with @tensorflow/tfjs-backend-webgpu on one device (llvmpipe): tfjs computes q, k
// and v with matmuls, hands them over as GPU buffers (`tensor.dataToGPU()`), attnc runs on
// them as device tensors on tfjs's own device (`createRuntime({ device: backend.device })`),
// and tfjs wraps attnc's output buffer as a tensor (`tf.tensor({ buffer, zeroCopy }, ...)`)
// for its next matmul. No host round trip in between; the results are compared with the CPU
// reference (attention) and a host matmul (the projection after it).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installNavigatorGpu } from '../../bench/peers/navigator-gpu.js';
import { compareOutput } from '../../src/api/compare-output.js';
import { compile } from '../../src/api/compile.js';
import { reference } from '../../src/api/reference.js';
import { createRuntime, type Runtime } from '../../src/api/runtime.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';
import { matMul, wave } from './host-math.js';

const availability = await adapterAvailability('llvmpipe');

type Tf = typeof import('@tensorflow/tfjs-core');

describe.skipIf(!availability.run)('tfjs-webgpu and attnc share a device', () => {
  let tf: Tf;
  let device: GPUDevice;
  let runtime: Runtime;
  beforeAll(async () => {
    await installNavigatorGpu();
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    expect(await tf.setBackend('webgpu')).toBe(true);
    await tf.ready();
    device = (tf.backend() as unknown as { device: GPUDevice }).device;
    runtime = await createRuntime({ device });
  }, 120_000);
  afterAll(() => {
    runtime?.destroy();
    tf?.engine().reset();
  });

  it('q, k, v from tfjs matmuls in, o out as a tfjs tensor, equal to the reference', async () => {
    expect(runtime.kind).toBe('external');
    expect(runtime.device).toBe(device);
    const [B, N, C, H, Hkv, D] = [2, 40, 24, 4, 2, 16];
    const spec = `attention interop { heads: ${H}; kv_heads: ${Hkv}; head_dim: ${D}; layout: bnhd; causal: true; mask: window(left: 16, right: 0) | global(first: 2) }`;
    const module = compile(spec, { target: runtime.profile }).modules[0]!;
    const attention = await runtime.load(module);

    // [B*N, C] x [C, heads*D] is [B, N, heads, D] in memory: the spec's bnhd layout.
    const x = tf.tensor2d(wave(B * N * C, 0), [B * N, C]);
    const wq = tf.tensor2d(wave(C * H * D, 1, 0.3), [C, H * D]);
    const wk = tf.tensor2d(wave(C * Hkv * D, 2, 0.3), [C, Hkv * D]);
    const wv = tf.tensor2d(wave(C * Hkv * D, 3, 0.3), [C, Hkv * D]);
    const wo = tf.tensor2d(wave(H * D * C, 4, 0.3), [H * D, C]);
    const [q, k, v] = [tf.matMul(x, wq), tf.matMul(x, wk), tf.matMul(x, wv)];
    const [gq, gk, gv] = [q.dataToGPU(), k.dataToGPU(), v.dataToGPU()];
    const bufferOf = (g: typeof gq): GPUBuffer => {
      if (!g.buffer) throw new Error('dataToGPU() gave no GPU buffer');
      return g.buffer;
    };
    const oBuffer = device.createBuffer({
      size: B * N * H * D * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    await attention.runOnDevice({
      q: { buffer: bufferOf(gq), dtype: 'f32', shape: [B, N, H, D] },
      k: { buffer: bufferOf(gk), dtype: 'f32', shape: [B, N, Hkv, D] },
      v: { buffer: bufferOf(gv), dtype: 'f32', shape: [B, N, Hkv, D] },
      o: { buffer: oBuffer, dtype: 'f32' },
    });
    const o = tf.tensor({ buffer: oBuffer, zeroCopy: true }, [B * N, H * D], 'float32');
    const y = tf.matMul(o, wo);

    const hostQ = (await q.data()) as Float32Array;
    const hostK = (await k.data()) as Float32Array;
    const hostV = (await v.data()) as Float32Array;
    const expected = reference(module, {
      q: hostQ,
      k: hostK,
      v: hostV,
      batch: B,
      seqQ: N,
      seqK: N,
    }).o;
    const actual = (await o.data()) as Float32Array;
    expect(compareOutput(actual, expected).relativeError).toBeLessThan(1e-4);
    const projected = matMul(expected, (await wo.data()) as Float32Array, B * N, H * D, C);
    expect(compareOutput((await y.data()) as Float32Array, projected).relativeError).toBeLessThan(
      1e-4,
    );

    for (const g of [gq, gk, gv]) g.tensorRef.dispose();
    tf.dispose([x, wq, wk, wv, wo, q, k, v, o, y]);
    oBuffer.destroy();
    attention.destroy();
  });
});
