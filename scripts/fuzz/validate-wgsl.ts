// Optional WGSL validation for the fuzzer (`--validate-wgsl RATE`): every kernel of a
// compiled input goes through Dawn's null backend, which runs the full Tint front end and
// reports shader errors without a GPU. This is what catches output the compiler produced
// without complaint but no device would accept (an i32 literal out of range, ...).

import { create, globals } from 'webgpu';
import type { CompileResult } from '../../src/api/compile.js';

export interface WgslValidator {
  validate(result: CompileResult): Promise<{ message: string; detail: string } | null>;
  destroy(): void;
}

export async function createWgslValidator(): Promise<WgslValidator> {
  Object.assign(globalThis, globals);
  const gpu = create(['backend=null']);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error("Dawn's null backend gave no adapter: cannot validate WGSL");
  // Every feature the null adapter has, so `enable f16;` and `enable subgroups;` validate.
  const device = await adapter.requestDevice({
    requiredFeatures: [...adapter.features] as GPUFeatureName[],
  });
  const lost = { reason: '' };
  void device.lost.then((info) => (lost.reason = info.message));
  return {
    async validate(result) {
      if (lost.reason) throw new Error(`WGSL validator's null device was lost: ${lost.reason}`);
      for (const m of result.modules) {
        for (const kernel of m.plan.kernels) {
          device.pushErrorScope('validation');
          const module = device.createShaderModule({ code: kernel.wgsl });
          const info = await module.getCompilationInfo();
          const scopeError = await device.popErrorScope();
          const errors = info.messages.filter((x) => x.type === 'error');
          if (errors.length > 0 || scopeError) {
            const first = errors[0];
            return {
              message: `kernel ${m.name}.${kernel.name} (${m.profile}) is not valid WGSL: ${first ? `${first.lineNum}:${first.linePos}: ${first.message}` : scopeError!.message.split('\n')[0]}`,
              detail: [
                ...errors.map((e) => `${e.lineNum}:${e.linePos}: ${e.message}`),
                ...(scopeError ? [scopeError.message] : []),
              ].join('\n'),
            };
          }
        }
      }
      return null;
    },
    destroy() {
      device.destroy();
    },
  };
}
