// Pins a fact of Mesa's llvmpipe that makes kernels silently wrong (issue 8): gallivm gives
// each shader invocation one budget of 65,535 loop iterations (LP_MAX_TGSI_LOOP_ITERATIONS),
// shared by every loop it runs, nested or one after another; when it is spent, every loop
// exits at its next back edge, with no error. A loop whose trip count is a small constant is
// unrolled by Mesa and costs nothing; a loop unrolled by hand costs one iteration per pass.
// So splitting a long loop into an outer and an inner loop does not help: only less work per
// invocation, or more of it per iteration, does. docs/runtime.md, "llvmpipe's loop budget".

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { adapterAvailability } from './gpu-availability.js';

const llvmpipe = await adapterAvailability('llvmpipe');

/** Runs `body` (WGSL statements that set `count: u32`) in one invocation; returns count. */
async function runCounter(device: GPUDevice, body: string, n: number): Promise<number> {
  const code = [
    '@group(0) @binding(0) var<storage, read_write> out: array<u32>;',
    '@group(0) @binding(1) var<uniform> N: vec4<u32>;',
    '@compute @workgroup_size(1)',
    'fn main() {',
    '  var count = 0u;',
    '  let n = N.x;',
    body,
    '  out[0] = count;',
    '}',
  ].join('\n');
  const module = device.createShaderModule({ code });
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
  });
  const out = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const uniform = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(uniform, 0, new Uint32Array([n, 0, 0, 0]));
  const readBack = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: out } },
        { binding: 1, resource: { buffer: uniform } },
      ],
    }),
  );
  pass.dispatchWorkgroups(1);
  pass.end();
  encoder.copyBufferToBuffer(out, 0, readBack, 0, 16);
  device.queue.submit([encoder.finish()]);
  await readBack.mapAsync(GPUMapMode.READ);
  const count = new Uint32Array(readBack.getMappedRange().slice(0))[0]!;
  readBack.unmap();
  for (const b of [out, uniform, readBack]) b.destroy();
  return count;
}

describe.runIf(llvmpipe.run)('llvmpipe loop limit', () => {
  let acquired: AcquiredDevice;
  beforeAll(async () => {
    acquired = await acquireDevice({ adapter: 'llvmpipe' });
  });
  afterAll(() => acquired?.destroy());

  const loop = (n: string) => `  for (var i = 0u; i < ${n}; i++) { count++; }`;

  it('a loop of 70,000 iterations stops at 65,535, with no error', async () => {
    const device = acquired.device;
    expect(await runCounter(device, loop('n'), 65_535)).toBe(65_535);
    expect(await runCounter(device, loop('n'), 65_536)).toBe(65_535);
    expect(await runCounter(device, loop('n'), 70_000)).toBe(65_535);
    const bare = '  var i = 0u; loop { if (i >= n) { break; } count++; i++; }';
    expect(await runCounter(device, bare, 70_000)).toBe(65_535);
  });

  it('the budget is per invocation: loops in sequence and nested loops share it', async () => {
    const device = acquired.device;
    // 2 x 40,000 = 80,000 wanted; the second loop gets what the first left.
    expect(await runCounter(device, `${loop('n')}\n${loop('n')}`, 40_000)).toBe(65_534);
    // 300 x 300 = 90,000 wanted; outer and inner back edges both count.
    const nested = '  for (var a = 0u; a < n; a++) { for (var c = 0u; c < n; c++) { count++; } }';
    expect(await runCounter(device, nested, 300)).toBe(65_101);
  });

  it('a short constant loop is unrolled (free); a long one and its outer loop are not', async () => {
    const device = acquired.device;
    const inner = (trips: number) =>
      `  for (var a = 0u; a < n; a++) { for (var c = 0u; c < ${trips}u; c++) { count++; } }`;
    expect(await runCounter(device, inner(16), 5_000)).toBe(80_000);
    // 2,000 x 64 = 128,000 wanted: the 64-trip loop stays a loop and spends the budget.
    expect(await runCounter(device, inner(64), 2_000)).toBe(63_551);
  });

  it('a loop unrolled by hand pays once per pass: 4 steps per pass count to 200,000', async () => {
    const step = 'if (i >= n) { break; } count++; i++;';
    const unrolled = `  var i = 0u; loop { ${step} ${step} ${step} ${step} }`;
    expect(await runCounter(acquired.device, unrolled, 200_000)).toBe(200_000);
  });
});
