// Head groups (language.md section 3): reads each `group`, gives it a view of its settings
// that falls back to the attention's (inheritance), and resolves one group into its checked,
// fully-defaulted form. An attention without groups is one implicit group.

import type { AttentionDecl, Group } from '../syntax/ast.js';
import type { Span } from '../base/span.js';
import type { CheckedGroup } from './checked.js';
import { collectSettings, PROPERTIES, PROPERTY_NAMES } from './properties.js';
import type { PropertyName, Settings } from './properties.js';
import { checkKvHeads, Inherited } from './rules.js';
import type { DiagnosticSink } from './sink.js';

export interface HeadGroup {
  readonly name: string;
  /** "group `local`" or "attention `a`", for messages. */
  readonly owner: string;
  /** " in group `local`", or "" for the implicit group. */
  readonly where: string;
  readonly span: Span;
  readonly nameSpan: Span;
  /** The parser lost part of its text: what is missing may just be unread. */
  readonly recovered: boolean;
  /** Properties an unknown name here was probably meant to be (`haeds` -> heads). */
  readonly misspelt: ReadonlySet<PropertyName>;
  readonly view: Inherited;
}

/** Reads every group of `decl` (E207 for duplicate names, W109 for dead defaults). */
export function headGroups(
  decl: AttentionDecl,
  settings: Settings,
  sink: DiagnosticSink,
): HeadGroup[] {
  const groups = decl.items.filter((item): item is Group => item.kind === 'group');
  const attentionRecovered = decl.recovered === true;
  if (groups.length === 0) {
    return [
      {
        name: decl.name.name,
        owner: `attention \`${decl.name.name}\``,
        where: '',
        span: decl.span,
        nameSpan: decl.name.span,
        recovered: attentionRecovered,
        misspelt: settings.misspelt,
        view: new Inherited(undefined, settings),
      },
    ];
  }
  const seen = new Map<string, Group>();
  const result: HeadGroup[] = [];
  const owns: Settings[] = [];
  for (const group of groups) {
    const name = group.name.name;
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      sink.error(
        'E207',
        `group \`${name}\` is declared twice in \`${decl.name.name}\``,
        group.name.span,
        {
          secondary: [{ span: earlier.name.span, message: 'first declared here' }],
          notes: ['rename one of them'],
        },
      );
    } else {
      seen.set(name, group);
    }
    const own = collectSettings(
      group.properties,
      { kind: 'group', attention: decl.name.name },
      sink,
    );
    owns.push(own);
    result.push({
      name,
      owner: `group \`${name}\``,
      where: ` in group \`${name}\``,
      span: group.span,
      nameSpan: group.name.span,
      recovered: attentionRecovered || group.recovered === true,
      misspelt: new Set([...settings.misspelt, ...own.misspelt]),
      view: new Inherited(own, settings),
    });
  }
  warnOverridden(settings, owns, sink);
  return result;
}

/** W109: an attention-level default that every group replaces is dead text. */
function warnOverridden(
  settings: Settings,
  groups: readonly Settings[],
  sink: DiagnosticSink,
): void {
  for (const name of PROPERTY_NAMES) {
    const slot = settings.get(name);
    if (slot === undefined || PROPERTIES[name].scope !== 'group') continue;
    if (!groups.every((g) => g.has(name))) continue;
    sink.warning(
      'W109',
      `\`${name}\` is set on the attention but every group sets its own`,
      slot.prop.name.span,
      {
        notes: [
          name === 'heads'
            ? "with groups, the attention has the sum of its groups' heads; its own `heads` is only a default for groups that do not set one"
            : 'a group inherits only the properties it does not set',
          'remove it from the attention',
        ],
      },
    );
  }
}

/** Head counts of one group, or undefined when `heads` is missing or invalid (reported). */
export function groupHeads(
  group: HeadGroup,
  implicit: boolean,
  sink: DiagnosticSink,
): number | undefined {
  const { view } = group;
  if (view.get('heads') === undefined && !group.recovered && !group.misspelt.has('heads')) {
    reportMissing(
      'heads',
      group.owner,
      implicit ? 'the attention' : 'the group or to the attention',
      group.nameSpan,
      sink,
    );
  }
  return view.value('heads');
}

export interface Offsets {
  readonly head: number;
  readonly kvHead: number;
}

/**
 * The group with inheritance and defaults applied, or undefined when any of its properties
 * had errors (already reported).
 */
export function resolveGroup(
  group: HeadGroup,
  heads: number,
  headDim: number | undefined,
  offsets: Offsets,
  sink: DiagnosticSink,
): CheckedGroup | undefined {
  const { view } = group;
  const kvHeads = view.get('kv_heads') === undefined ? heads : view.value('kv_heads');
  if (kvHeads === undefined || !checkKvHeads(heads, kvHeads, view, group.where, sink))
    return undefined;
  // A property that is unset takes its default; one that was set with errors has no value.
  const scale = view.value('scale') ?? (view.invalid('scale') ? undefined : 'auto');
  const mask =
    view.value('mask') ??
    (view.invalid('mask') ? undefined : { kind: 'full' as const, span: group.span });
  const causal = view.value('causal') ?? (view.invalid('causal') ? undefined : false);
  if (headDim === undefined || scale === undefined || mask === undefined || causal === undefined)
    return undefined;
  const optional = ['kernel', 'lowrank', 'softcap', 'bias'] as const;
  if (optional.some((name) => view.invalid(name))) return undefined;
  const kernel = view.value('kernel');
  const lowrank = view.value('lowrank');
  const softcap = view.value('softcap');
  const bias = view.value('bias');
  return {
    name: group.name,
    span: group.span,
    heads,
    kvHeads,
    headOffset: offsets.head,
    kvHeadOffset: offsets.kvHead,
    causal,
    scale: scale === 'auto' ? 1 / Math.sqrt(headDim) : scale,
    mask,
    ...(kernel !== undefined ? { kernel } : {}),
    ...(lowrank !== undefined ? { lowrank } : {}),
    ...(softcap !== undefined ? { softcap } : {}),
    ...(bias !== undefined ? { bias } : {}),
  };
}

/** E305, pointed at the name of the attention or group that lacks the property. */
export function reportMissing(
  property: 'heads' | 'head_dim',
  owner: string,
  where: string,
  span: Span,
  sink: DiagnosticSink,
): void {
  const example = property === 'heads' ? 'heads: 8' : 'head_dim: 64';
  sink.error('E305', `${owner} is missing the required property \`${property}\``, span, {
    notes: [`add \`${example}\` to ${where}`],
  });
}
