// The files `attnc compile -o DIR` writes for one compiled attention: each kernel's WGSL, the
// host plan as JSON, and the TypeScript module. Pure: returns paths and texts.

import { emitTypeScriptModule } from '../codegen/typescript/emit-module.js';
import type { CompiledModule } from './compile.js';

export interface ModuleFile {
  readonly path: string;
  readonly text: string;
}

export function moduleFiles(
  module: CompiledModule,
  specFile: string,
  importFrom?: string,
): ModuleFile[] {
  const files: ModuleFile[] = module.plan.kernels.map((kernel) => ({
    path: `${kernel.name.startsWith(module.name + '.') ? kernel.name : `${module.name}.${kernel.name}`}.wgsl`,
    text: kernel.wgsl.endsWith('\n') ? kernel.wgsl : kernel.wgsl + '\n',
  }));
  files.push({
    path: `${module.name}.plan.json`,
    text: JSON.stringify(module.plan, null, 2) + '\n',
  });
  files.push({
    path: `${module.name}.ts`,
    text: emitTypeScriptModule(module, { specFile, ...(importFrom ? { importFrom } : {}) }),
  });
  return files;
}
