// `attnc explain --kernels`: the kernel IR of every kernel of a compiled attention, a golden
// stage like the attention IR after each pass. Kernels still written from a WGSL template
// get one line saying so.

import type { CompiledModule } from '../api/compile.js';
import { printKernel } from '../kernel/print.js';

export function explainKernels(module: CompiledModule): string {
  const parts = module.kernels.map((kernel) =>
    kernel.ir
      ? printKernel(kernel.name, kernel.ir)
      : `kernel ${kernel.name}: not on the kernel IR yet (written from a WGSL template)\n`,
  );
  return `== ${module.name}: kernels\n${parts.join('\n')}\n`;
}
