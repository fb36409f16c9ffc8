// Which property each callable name belongs to, so a name used in the wrong place
// (`mask: elu1`, `kernel: window(4)`) gets "this is a feature map, set it with `kernel:`"
// rather than a bare "unknown".

export interface NameHome {
  /** "a feature map", for messages. */
  readonly what: string;
  /** The property that takes it. */
  readonly property: string;
}

const home = (what: string, property: string, names: readonly string[]) =>
  names.map((name) => [name, { what, property }] as const);

export const NAME_HOMES: ReadonlyMap<string, NameHome> = new Map([
  ...home('a mask primitive', 'mask', [
    'full',
    'causal',
    'window',
    'dilated',
    'stride',
    'global',
    'sink',
    'blocks',
    'random',
    'segment',
    'topk',
    'cluster',
    'lsh',
  ]),
  ...home('a feature map', 'kernel', ['elu1', 'relu', 'favor']),
  ...home('a low-rank method', 'lowrank', ['linformer', 'nystrom']),
  ...home('a score bias', 'bias', ['alibi']),
  ...home('a head routing', 'head_routing', ['top']),
]);

/** The names that take no arguments, written bare. */
const NULLARY = new Set(['full', 'causal', 'segment', 'elu1', 'relu', 'alibi']);

/** A note pointing a misplaced name at its property, or undefined if the name is unknown. */
export function misplacedNameNote(name: string): string | undefined {
  const found = NAME_HOMES.get(name);
  if (found === undefined) return undefined;
  const written = NULLARY.has(name) ? name : `${name}(...)`;
  return `\`${name}\` is ${found.what}; write \`${found.property}: ${written}\``;
}
