// The property table of language.md section 3: each property's value type, where it may be
// set, and how its value is read. `collectSettings` turns one attention's or group's property
// list into Settings, reporting unknown, duplicate and misplaced properties on the way.

import type { Property, Expr } from '../syntax/ast.js';
import { checkMask } from './mask.js';
import { readBias, readHeadRouting, readKernel, readLowRank } from './mechanisms.js';
import type { PropertyName, PropertyValues } from './property-values.js';
import { FOREIGN_PROPERTIES } from './foreign-names.js';
import { misplacedNameNote } from './names.js';
import type { DiagnosticSink } from './sink.js';
import { closestName, didYouMeanNote } from './suggest.js';
import { INT_MAX, readBool, readChoice, readInt, readPositiveNumber } from './values.js';

export type { PropertyName, PropertyValues } from './property-values.js';

/**
 * `tensor` properties fix the shapes or the element type of q, k, v and o, or (head_routing)
 * act across all heads at once; groups share those tensors, so only the attention sets them.
 */
export type PropertyScope = 'tensor' | 'group';

interface PropertySpec<T> {
  readonly scope: PropertyScope;
  readonly read: (expr: Expr, sink: DiagnosticSink) => T | undefined;
}

export const MAX_HEAD_DIM = 256;

const count = (name: string) => (expr: Expr, sink: DiagnosticSink) =>
  readInt(expr, `\`${name}\``, { min: 1, max: INT_MAX }, sink);
const width = (name: string) => (expr: Expr, sink: DiagnosticSink) =>
  readInt(expr, `\`${name}\``, { min: 1, max: MAX_HEAD_DIM }, sink);

export const PROPERTIES: { readonly [K in PropertyName]: PropertySpec<PropertyValues[K]> } = {
  heads: { scope: 'group', read: count('heads') },
  kv_heads: { scope: 'group', read: count('kv_heads') },
  head_dim: { scope: 'tensor', read: width('head_dim') },
  value_dim: { scope: 'tensor', read: width('value_dim') },
  causal: { scope: 'group', read: (expr, sink) => readBool(expr, '`causal`', sink) },
  scale: { scope: 'group', read: readScale },
  mask: { scope: 'group', read: checkMask },
  kernel: { scope: 'group', read: readKernel },
  lowrank: { scope: 'group', read: readLowRank },
  softcap: { scope: 'group', read: (expr, sink) => readPositiveNumber(expr, '`softcap`', sink) },
  bias: { scope: 'group', read: readBias },
  head_routing: { scope: 'tensor', read: readHeadRouting },
  max_seq: { scope: 'tensor', read: count('max_seq') },
  layout: {
    scope: 'tensor',
    read: (expr, sink) => readChoice(expr, '`layout`', ['bhnd', 'bnhd'] as const, sink),
  },
  dtype: {
    scope: 'tensor',
    read: (expr, sink) => readChoice(expr, '`dtype`', ['f32', 'f16'] as const, sink),
  },
};

export const PROPERTY_NAMES = Object.keys(PROPERTIES) as PropertyName[];

function isPropertyName(name: string): name is PropertyName {
  return Object.hasOwn(PROPERTIES, name);
}

function readScale(expr: Expr, sink: DiagnosticSink): number | 'auto' | undefined {
  if (expr.kind === 'name') return readChoice(expr, '`scale`', ['auto'] as const, sink);
  return readPositiveNumber(
    expr,
    '`scale`',
    sink,
    'write a positive number, or `auto` for 1 / sqrt(head_dim)',
  );
}

/** A property as set in one place: its value, or `ok: false` when the value had errors. */
export type Slot<T> =
  | { readonly ok: true; readonly value: T; readonly prop: Property }
  | { readonly ok: false; readonly prop: Property };

/** The properties set in one attention or one group (not inherited, not defaulted). */
export class Settings {
  private readonly slots = new Map<PropertyName, Slot<unknown>>();
  /** Properties suggested for unknown names (`haeds` -> heads): probably set, just misspelt. */
  readonly misspelt = new Set<PropertyName>();

  get<K extends PropertyName>(name: K): Slot<PropertyValues[K]> | undefined {
    // Sound: `set` only stores a Slot<PropertyValues[K]> under K.
    return this.slots.get(name) as Slot<PropertyValues[K]> | undefined;
  }

  set<K extends PropertyName>(name: K, slot: Slot<PropertyValues[K]>): void {
    this.slots.set(name, slot);
  }

  has(name: PropertyName): boolean {
    return this.slots.has(name);
  }

  names(): PropertyName[] {
    return [...this.slots.keys()];
  }
}

export type Scope =
  { readonly kind: 'attention' } | { readonly kind: 'group'; readonly attention: string };

export function collectSettings(
  properties: readonly Property[],
  scope: Scope,
  sink: DiagnosticSink,
): Settings {
  const settings = new Settings();
  const seen = new Map<string, Property>();
  for (const prop of properties) {
    const name = prop.name.name;
    if (!isPropertyName(name)) {
      reportUnknownProperty(prop, settings, sink);
      continue;
    }
    const first = seen.get(name);
    if (first !== undefined) {
      sink.error('E205', `property \`${name}\` is set twice`, prop.name.span, {
        secondary: [{ span: first.name.span, message: 'first set here' }],
        notes: ['remove one of them'],
      });
      continue;
    }
    seen.set(name, prop);
    if (scope.kind === 'group' && PROPERTIES[name].scope === 'tensor') {
      sink.error('E210', `\`${name}\` cannot be set in a group`, prop.name.span, {
        notes: [
          name === 'head_routing'
            ? 'head routing chooses among all heads of the attention at once'
            : 'all groups share the tensors q, k, v and o, and this property fixes their shape or type',
          `set it on \`attention ${scope.attention}\` instead`,
        ],
      });
      continue;
    }
    readInto(settings, name, prop, sink);
  }
  return settings;
}

/** E200, with the likeliest fix: another tool's name for it, a typo, or a misplaced name. */
function reportUnknownProperty(prop: Property, settings: Settings, sink: DiagnosticSink): void {
  const name = prop.name.name;
  const foreign = FOREIGN_PROPERTIES.get(name);
  const closest = closestName(name, PROPERTY_NAMES);
  const suggestion = foreign ? foreign.property : closest;
  // Probably set, just under another name: its absence is not reported as well.
  if (suggestion !== undefined) settings.misspelt.add(suggestion);
  sink.error('E200', `unknown property \`${name}\``, prop.name.span, {
    notes: [
      foreign?.note ??
        didYouMeanNote(closest) ??
        misplacedNameNote(name) ??
        `the properties are ${PROPERTY_NAMES.map((n) => `\`${n}\``).join(', ')}`,
    ],
  });
}

function readInto<K extends PropertyName>(
  settings: Settings,
  name: K,
  prop: Property,
  sink: DiagnosticSink,
): void {
  const value = PROPERTIES[name].read(prop.value, sink);
  settings.set(name, value === undefined ? { ok: false, prop } : { ok: true, value, prop });
}
