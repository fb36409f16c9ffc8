// Semantic analysis: AST -> fully-defaulted CheckedAttention plus diagnostics.
// Per attention: read its own properties (properties.ts), then its groups' (groups.ts), then
// run the rules between properties on each group's inherited view (rules.ts), then resolve
// defaults. Every step reports and continues; an attention is handed on only if it produced
// no errors and the parser read all of it.

import type { AttentionDecl, Property, SpecFile } from '../syntax/ast.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { sortDiagnostics } from '../diagnostics/diagnostic.js';
import type { CheckedAttention, CheckedGroup } from './checked.js';
import { groupHeads, headGroups, reportMissing, resolveGroup } from './groups.js';
import { collectSettings } from './properties.js';
import type { PropertyName, PropertyValues, Settings } from './properties.js';
import {
  checkCausalTwice,
  checkHeadRouting,
  checkMaxSeqWarnings,
  checkMechanismRules,
} from './rules.js';
import { DiagnosticSink } from './sink.js';

export interface CheckResult {
  /** The attentions without errors, in source order. */
  readonly attentions: CheckedAttention[];
  /** Sorted by position. */
  readonly diagnostics: Diagnostic[];
}

/** Never throws on a well-typed AST, however partial (the parser recovers from errors). */
export function checkSpec(ast: SpecFile): CheckResult {
  const sink = new DiagnosticSink();
  const attentions: CheckedAttention[] = [];
  if (ast.attentions.length === 0) {
    const start = { start: ast.span.start, end: ast.span.start };
    sink.warning('W100', 'no attention declared', start, {
      notes: ['declare one with `attention NAME { heads: 8; head_dim: 64 }`'],
    });
  }
  const seen = new Map<string, AttentionDecl>();
  for (const decl of ast.attentions) {
    const errorsBefore = sink.errorCount;
    const first = seen.get(decl.name.name);
    if (first !== undefined) {
      sink.error('E206', `attention \`${decl.name.name}\` is declared twice`, decl.name.span, {
        secondary: [{ span: first.name.span, message: 'first declared here' }],
        notes: ['rename one of them'],
      });
    } else {
      seen.set(decl.name.name, decl);
    }
    const checked = checkAttention(decl, sink);
    const recovered =
      decl.recovered === true || decl.items.some((i) => i.kind === 'group' && i.recovered === true);
    if (checked !== undefined && sink.errorCount === errorsBefore && !recovered) {
      attentions.push(checked);
    }
  }
  return { attentions, diagnostics: sortDiagnostics(sink.diagnostics) };
}

function checkAttention(decl: AttentionDecl, sink: DiagnosticSink): CheckedAttention | undefined {
  const own = decl.items.filter((item): item is Property => item.kind === 'property');
  const settings = collectSettings(own, { kind: 'attention' }, sink);
  const groups = headGroups(decl, settings, sink);
  const declaredGroups = decl.items.some((item) => item.kind === 'group');

  // Tensor-wide properties: only the attention sets them.
  const headDimSlot = settings.get('head_dim');
  if (headDimSlot === undefined && decl.recovered !== true && !settings.misspelt.has('head_dim')) {
    const owner = `attention \`${decl.name.name}\``;
    reportMissing('head_dim', owner, 'the attention', decl.name.span, sink);
  }
  const headDim = headDimSlot?.ok ? headDimSlot.value : undefined;
  const valueDim = valueOf(settings, 'value_dim', headDim);
  const layout = valueOf(settings, 'layout', 'bhnd');
  const dtype = valueOf(settings, 'dtype', 'f32');
  if (dtype === 'f16' && headDim !== undefined && valueDim !== undefined) {
    checkF16Widths(decl, headDim, valueDim, settings, sink);
  }
  const maxSeq = settings.get('max_seq');
  const routing = settings.get('head_routing');

  const checkedGroups: CheckedGroup[] = [];
  let offsets = { head: 0, kvHead: 0 };
  let complete = true;
  // Summed over all groups apart from the offsets, so `top(k)` is checked even when a group
  // has errors elsewhere.
  let totalHeads: number | undefined = 0;
  for (const group of groups) {
    checkMechanismRules(group.view, maxSeq, decl.recovered === true, sink);
    checkCausalTwice(group.view, sink);
    checkMaxSeqWarnings(group.view, maxSeq, sink);
    const heads = groupHeads(group, !declaredGroups, sink);
    totalHeads = heads === undefined || totalHeads === undefined ? undefined : totalHeads + heads;
    const checked =
      heads === undefined ? undefined : resolveGroup(group, heads, headDim, offsets, sink);
    if (checked === undefined) {
      complete = false;
      continue;
    }
    checkedGroups.push(checked);
    offsets = { head: offsets.head + checked.heads, kvHead: offsets.kvHead + checked.kvHeads };
  }
  if (totalHeads !== undefined) {
    checkHeadRouting(routing, totalHeads, declaredGroups ? undefined : settings.get('heads'), sink);
  }

  if (
    !complete ||
    headDim === undefined ||
    valueDim === undefined ||
    layout === undefined ||
    dtype === undefined ||
    maxSeq?.ok === false ||
    routing?.ok === false
  ) {
    return undefined;
  }
  return {
    name: decl.name.name,
    span: decl.span,
    heads: offsets.head,
    kvHeads: offsets.kvHead,
    headDim,
    valueDim,
    layout,
    dtype,
    ...(maxSeq?.ok ? { maxSeq: maxSeq.value } : {}),
    ...(routing?.ok ? { headRouting: { k: routing.value.k, span: routing.value.span } } : {}),
    declaredGroups,
    groups: checkedGroups,
  };
}

/**
 * f16 rows are read as packed vec4s (two u32 words), so a row must be whole words and whole
 * vectors: head_dim and value_dim multiples of 4. The compiler's lowering rejects the rest
 * with E600 at the attention; reporting it here, with the same code, place and message, lets
 * `attnc check` say so too.
 */
function checkF16Widths(
  decl: AttentionDecl,
  headDim: number,
  valueDim: number,
  settings: Settings,
  sink: DiagnosticSink,
): void {
  if (headDim % 4 === 0 && valueDim % 4 === 0) return;
  const dtype = settings.get('dtype')!.prop;
  sink.error(
    'E600',
    `\`${decl.name.name}\`: dtype f16 with head_dim ${headDim} and value_dim ${valueDim} ` +
      '(f16 needs both to be multiples of 4) is not supported by the compiler yet',
    decl.span,
    {
      secondary: [{ span: dtype.span, message: 'f16 chosen here' }],
      notes: ['use a head_dim and value_dim that are multiples of 4, or `dtype: f32`'],
    },
  );
}

/** The attention's value, the fallback when unset, undefined when the value had errors. */
function valueOf<K extends PropertyName, F extends PropertyValues[K] | undefined>(
  settings: Settings,
  name: K,
  fallback: F,
): PropertyValues[K] | F | undefined {
  const slot = settings.get(name);
  if (slot === undefined) return fallback;
  return slot.ok ? slot.value : undefined;
}
