// One plan kernel's shader module, bind group layout and compute pipeline: the same build for
// the attention's own kernels (loaded-kernel.ts) and the KV cache's (cache/store-kernels.ts).
// Callers wrap it in their error scopes.

import type { PlanKernel } from '../codegen/plan.js';

export interface KernelPipeline {
  readonly module: GPUShaderModule;
  readonly layout: GPUBindGroupLayout;
  readonly pipeline: GPUComputePipeline;
}

export function createKernelPipeline(device: GPUDevice, kernel: PlanKernel): KernelPipeline {
  const module = device.createShaderModule({ label: kernel.name, code: kernel.wgsl });
  const layout = device.createBindGroupLayout({
    label: kernel.name,
    entries: kernel.bindings.map((b) => ({
      binding: b.binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: b.type },
    })),
  });
  const pipeline = device.createComputePipeline({
    label: kernel.name,
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: kernel.entryPoint },
  });
  return { module, layout, pipeline };
}
