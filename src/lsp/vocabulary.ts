// What the language server knows about the language: every property, which callables each
// property takes (the checker's own signature tables) and the hover text for each, built
// from docs/language.md's tables (language-docs.generated.ts).

import type { Signature } from '../check/args.js';
import { MASK_SIGNATURES } from '../check/mask.js';
import { BIASES, FEATURE_MAPS, LOW_RANK, ROUTINGS } from '../check/mechanisms.js';
import { NAME_HOMES } from '../check/names.js';
import { PROPERTIES, PROPERTY_NAMES, type PropertyName } from '../check/properties.js';
import { LANGUAGE_DOCS } from './language-docs.generated.js';

export { PROPERTY_NAMES };

/** The callables each property takes, by name. */
export const CALLABLES: Readonly<Record<string, Readonly<Record<string, Signature>>>> = {
  mask: MASK_SIGNATURES,
  kernel: FEATURE_MAPS.signatures,
  lowrank: LOW_RANK.signatures,
  bias: BIASES.signatures,
  head_routing: ROUTINGS.signatures,
};

/**
 * The plain names other properties take. The checker keeps these lists inline in its
 * readers (properties.ts); test/lsp/vocabulary.test.ts checks each one is accepted.
 */
export const PLAIN_VALUES: Readonly<Record<string, readonly string[]>> = {
  causal: ['true', 'false'],
  scale: ['auto'],
  layout: ['bhnd', 'bnhd'],
  dtype: ['f32', 'f16'],
};

export function isProperty(name: string): name is PropertyName {
  return Object.hasOwn(PROPERTIES, name);
}

/** Properties that a group may set (the others fix tensor shapes: attention only). */
export function allowedInGroup(name: PropertyName): boolean {
  return PROPERTIES[name].scope === 'group';
}

/** The signature of a callable name, whichever property it belongs to. */
export function signatureOf(name: string): { property: string; signature: Signature } | undefined {
  const home = NAME_HOMES.get(name);
  const signature = home ? CALLABLES[home.property]?.[name] : undefined;
  return home && signature ? { property: home.property, signature } : undefined;
}

export function propertyHover(name: PropertyName): string {
  const doc = LANGUAGE_DOCS.properties[name];
  const lines = [`**${name}** (property)`, ''];
  if (doc) {
    lines.push(`- value: ${doc.value}`, `- default: ${doc.default}`);
    lines.push(`- allowed in a group: ${doc.inGroup}`);
  }
  const mechanism = LANGUAGE_DOCS.mechanisms[name];
  if (mechanism) {
    lines.push(`- forms: ${mechanism.forms}`);
    if (mechanism.defaults) lines.push(`- defaults: ${mechanism.defaults}`);
    if (mechanism.ranges) lines.push(`- ranges: ${mechanism.ranges}`);
  }
  return lines.join('\n');
}

export function callableHover(name: string): string | undefined {
  const found = signatureOf(name);
  const home = NAME_HOMES.get(name);
  if (!found || !home) return undefined;
  const lines = [`**${name}**: ${home.what}, \`${home.property}: ...\``, ''];
  const rows = LANGUAGE_DOCS.primitives[name];
  if (rows) {
    for (const row of rows) {
      const ranges = row.ranges ? `; ranges: ${row.ranges}` : '';
      lines.push(`- \`${row.form}\`: ${row.arguments}${ranges}`);
    }
  } else {
    lines.push(`- written ${found.signature.usage}`);
    const mechanism = LANGUAGE_DOCS.mechanisms[home.property];
    if (mechanism?.defaults) lines.push(`- defaults: ${mechanism.defaults}`);
    if (mechanism?.ranges) lines.push(`- ranges: ${mechanism.ranges}`);
  }
  return lines.join('\n');
}

export function argumentHover(callee: string, argument: string): string | undefined {
  const found = signatureOf(callee);
  const param = found?.signature.params.find((p) => p.name === argument);
  if (!found || !param) return undefined;
  const how = param.positional ? 'by position or by name' : 'by name only';
  const need = param.required ? 'required' : 'optional';
  return [
    `**${argument}**: argument of \`${callee}\` (${need}, given ${how})`,
    '',
    callableHover(callee) ?? '',
  ].join('\n');
}
