// What the playground shows for a spec, stage by stage as Compiler Explorer does: the checker's
// diagnostics (as editor ranges), the IR after lowering and after every pass, each kernel's
// WGSL, the host plan, and the mask and block-plan picture. DOM-free, so it is tested in Node.

import { compile, resolveTarget, type CompiledModule } from '../../src/api/compile.js';
import { moduleFiles } from '../../src/api/module-files.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { printAttention } from '../../src/ir/print.js';
import { lowerAttention } from '../../src/lower/lower.js';
import { PASS_NAMES, runPipeline } from '../../src/passes/pipeline.js';
import { specPicture } from '../../src/picture/mask-picture.js';

export interface EditorDiagnostic {
  readonly from: number;
  readonly to: number;
  readonly severity: 'error' | 'warning' | 'info';
  readonly message: string;
}

export interface Stage {
  /** `lower`, a pass name, `wgsl: FILE`, or `plan`. */
  readonly name: string;
  readonly text: string;
}

export interface Stages {
  readonly diagnostics: readonly EditorDiagnostic[];
  readonly modules: readonly CompiledModule[];
  /** Per module: IR after lowering and each pass, then its kernels' WGSL and the plan. */
  readonly stages: readonly { readonly module: string; readonly stages: readonly Stage[] }[];
  /** The picture at `seq`, or null when the spec has errors. */
  readonly pictureSvg: string | null;
}

export function compileStages(spec: string, options: { target: string; seq: number }): Stages {
  const result = compile(spec, { file: 'playground.attn', target: options.target });
  const diagnostics = result.diagnostics.map((d) => editorDiagnostic(d, spec.length));
  const profile = resolveTarget(options.target);
  const stages = result.modules.map((module) => {
    const list: Stage[] = [];
    const lowered = lowerAttention(module.attention);
    if (lowered.ok && profile) {
      for (const after of ['lower', ...PASS_NAMES]) {
        const ir = runPipeline(lowered.attention, { profile }, { after });
        list.push({ name: after, text: printAttention(ir) });
      }
    }
    for (const file of moduleFiles(module, 'playground.attn')) {
      if (file.path.endsWith('.wgsl')) list.push({ name: `wgsl: ${file.path}`, text: file.text });
      else if (file.path.endsWith('.plan.json')) list.push({ name: 'plan', text: file.text });
    }
    return { module: module.name, stages: list };
  });
  const ok = result.modules.length > 0 && !diagnostics.some((d) => d.severity === 'error');
  return {
    diagnostics,
    modules: result.modules,
    stages,
    pictureSvg: ok ? specPicture(result.modules, { seq: options.seq }) : null,
  };
}

function editorDiagnostic(d: Diagnostic, length: number): EditorDiagnostic {
  const span = d.primary.span;
  // An empty span (e.g. a missing brace at the end of the text) still gets a visible range:
  // one character wide, moved back onto the last character when it starts at the end.
  const to = Math.min(Math.max(span.end, span.start + 1), length);
  const from = Math.max(0, Math.min(span.start, to - 1));
  const notes = d.notes?.length ? '\n' + d.notes.map((n) => `note: ${n}`).join('\n') : '';
  return {
    from,
    to,
    severity: d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'info',
    message: `${d.code}: ${d.message}${notes}`,
  };
}
