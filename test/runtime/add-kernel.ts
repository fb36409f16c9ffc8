// A tiny compute kernel (out = a + b) to prove a device really runs WGSL and reads back.

export interface AddResult {
  readonly ok: boolean;
  readonly firstMismatch?: number;
}

const ADD_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i < arrayLength(&out)) {
    out[i] = a[i] + b[i];
  }
}
`;

export async function runAddKernel(device: GPUDevice, count: number): Promise<AddResult> {
  const a = Float32Array.from({ length: count }, (_, i) => i * 0.5);
  const b = Float32Array.from({ length: count }, (_, i) => 1000 - i);
  const bytes = count * 4;
  const input = (data: Float32Array): GPUBuffer => {
    const buffer = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const aBuf = input(a);
  const bBuf = input(b);
  const outBuf = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const readback = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  device.pushErrorScope('validation');
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: ADD_WGSL }), entryPoint: 'main' },
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [aBuf, bBuf, outBuf].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.ceil(count / 64));
  pass.end();
  encoder.copyBufferToBuffer(outBuf, 0, readback, 0, bytes);
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  if (error) throw new Error(`add kernel: ${error.message}`);
  await readback.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(readback.getMappedRange().slice(0));
  readback.unmap();
  for (const buffer of [aBuf, bBuf, outBuf, readback]) buffer.destroy();
  const mismatch = out.findIndex((x, i) => x !== a[i]! + b[i]!);
  return mismatch < 0 ? { ok: true } : { ok: false, firstMismatch: mismatch };
}
