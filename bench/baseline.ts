// The baseline every attnc kernel is measured against: plain dense attention, one query
// row per invocation, online softmax over all N keys. Hand-written on purpose: it is the
// simplest correct kernel, and on CPU-like adapters (llvmpipe) also close to the fastest
// dense one (docs/runtime.md), so a compiled kernel has to earn its place against it.
//
// Tricks (exp2 and lazy rescaling are the ones the shared notes measured on llvmpipe):
// q is pre-scaled by scale·log2(e) so the softmax uses exp2; the running max starts
// finite (-3e38) so the first rescale is exp2(-huge) = 0 rather than NaN; rescaling is
// lazy (only when the max grows), which after the first few keys is rare; rows are vec4
// so loads and dots are 4-wide.

import type { BenchCase, CaseCheck, CaseFactory, RunContext } from './harness.js';

export interface BaselineOptions {
  readonly workgroupSize?: number;
  readonly seed?: number;
}

export function baselineKernelWgsl(d: number, workgroupSize: number): string {
  if (d % 4 !== 0) throw new Error(`baseline kernel needs D divisible by 4, got ${d}`);
  const dv = d / 4;
  return /* wgsl */ `
struct Params {
  n: u32,
  scale_log2: f32,
}

@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> o: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> params: Params;

const DV: u32 = ${dv}u;

@compute @workgroup_size(${workgroupSize})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = params.n;
  // Clamped, not returned early: the spare invocations of the last workgroup redo row
  // n-1 and skip only the store, so no lane diverges before the key loop.
  let row = min(gid.x, n - 1u);
  var qr: array<vec4<f32>, DV>;
  var acc: array<vec4<f32>, DV>;
  for (var c = 0u; c < DV; c++) {
    qr[c] = q[row * DV + c] * params.scale_log2;
    acc[c] = vec4<f32>(0.0);
  }
  var m = -3.0e38;
  var l = 0.0;
  for (var j = 0u; j < n; j++) {
    let base = j * DV;
    var s = 0.0;
    for (var c = 0u; c < DV; c++) {
      s += dot(qr[c], k[base + c]);
    }
    if (s > m) {
      let alpha = exp2(m - s);
      l *= alpha;
      for (var c = 0u; c < DV; c++) {
        acc[c] *= alpha;
      }
      m = s;
    }
    let p = exp2(s - m);
    l += p;
    for (var c = 0u; c < DV; c++) {
      acc[c] += p * v[base + c];
    }
  }
  if (gid.x >= n) {
    return;
  }
  let inv_l = 1.0 / l;
  for (var c = 0u; c < DV; c++) {
    o[row * DV + c] = acc[c] * inv_l;
  }
}
`;
}

/** Deterministic inputs in [-1, 1): mulberry32, so runs and machines see the same data. */
export function randomMatrix(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** softmax(q·kᵀ·scale)·v for one query row, in float64. */
export function referenceRow(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  n: number,
  d: number,
  row: number,
): Float64Array {
  const scale = 1 / Math.sqrt(d);
  const scores = new Float64Array(n);
  let max = -Infinity;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += q[row * d + c]! * k[j * d + c]!;
    scores[j] = s * scale;
    max = Math.max(max, scores[j]!);
  }
  let sum = 0;
  const out = new Float64Array(d);
  for (let j = 0; j < n; j++) {
    const p = Math.exp(scores[j]! - max);
    sum += p;
    for (let c = 0; c < d; c++) out[c]! += p * v[j * d + c]!;
  }
  for (let c = 0; c < d; c++) out[c]! /= sum;
  return out;
}

export function createBaselineCase(
  device: GPUDevice,
  shape: { readonly n: number; readonly d: number },
  options: BaselineOptions = {},
): BenchCase {
  const { n, d } = shape;
  const workgroupSize = options.workgroupSize ?? 64;
  const seed = options.seed ?? 1;
  const q = randomMatrix(n * d, seed);
  const k = randomMatrix(n * d, seed + 1);
  const v = randomMatrix(n * d, seed + 2);
  const bytes = n * d * 4;

  const upload = (data: Float32Array, label: string): GPUBuffer => {
    const buffer = device.createBuffer({
      label,
      size: bytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const qBuf = upload(q, 'baseline q');
  const kBuf = upload(k, 'baseline k');
  const vBuf = upload(v, 'baseline v');
  const oBuf = device.createBuffer({
    label: 'baseline o',
    size: bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const params = device.createBuffer({
    label: 'baseline params',
    size: 16,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const paramData = new ArrayBuffer(16);
  new Uint32Array(paramData, 0, 1)[0] = n;
  new Float32Array(paramData, 4, 1)[0] = Math.LOG2E / Math.sqrt(d);
  device.queue.writeBuffer(params, 0, paramData);

  const module = device.createShaderModule({
    label: 'baseline attention',
    code: baselineKernelWgsl(d, workgroupSize),
  });
  const pipeline = device.createComputePipeline({
    label: 'baseline attention',
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [qBuf, kBuf, vBuf, oBuf, params].map((buffer, binding) => ({
      binding,
      resource: { buffer },
    })),
  });
  const workgroups = Math.ceil(n / workgroupSize);

  return {
    name: `baseline (wg ${workgroupSize})`,
    density: 1,
    n,
    d,
    heads: 1,
    run(ctx: RunContext) {
      const encoder = device.createCommandEncoder();
      const pass = ctx.beginComputePass(encoder);
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(workgroups);
      pass.end();
      device.queue.submit([encoder.finish()]);
    },
    async check(): Promise<CaseCheck> {
      const out = await readBuffer(device, oBuf, bytes);
      // Every row for small N (tests), a few spread-out rows for benchmark sizes.
      const rows =
        n <= 256 ? Array.from({ length: n }, (_, r) => r) : [...new Set([0, 1, n >> 1, n - 1])];
      let maxAbsError = 0;
      for (const row of rows) {
        const want = referenceRow(q, k, v, n, d, row);
        for (let c = 0; c < d; c++) {
          maxAbsError = Math.max(maxAbsError, Math.abs(out[row * d + c]! - want[c]!));
        }
      }
      return { maxAbsError, checked: `${rows.length} rows` };
    },
    destroy() {
      for (const b of [qBuf, kBuf, vBuf, oBuf, params]) b.destroy();
    },
  };
}

export const baselineFactory = (options: BaselineOptions = {}): CaseFactory => ({
  name: 'baseline',
  create: (device, shape) => createBaselineCase(device, shape, options),
});

async function readBuffer(device: GPUDevice, source: GPUBuffer, bytes: number) {
  const staging = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(source, 0, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const data = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return data;
}
