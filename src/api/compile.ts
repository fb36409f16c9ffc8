// `compile(source)`: the whole compiler as one call. Front end, then per attention lowering,
// passes and WGSL codegen for a target profile. Constructs that check but have no kernels
// yet become E600 diagnostics at their spans, values past a compile limit E602, never exceptions.

import { compileAttention, type CompiledModule } from '../codegen/compile.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { hasErrors, sortDiagnostics } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';
import { checkSource } from '../frontend.js';
import { MAX_FILE_KERNEL_BYTES } from '../lower/compile-limits.js';
import { lowerAttention } from '../lower/lower.js';
import type { ScheduleOverrides } from '../passes/schedule.js';
import { PORTABLE_PROFILE, STATIC_PROFILES, type DeviceProfile } from '../target/profile.js';

export type { CompiledModule } from '../codegen/compile.js';

export interface CompileSourceOptions {
  readonly file?: string;
  /** A profile name (`portable`, `core`, `core-f16`, `llvmpipe`, `swiftshader`) or a device's profile. */
  readonly target?: string | DeviceProfile;
  /** Run the IR verifier after every pass. */
  readonly verify?: boolean;
  /**
   * Softmax schedules (variant, rows per workgroup, key tile, vector width) by group name, or
   * `'*'` for every softmax group, instead of the target profile's choice (docs/runtime.md,
   * tuning). One the target cannot run throws a ScheduleError naming the group and why.
   */
  readonly schedules?: ScheduleOverrides;
  /**
   * Also output each query row's log-sum-exp (`lse`, `[B, H, Nq]` f32): see
   * docs/runtime.md. Throws for kernelized, low-rank or head-routed attentions.
   */
  readonly lse?: boolean;
}

export interface CompileResult {
  readonly source: SourceText;
  readonly modules: readonly CompiledModule[];
  readonly diagnostics: readonly Diagnostic[];
}

export const TARGET_NAMES: readonly string[] = [...STATIC_PROFILES.keys()];

export function resolveTarget(
  target: string | DeviceProfile | undefined,
): DeviceProfile | undefined {
  if (target === undefined) return PORTABLE_PROFILE;
  if (typeof target !== 'string') return target;
  return STATIC_PROFILES.get(target);
}

export function compile(text: string, options: CompileSourceOptions = {}): CompileResult {
  const front = checkSource(text, options.file ?? '<input>');
  const diagnostics: Diagnostic[] = [...front.diagnostics];
  const profile = resolveTarget(options.target);
  if (!profile) {
    diagnostics.push({
      code: 'E601',
      severity: 'error',
      message: `unknown target \`${String(options.target)}\``,
      primary: { span: { start: 0, end: 0 } },
      notes: [`targets are: ${TARGET_NAMES.join(', ')}`],
    });
    return { source: front.source, modules: [], diagnostics };
  }
  const modules: CompiledModule[] = [];
  let kernelBytes = 0;
  if (!hasErrors(front.diagnostics)) {
    for (const attention of front.attentions) {
      const lowered = lowerAttention(attention);
      if (!lowered.ok) {
        for (const u of lowered.unsupported) {
          if (u.limit) {
            diagnostics.push({
              code: 'E602',
              severity: 'error',
              message: `\`${attention.name}\`: ${u.limit.message}`,
              primary: { span: u.span },
              notes: [u.limit.note],
            });
            continue;
          }
          diagnostics.push({
            code: 'E600',
            severity: 'error',
            message: `\`${attention.name}\`: ${u.message} is not supported by the compiler yet`,
            primary: { span: u.span },
            notes: [
              'the spec is valid and the CPU reference evaluates it, but no kernels exist for it yet',
            ],
          });
        }
        continue;
      }
      const compiled = compileAttention(attention, profile, {
        verify: options.verify ?? false,
        ...(options.schedules ? { schedules: options.schedules } : {}),
        lse: options.lse ?? false,
      });
      modules.push({ ...compiled, attention });
      kernelBytes += compiled.plan.kernels.reduce((n, k) => n + k.wgsl.length, 0);
      if (kernelBytes > MAX_FILE_KERNEL_BYTES) {
        const rest = front.attentions.length - modules.length;
        diagnostics.push({
          code: 'E602',
          severity: 'error',
          message: `\`${attention.name}\`: the file's kernels exceed the compile limit of ${MAX_FILE_KERNEL_BYTES / 1024 / 1024} MiB of WGSL here; ${rest} later attention${rest === 1 ? '' : 's'} not compiled`,
          primary: { span: attention.span },
          notes: ['split the file: each attention compiles on its own'],
        });
        break;
      }
    }
  }
  return { source: front.source, modules, diagnostics: sortDiagnostics(diagnostics) };
}
