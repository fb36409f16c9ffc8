// Rules between properties (E5xx, E402) and the warnings that need more than one property
// (W101, W103, W104, W106, W108). They run on one group's effective settings: what the group
// sets, else what its attention sets. Inherited settings make a rule fire once per group at
// the same place; the sink keeps only one copy.

import type { Label } from '../diagnostics/diagnostic.js';
import type { Span } from '../base/span.js';
import type { MaskNode } from './checked.js';
import { globalPositionSpan, maskLeaves } from './mask.js';
import type { PropertyName, PropertyValues, Settings, Slot } from './properties.js';
import type { DiagnosticSink } from './sink.js';
import type { HeadRouting } from './mechanisms.js';

/** A group's view of its settings: its own, falling back to its attention's. */
export class Inherited {
  constructor(
    private readonly own: Settings | undefined,
    private readonly parent: Settings,
  ) {}

  get<K extends PropertyName>(name: K): Slot<PropertyValues[K]> | undefined {
    return this.own?.get(name) ?? this.parent.get(name);
  }

  /** The value if set and valid; undefined if unset or invalid. */
  value<K extends PropertyName>(name: K): PropertyValues[K] | undefined {
    const slot = this.get(name);
    return slot?.ok ? slot.value : undefined;
  }

  /** Whether the property was set but its value had errors (rules then stay quiet). */
  invalid(name: PropertyName): boolean {
    return this.get(name)?.ok === false;
  }
}

function valueSpan(slot: Slot<unknown> | undefined): Span | undefined {
  return slot?.prop.value.span;
}

function label(slot: Slot<unknown> | undefined, message: string): Label[] {
  const span = valueSpan(slot);
  return span === undefined ? [] : [{ span, message }];
}

/** kernel/lowrank against mask, causal, softcap, bias and max_seq (E501..E506). */
export function checkMechanismRules(
  view: Inherited,
  maxSeq: Slot<number> | undefined,
  /** The attention lost text to a syntax error, so a missing `max_seq` may just be unread. */
  recovered: boolean,
  sink: DiagnosticSink,
): void {
  const kernelSlot = view.get('kernel');
  const lowrankSlot = view.get('lowrank');
  const kernel = view.value('kernel');
  const lowrank = view.value('lowrank');
  const mask = view.value('mask');
  const causalSlot = view.get('causal');

  if (kernel !== undefined && lowrank !== undefined) {
    sink.error('E504', '`kernel` and `lowrank` cannot both be set', lowrank.span, {
      secondary: label(kernelSlot, 'kernel set here'),
      notes: [
        'a kernel replaces softmax with a feature map; lowrank approximates softmax attention',
        'keep one of them, or put them in separate `group`s',
      ],
    });
  }

  if (kernel !== undefined && mask !== undefined) {
    const bad = maskLeaves(mask).find((leaf) => leaf.kind !== 'full' && leaf.kind !== 'causal');
    if (bad !== undefined) {
      sink.error(
        'E501',
        `\`kernel\` needs a \`full\` or \`causal\` mask, found \`${bad.kind}\``,
        bad.span,
        {
          secondary: label(kernelSlot, 'linear attention chosen here'),
          notes: [
            'linear attention sums over all keys, or all earlier keys, in O(N); it cannot skip arbitrary ones',
            'remove the mask (or use `causal: true`), or use softmax attention for this mask',
          ],
        },
      );
    }
  }

  if (lowrank !== undefined) {
    const causalLeaf =
      mask === undefined ? undefined : maskLeaves(mask).find((leaf) => leaf.kind === 'causal');
    if (view.value('causal') === true) {
      sink.error(
        'E502',
        'low-rank attention cannot be causal',
        valueSpan(causalSlot) ?? lowrank.span,
        {
          secondary: label(lowrankSlot, 'low-rank attention chosen here'),
          notes: [
            'the low-rank projections mix all keys, so no query can be kept from later ones',
            'remove `causal: true`, or use softmax attention',
          ],
        },
      );
    } else if (causalLeaf !== undefined) {
      sink.error('E502', 'low-rank attention cannot be causal', causalLeaf.span, {
        secondary: label(lowrankSlot, 'low-rank attention chosen here'),
        notes: [
          'the low-rank projections mix all keys, so no query can be kept from later ones',
          'remove `causal` from the mask, or use softmax attention',
        ],
      });
    }
    const bad =
      mask === undefined
        ? undefined
        : maskLeaves(mask).find((leaf) => leaf.kind !== 'full' && leaf.kind !== 'causal');
    if (bad !== undefined) {
      sink.error(
        'E503',
        `low-rank attention needs a \`full\` mask, found \`${bad.kind}\``,
        bad.span,
        {
          secondary: label(lowrankSlot, 'low-rank attention chosen here'),
          notes: [
            'the low-rank projections mix all keys, so no key can be masked out',
            'remove the mask, or use softmax attention for this mask',
          ],
        },
      );
    }
    if (lowrank.kind === 'linformer' && maxSeq === undefined && !recovered) {
      sink.error('E505', '`linformer` needs `max_seq`', lowrank.span, {
        notes: [
          'the run-time inputs `E` and `F` of `linformer(r)` are `[kv_heads, r, max_seq]`',
          'add `max_seq: N` to the attention, with N the longest key sequence',
        ],
      });
    }
  }

  const mechanism = kernel !== undefined ? 'kernel' : lowrank !== undefined ? 'lowrank' : undefined;
  if (mechanism !== undefined) {
    const mechanismSlot = mechanism === 'kernel' ? kernelSlot : lowrankSlot;
    const why =
      mechanism === 'kernel'
        ? 'linear attention never forms the scores `q·k` that it would change'
        : 'low-rank attention scores projected or averaged keys, which have no single position or score to change';
    for (const modifier of ['softcap', 'bias'] as const) {
      const slot = view.get(modifier);
      if (!slot?.ok) continue;
      sink.error(
        'E506',
        `\`${modifier}\` cannot be used with \`${mechanism}\``,
        slot.prop.value.span,
        {
          secondary: label(
            mechanismSlot,
            `${mechanism === 'kernel' ? 'linear' : 'low-rank'} attention chosen here`,
          ),
          notes: [why, `remove \`${modifier}\`, or put the two in separate \`group\`s`],
        },
      );
    }
  }
}

/** W104: `causal: true` already intersects the mask with `causal`. */
export function checkCausalTwice(view: Inherited, sink: DiagnosticSink): void {
  const causalSlot = view.get('causal');
  const mask = view.value('mask');
  if (view.value('causal') !== true || mask === undefined) return;
  const terms = mask.kind === 'intersect' ? mask.terms : [mask];
  const redundant = terms.find((t) => t.kind === 'causal');
  if (redundant === undefined) return;
  sink.warning('W104', '`causal` is given twice', redundant.span, {
    secondary: label(causalSlot, '`causal: true` already makes the mask causal'),
    notes: ['remove one of them'],
  });
}

/** W101, W103, W108: sizes that reach past `max_seq` and so mean less than they say. */
export function checkMaxSeqWarnings(
  view: Inherited,
  maxSeqSlot: Slot<number> | undefined,
  sink: DiagnosticSink,
): void {
  if (!maxSeqSlot?.ok) return;
  const maxSeq = maxSeqSlot.value;
  const seqLabel = label(maxSeqSlot, 'max_seq set here');
  const mask = view.value('mask');
  for (const leaf of mask === undefined ? [] : maskLeaves(mask)) {
    warnLeaf(leaf, maxSeq, seqLabel, sink);
  }
  const lowrank = view.value('lowrank');
  if (lowrank !== undefined) {
    const [size, noun] =
      lowrank.kind === 'linformer' ? [lowrank.rank, 'rank'] : [lowrank.landmarks, 'landmark count'];
    if (size >= maxSeq) {
      sink.warning(
        'W108',
        `\`${lowrank.kind}\` ${noun} ${size} is not below max_seq (${maxSeq}): nothing is compressed`,
        lowrank.span,
        {
          secondary: seqLabel,
          notes: [`use a ${noun} well below ${maxSeq}, or plain softmax attention`],
        },
      );
    }
  }
}

function warnLeaf(leaf: MaskNode, maxSeq: number, seqLabel: Label[], sink: DiagnosticSink): void {
  const farthest = maxSeq - 1;
  const why = `no key is more than ${farthest} positions from a query, so a reach of ${farthest} means the same`;
  if (leaf.kind === 'window') {
    const side = Math.max(leaf.left, leaf.right);
    if (side > farthest) {
      sink.warning(
        'W101',
        `window reaches ${side} positions, beyond max_seq (${maxSeq})`,
        leaf.span,
        {
          secondary: seqLabel,
          notes: [why],
        },
      );
    }
  } else if (leaf.kind === 'dilated') {
    const reach = leaf.width * leaf.dilation;
    if (reach > farthest) {
      sink.warning(
        'W101',
        `dilated window reaches ${reach} positions, beyond max_seq (${maxSeq})`,
        leaf.span,
        {
          secondary: seqLabel,
          notes: [why],
        },
      );
    }
  } else if (leaf.kind === 'global') {
    if (leaf.first > maxSeq) {
      sink.warning(
        'W103',
        `\`first: ${leaf.first}\` covers positions beyond max_seq (${maxSeq})`,
        globalPositionSpan(leaf, 'first'),
        {
          secondary: seqLabel,
          notes: ['positions at or beyond max_seq never occur'],
        },
      );
    }
    for (const position of leaf.positions) {
      if (position < maxSeq) continue;
      sink.warning(
        'W103',
        `global position ${position} is not below max_seq (${maxSeq})`,
        globalPositionSpan(leaf, position),
        {
          secondary: seqLabel,
          notes: ['positions at or beyond max_seq never occur; remove it'],
        },
      );
    }
  }
}

/** E500: every kv head serves `heads / kv_heads` query heads. */
export function checkKvHeads(
  heads: number,
  kvHeads: number,
  view: Inherited,
  where: string,
  sink: DiagnosticSink,
): boolean {
  if (heads % kvHeads === 0) return true;
  const kvSlot = view.get('kv_heads');
  const span = valueSpan(kvSlot);
  if (span === undefined) return false;
  sink.error(
    'E500',
    `\`kv_heads\` (${kvHeads}) does not divide \`heads\` (${heads})${where}`,
    span,
    {
      secondary: label(view.get('heads'), 'heads set here'),
      notes: [
        'head h reads kv head floor(h / (heads / kv_heads)), so each kv head serves the same number of heads',
        `use a divisor of ${heads}: ${divisors(heads)}`,
      ],
    },
  );
  return false;
}

/** Trial divisors searched: the help stays O(1) per attention even for `heads: 2147483647`. */
const DIVISOR_SEARCH = 256;

/**
 * The smallest divisors of `n` (at most 12) for the E500 help. Divisors come in pairs
 * (d, n / d) with d <= sqrt(n), so trying d up to sqrt(n) finds them all; past
 * DIVISOR_SEARCH the list shows the small ones found, then `...` and `n`.
 */
export function divisors(n: number): string {
  const root = Math.floor(Math.sqrt(n));
  const limit = Math.min(root, DIVISOR_SEARCH);
  const small: number[] = [];
  const large: number[] = [];
  for (let d = 1; d <= limit; d++) {
    if (n % d !== 0) continue;
    small.push(d);
    if (d !== n / d) large.unshift(n / d);
  }
  if (limit < root) return `${small.slice(0, 12).join(', ')}, ..., ${n}`;
  const found = [...small, ...large];
  const text = found.slice(0, 12).join(', ');
  return found.length > 12 ? `${text}, ...` : text;
}

/** E402 and W106: `top(k)` against the attention's total heads. */
export function checkHeadRouting(
  routing: Slot<HeadRouting> | undefined,
  totalHeads: number,
  headsSlot: Slot<number> | undefined,
  sink: DiagnosticSink,
): void {
  if (!routing?.ok) return;
  const { k, kSpan } = routing.value;
  const secondary = label(headsSlot?.ok ? headsSlot : undefined, 'heads set here');
  if (k > totalHeads) {
    sink.error(
      'E402',
      `\`top(${k})\` keeps more heads than the attention has (${totalHeads})`,
      kSpan,
      {
        secondary,
        notes: [`use a k between 1 and ${totalHeads}`],
      },
    );
  } else if (k === totalHeads) {
    sink.warning(
      'W106',
      `\`top(${k})\` keeps every head, so routing only rescales the heads`,
      kSpan,
      {
        secondary,
        notes: [`use a k below ${totalHeads} to drop heads, or remove \`head_routing\``],
      },
    );
  }
}
