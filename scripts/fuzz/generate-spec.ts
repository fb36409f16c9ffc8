// Grammar-based generation of `.attn` specs for the fuzzer. Most specs are valid (so the
// lowering, passes and codegen behind the checker are reached); a share break one rule or
// draw an argument from the boundary values (0, 1, 2^31 - 1, 2^31, 2^53, huge digit runs,
// malformed and NaN-like literals, very long names). Every property, mask primitive, feature
// map, low-rank method, head group and head_routing form is generated. Sizes are bounded:
// most specs are a few hundred bytes, and a rare "large" spec (deep nesting, long unions,
// long names) stays under about 128 KB.

import type { Rng } from './rng.js';

/** Integer literals at and around the limits the checker and codegen care about. */
export const BOUNDARY_INTEGERS: readonly string[] = [
  '0',
  '1',
  '2',
  '3',
  '4',
  '7',
  '63',
  '64',
  '65',
  '255',
  '256',
  '257',
  '4096',
  '65535',
  '65536',
  '16777216',
  '2147483646',
  '2147483647', // max i32
  '2147483648', // 2^31
  '4294967295', // max u32
  '4294967296', // 2^32
  '9007199254740991', // 2^53 - 1
  '9007199254740992', // 2^53
  '9007199254740993',
  '18446744073709551616', // 2^64
  '99999999999999999999999999999999999999',
];

/** Literals that are not plain integers: the checker must reject or accept them cleanly. */
const ODD_LITERALS: readonly string[] = [
  '-1',
  '-0',
  '0.0',
  '64.0',
  '6.4e1',
  '1e3',
  '1e308',
  '1e309',
  '1e-400',
  '2.5',
  '.5',
  '5.',
  '0x10',
  '007',
  '1_000',
  'NaN',
  'nan',
  'Infinity',
  'inf',
  '1e',
  '64px',
  'true',
  'false',
  'auto',
  '[]',
  '[1, 2]',
];

const NUMBERS: readonly string[] = ['0.5', '1', '2', '1e-3', '0.125', '30', '50.0', '1e-30'];

const PRIMITIVES = [
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
] as const;

/** Primitives whose kernels need no learned routing (cheaper; used most often). */
const STATIC_PRIMITIVES = PRIMITIVES.filter((p) => !['topk', 'cluster', 'lsh'].includes(p));

export interface SpecOptions {
  /** Probability that any one choice is drawn from the boundary or invalid pools. */
  readonly oddity: number;
  /** Large specs allowed (deep nesting, long unions, long names). */
  readonly large: boolean;
}

export function generateSpec(rng: Rng, options: SpecOptions): string {
  const g = new SpecGenerator(rng, options);
  const count = rng.weighted([
    [20, 1],
    [3, 2],
    [1, 3],
  ] as const);
  const names: string[] = [];
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    // A repeated attention name now and then (E206).
    const name = i > 0 && rng.chance(0.1) ? names[0]! : g.name(`a${i}`);
    names.push(name);
    parts.push(g.attention(name));
  }
  return parts.join(rng.pick(['\n', '\n\n', ' ', '\n# between\n']));
}

type Mechanism = 'softmax' | 'kernel' | 'lowrank';

class SpecGenerator {
  constructor(
    private readonly rng: Rng,
    private readonly options: SpecOptions,
  ) {}

  private odd(scale = 1): boolean {
    return this.rng.chance(this.options.oddity * scale);
  }

  name(fallback: string): string {
    const rng = this.rng;
    if (!this.odd()) return fallback;
    return rng.weighted([
      [4, () => 'x'],
      [3, () => 'attention'],
      [3, () => 'heads'],
      [2, () => '_'],
      [2, () => 'a1_b2_c3'],
      [2, () => 'résumé'],
      [2, () => '9lives'],
      [this.options.large ? 2 : 0, () => 'n'.repeat(rng.int(1000, 100_000))],
      [1, () => 'n'.repeat(rng.int(64, 300))],
    ] as const)();
  }

  /** An integer argument: usually a sensible value in [lo, hi], sometimes a boundary or odd one. */
  integer(lo: number, hi: number): string {
    const rng = this.rng;
    if (this.odd()) {
      return rng.weighted([
        [6, () => rng.pick(BOUNDARY_INTEGERS)],
        [3, () => rng.pick(ODD_LITERALS)],
        [this.options.large ? 1 : 0, () => '9'.repeat(rng.int(100, 5000))],
      ] as const)();
    }
    // Favour small values and the ends of the range.
    return String(
      rng.weighted([
        [6, rng.int(lo, Math.min(hi, lo + 16))],
        [3, rng.int(lo, hi)],
        [1, lo],
        [1, hi],
      ] as const),
    );
  }

  attention(name: string): string {
    const rng = this.rng;
    const props: string[] = [];
    const headDim = rng.pick([1, 2, 3, 4, 8, 16, 32, 64, 128, 256]);
    const dtype = rng.chance(0.25) ? 'f16' : 'f32';
    // f16 needs head and value dims that are multiples of 4 (E600 otherwise): mostly keep them.
    const dim = dtype === 'f16' && !this.odd(3) ? Math.max(4, headDim - (headDim % 4)) : headDim;
    props.push(`head_dim: ${this.odd() ? this.integer(1, 256) : dim}`);
    if (rng.chance(0.2)) props.push(`value_dim: ${this.integer(1, 256)}`);
    if (rng.chance(0.5) || this.odd())
      props.push(`dtype: ${this.odd() ? rng.pick(['f64', 'F16', 'bf16', '16']) : dtype}`);
    if (rng.chance(0.3))
      props.push(
        `layout: ${this.odd() ? rng.pick(['bhdn', 'nhbd', 'BHND']) : rng.pick(['bhnd', 'bnhd'])}`,
      );
    if (rng.chance(0.3)) props.push(`max_seq: ${this.integer(1, 8192)}`);

    const grouped = rng.chance(0.2);
    let totalHeads = 0;
    if (grouped) {
      // Attention-level defaults that groups inherit (and sometimes all override: W109).
      if (rng.chance(0.3)) props.push(`heads: ${this.integer(1, 8)}`);
      if (rng.chance(0.3)) props.push(`causal: ${this.bool()}`);
      const groups = rng.int(1, 4);
      const used: string[] = [];
      for (let i = 0; i < groups; i++) {
        const gname = i > 0 && rng.chance(0.08) ? used[0]! : this.name(`g${i}`);
        used.push(gname);
        const heads = rng.int(1, 8);
        totalHeads += heads;
        const body = [
          `heads: ${this.odd() ? this.integer(1, 8) : heads}`,
          ...this.headProperties(heads),
        ];
        if (this.odd())
          body.push(rng.pick(['head_dim: 32', 'layout: bnhd', 'max_seq: 64', 'dtype: f16']));
        props.push(`group ${gname} { ${this.join(body)} }`);
      }
    } else {
      const heads = rng.weighted([
        [8, rng.int(1, 16)],
        [1, rng.int(17, 128)],
      ] as const);
      totalHeads = heads;
      props.push(`heads: ${this.odd() ? this.integer(1, 16) : heads}`);
      props.push(...this.headProperties(heads));
    }
    // linformer needs max_seq (E505 otherwise): usually give it one.
    const hasMaxSeq = props.some((p) => p.startsWith('max_seq'));
    if (!hasMaxSeq && props.some((p) => p.includes('linformer')) && rng.chance(0.85)) {
      props.push(`max_seq: ${this.integer(1, 8192)}`);
    }
    if (rng.chance(0.12) || this.odd(0.5)) {
      const k = this.odd()
        ? this.integer(1, totalHeads)
        : String(rng.int(1, Math.max(1, totalHeads)));
      props.push(
        `head_routing: ${this.odd() ? rng.pick([`topk(${k})`, 'top', `top(k: ${k})`, `top(${k}, ${k})`]) : `top(${k})`}`,
      );
    }
    if (this.odd(0.5)) props.push(this.strayProperty());
    shuffle(rng, props);
    if (this.odd(0.3)) props.push(rng.pick(props)); // a property set twice (E205)
    return `attention ${name} {${this.separator()}${this.join(props)}${this.separator()}}`;
  }

  /** Properties a group may set: kv_heads, causal, scale, the mechanism and its options. */
  private headProperties(heads: number): string[] {
    const rng = this.rng;
    const props: string[] = [];
    if (rng.chance(0.35)) {
      const divisors = [];
      for (let d = 1; d <= heads; d++) if (heads % d === 0) divisors.push(d);
      props.push(`kv_heads: ${this.odd() ? this.integer(1, heads) : rng.pick(divisors)}`);
    }
    const mechanism: Mechanism = rng.weighted([
      [7, 'softmax'],
      [2, 'kernel'],
      [2, 'lowrank'],
    ] as const);
    const causal = mechanism !== 'lowrank' && rng.chance(0.4);
    if (causal || rng.chance(0.1)) props.push(`causal: ${causal ? 'true' : this.bool()}`);
    if (rng.chance(0.15))
      props.push(
        `scale: ${this.odd() ? rng.pick(['0', '-1', 'atuo', '1e400', 'NaN']) : rng.pick(['auto', ...NUMBERS])}`,
      );
    if (mechanism === 'softmax') {
      if (rng.chance(0.8) || this.odd()) props.push(`mask: ${this.mask(rng.int(0, 3))}`);
      if (rng.chance(0.15))
        props.push(
          `softcap: ${this.odd() ? rng.pick(['0', '-3', 'true', '1e39']) : rng.pick(NUMBERS)}`,
        );
      if (rng.chance(0.15))
        props.push(
          `bias: ${this.odd() ? rng.pick(['alibi2', 'alibi(1)', 'none']) : rng.pick(['alibi', 'alibi()'])}`,
        );
    } else if (mechanism === 'kernel') {
      props.push(`kernel: ${this.featureMap()}`);
      if (rng.chance(0.3))
        props.push(
          `mask: ${this.odd() ? this.mask(1) : rng.pick(['full', 'causal', 'full()', 'causal & full'])}`,
        );
    } else {
      props.push(`lowrank: ${this.lowRank()}`);
      if (rng.chance(0.2)) props.push(`mask: ${this.odd() ? this.mask(1) : 'full'}`);
    }
    // Rule breakers: a mechanism property from another family.
    if (this.odd(0.5))
      props.push(
        rng.pick([
          'kernel: elu1',
          'lowrank: nystrom(4)',
          'softcap: 5',
          'bias: alibi',
          'mask: window(3)',
          'causal: true',
        ]),
      );
    return props;
  }

  private featureMap(): string {
    const rng = this.rng;
    return rng.weighted([
      [3, () => rng.pick(['elu1', 'relu', 'elu1()', 'relu()'])],
      [3, () => `favor(${this.integer(1, 64)}${rng.chance(0.5) ? `, seed: ${this.seed()}` : ''})`],
      [
        this.options.oddity > 0 ? 1 : 0,
        () =>
          rng.pick([
            'elu',
            'favor',
            'favor()',
            'window(4)',
            'relu(2)',
            'favor(features: 8, seed: 1, seed: 2)',
            '4',
          ]),
      ],
    ] as const)();
  }

  private lowRank(): string {
    const rng = this.rng;
    return rng.weighted([
      [3, () => `linformer(${this.integer(1, 64)})`],
      [
        3,
        () =>
          `nystrom(${this.integer(1, 64)}${rng.chance(0.4) ? `, iters: ${this.integer(1, 12)}` : ''})`,
      ],
      [
        this.options.oddity > 0 ? 1 : 0,
        () =>
          rng.pick([
            'nystroem(16)',
            'linformer',
            'nystrom(8, 2)',
            'linformer(rank: 4)',
            'nystrom(landmarks: 4, iters: 0)',
          ]),
      ],
    ] as const)();
  }

  private seed(): string {
    return this.odd() ? this.rng.pick(BOUNDARY_INTEGERS) : String(this.rng.int(0, 99));
  }

  private bool(): string {
    return this.odd()
      ? this.rng.pick(['True', '1', 'yes', 'false()'])
      : this.rng.pick(['true', 'false']);
  }

  /** A mask expression: primitives combined with `|`, `&` and parentheses. */
  mask(depth: number): string {
    const rng = this.rng;
    if (this.options.large && rng.chance(0.3)) return this.largeMask();
    if (depth <= 0 || rng.chance(0.4)) return this.primitive();
    const op = rng.pick([' | ', ' & ', '|', '&']);
    const terms = rng.int(2, 3);
    const parts: string[] = [];
    for (let i = 0; i < terms; i++) {
      const term = this.mask(depth - 1);
      parts.push(rng.chance(0.4) ? `(${term})` : term);
    }
    return parts.join(op);
  }

  /** Deep nesting or a long union: the shapes that find recursion and quadratic passes. */
  private largeMask(): string {
    const rng = this.rng;
    const leaf = this.primitive();
    return rng.weighted([
      [
        3,
        () => {
          const d = rng.int(50, 2000);
          return '('.repeat(d) + leaf + ')'.repeat(d);
        },
      ],
      [
        2,
        () =>
          Array.from({ length: rng.int(50, 3000) }, () => this.primitive()).join(
            rng.pick([' | ', ' & ']),
          ),
      ],
      [
        1,
        () => {
          let e = leaf;
          for (let i = rng.int(20, 400); i > 0; i--)
            e = `(${e} ${rng.pick(['|', '&'])} ${this.primitive()})`;
          return e;
        },
      ],
    ] as const)();
  }

  primitive(): string {
    const rng = this.rng;
    const name = rng.chance(0.85) ? rng.pick(STATIC_PRIMITIVES) : rng.pick(PRIMITIVES);
    const int = (lo: number, hi: number) => this.integer(lo, hi);
    switch (name) {
      case 'full':
      case 'causal':
      case 'segment':
        return rng.chance(0.8) ? name : this.odd() ? `${name}(1)` : `${name}()`;
      case 'window':
        return rng.weighted([
          [4, () => `window(${int(0, 300)})`],
          [1, () => `window(width: ${int(0, 300)})`],
          [
            3,
            () => `window(left: ${int(0, 300)}${rng.chance(0.6) ? `, right: ${int(0, 300)}` : ''})`,
          ],
          [1, () => `window(right: ${int(0, 300)})`],
          [
            this.options.oddity > 0 ? 1 : 0,
            () =>
              rng.pick([
                'window',
                'window()',
                `window(4, left: 2)`,
                'window(2.5)',
                'window(4 & 8)',
                'window(left: 1, left: 2)',
              ]),
          ],
        ] as const)();
      case 'dilated':
        return `dilated(${int(0, 64)}, ${int(1, 8)})`;
      case 'stride':
        return `stride(${int(1, 128)})`;
      case 'global': {
        const positions = Array.from({ length: rng.int(0, 4) }, () => int(0, 200));
        const first = rng.chance(0.35) ? `first: ${int(1, 16)}` : '';
        const args = [...positions, ...(first ? [first] : [])];
        if (args.length === 0) args.push(int(0, 10));
        return rng.chance(0.15)
          ? `global([${positions.join(', ') || '0'}])`
          : `global(${args.join(', ')})`;
      }
      case 'sink':
        return `sink(${int(1, 64)})`;
      case 'blocks':
        return `blocks(${int(1, 256)})`;
      case 'random':
        return `random(${int(1, 4)}${rng.chance(0.6) ? `, block: ${int(1, 128)}` : ''}${rng.chance(0.4) ? `, seed: ${this.seed()}` : ''})`;
      case 'topk':
        return `topk(${int(1, 8)}${rng.chance(0.6) ? `, block: ${int(1, 128)}` : ''})`;
      case 'cluster':
        return `cluster(${int(1, 16)})`;
      case 'lsh': {
        const buckets = this.odd() ? this.integer(1, 64) : String(2 * rng.int(1, 16));
        return `lsh(buckets: ${buckets}${rng.chance(0.4) ? `, seed: ${this.seed()}` : ''})`;
      }
    }
  }

  private strayProperty(): string {
    const rng = this.rng;
    return rng.weighted([
      [3, () => `${rng.pick(['haeds', 'head_dims', 'window', 'mask_', 'kv_head', 'Heads'])}: 4`],
      [this.options.large ? 1 : 0, () => `${'p'.repeat(rng.int(1000, 100_000))}: 1`],
      [1, () => `${'q'.repeat(rng.int(20, 200))}: 1`],
      [1, () => `mask: ${rng.pick(['elu1', 'true', '8', 'window(4) | 8', 'windw(4)'])}`],
      [1, () => `group ${this.name('inner')} { heads: 2 }`],
    ] as const)();
  }

  private separator(): string {
    return this.rng.pick([' ', '\n  ', '\n', '']);
  }

  private join(items: readonly string[]): string {
    return items.join(this.rng.pick(['; ', '\n  ', ';\n  ', ' ;', '\n']));
  }
}

function shuffle<T>(rng: Rng, items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
