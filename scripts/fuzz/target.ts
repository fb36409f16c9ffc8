// What the fuzzer runs on each input, inside a worker: the front end (`checkSource`), then
// `compile` for one target profile, and for a spec without errors `compile` again,
// comparing the two outputs byte for byte (for one with errors, the diagnostics of the two
// front-end runs). Returns
// the first problem found, or null. Any throw is a compiler bug (errors are diagnostics);
// so is a diagnostic that reports an internal error or points outside the text, an output
// over the size limit, and two compiles that differ. Hangs, memory and crashes are the
// pool's to detect: a worker cannot report on itself once it is stuck.

import { compile, TARGET_NAMES, type CompileResult } from '../../src/api/compile.js';
import { DIAGNOSTIC_CODES } from '../../src/diagnostics/codes.js';
import { hasErrors, type Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { checkSource } from '../../src/frontend.js';
import { fmix32 } from '../../src/random/generator.js';
import type { WgslValidator } from './validate-wgsl.js';

export type TargetFailureKind =
  | 'exception'
  | 'internal-error'
  | 'bad-diagnostic'
  | 'nondeterministic'
  | 'output-too-large'
  | 'invalid-wgsl';

export interface TargetFailure {
  readonly kind: TargetFailureKind;
  readonly message: string;
  /** A stack trace, the differing bytes, the validator's messages. */
  readonly detail?: string;
}

export interface TargetOptions {
  /** Largest total size of the produced WGSL and plans, in bytes. */
  readonly outputLimitBytes: number;
  /** Present for the inputs whose WGSL is validated (`--validate-wgsl`). */
  readonly validator?: WgslValidator;
}

/** The signature of a target module: `export const target: FuzzTarget`. */
export type FuzzTarget = (
  text: string,
  options: TargetOptions,
) => TargetFailure | null | Promise<TargetFailure | null>;

const FILE = 'fuzz.attn';

export const target: FuzzTarget = async (text, options) => {
  try {
    const front = checkSource(text, FILE);
    const bad = checkDiagnostics(front.diagnostics, text);
    if (bad) return bad;
    // Each input is compiled for one profile, picked from its text, so that every
    // profile's codegen (f16, subgroups, limits) is exercised across a run.
    const profile = TARGET_NAMES[fmix32(hashText(text)) % TARGET_NAMES.length]!;
    const first = compile(text, { file: FILE, target: profile, verify: true });
    const firstBad = checkDiagnostics(first.diagnostics, text);
    if (firstBad) return firstBad;
    if (hasErrors(front.diagnostics)) {
      // compile stopped after the front end: its diagnostics are a second front-end run,
      // which is all the determinism there is to check (and saves a third parse).
      const a = JSON.stringify(front.diagnostics);
      const b = JSON.stringify(first.diagnostics);
      return a === b
        ? null
        : {
            kind: 'nondeterministic',
            message: 'two front-end runs gave different diagnostics',
            detail: firstDifference(a, b),
          };
    }
    if (front.diagnostics.length === 0 && front.attentions.length !== front.ast.attentions.length) {
      return {
        kind: 'bad-diagnostic',
        message: `no diagnostics, but ${front.ast.attentions.length - front.attentions.length} attention(s) were dropped by the checker`,
      };
    }
    const size = outputSize(first);
    if (size > options.outputLimitBytes) {
      return {
        kind: 'output-too-large',
        message: `compile produced ${size} bytes of WGSL and plans (limit ${options.outputLimitBytes}) for target ${profile}`,
      };
    }
    const firstText = serialize(first);
    if (firstText.length > options.outputLimitBytes) {
      return {
        kind: 'output-too-large',
        message: `compile produced ${firstText.length} bytes of plans and IR (limit ${options.outputLimitBytes}) for target ${profile}`,
      };
    }
    // Without the IR verifier this time: it only reads the IR, so the output must not change.
    const secondText = serialize(compile(text, { file: FILE, target: profile, verify: false }));
    if (firstText !== secondText) {
      return {
        kind: 'nondeterministic',
        message: `two compiles for target ${profile} differ`,
        detail: firstDifference(firstText, secondText),
      };
    }
    if (options.validator) {
      const invalid = await options.validator.validate(first);
      if (invalid)
        return { kind: 'invalid-wgsl', message: invalid.message, detail: invalid.detail };
    }
    return null;
  } catch (error) {
    return {
      kind: 'exception',
      message: `${errorName(error)}: ${errorMessage(error)}`,
      detail: (error as Error)?.stack ?? String(error),
    };
  }
};

/** Diagnostics must be well formed: a known code, a message, a span inside the text. */
function checkDiagnostics(diagnostics: readonly Diagnostic[], text: string): TargetFailure | null {
  for (const d of diagnostics) {
    if (/internal error/i.test(d.message)) {
      return { kind: 'internal-error', message: `${d.code}: ${d.message.slice(0, 500)}` };
    }
    const span = d.primary.span;
    const problem = !(d.code in DIAGNOSTIC_CODES)
      ? `unknown code ${d.code}`
      : d.message.length === 0
        ? 'empty message'
        : !(span.start >= 0 && span.start <= span.end && span.end <= text.length)
          ? `span ${span.start}..${span.end} outside the text (length ${text.length})`
          : null;
    if (problem) {
      return {
        kind: 'bad-diagnostic',
        message: `${d.code}: ${problem}`,
        detail: d.message.slice(0, 2000),
      };
    }
  }
  return null;
}

function outputSize(result: CompileResult): number {
  let size = 0;
  for (const m of result.modules) for (const k of m.plan.kernels) size += k.wgsl.length;
  return size;
}

/** Everything compile hands back that a user sees: diagnostics, plans (WGSL included), IR. */
function serialize(result: CompileResult): string {
  return JSON.stringify({
    diagnostics: result.diagnostics,
    modules: result.modules.map((m) => ({
      name: m.name,
      profile: m.profile,
      plan: m.plan,
      ir: m.ir,
    })),
  });
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `first difference at byte ${i}:\n  first:  ${JSON.stringify(a.slice(Math.max(0, i - 80), i + 80))}\n  second: ${JSON.stringify(b.slice(Math.max(0, i - 80), i + 80))}`;
}

function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 500 ? `${message.slice(0, 500)}...` : message;
}
