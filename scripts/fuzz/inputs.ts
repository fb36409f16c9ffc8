// Input `index` of a fuzzing run with seed `seed`: a pure function of the two, so workers
// draw inputs on their own and a failure is reproduced from its index alone. The mix:
// grammar-generated specs (valid and near-valid), generated specs mutated, and mutated
// copies of examples/. About 1 input in 500 may be large (up to 128 KB); the rest stay under 8 KB.

import { readdirSync, readFileSync } from 'node:fs';
import { generateSpec } from './generate-spec.js';
import { MAX_MUTATED_LENGTH, mutate } from './mutate.js';
import { Rng } from './rng.js';

export interface FuzzInput {
  readonly index: number;
  readonly text: string;
  /** How the input was made, e.g. `grammar` or `mutated longformer.attn: flip, swap`. */
  readonly origin: string;
}

const examplesDir = new URL('../../examples/', import.meta.url);
export const EXAMPLES: readonly { readonly file: string; readonly text: string }[] = readdirSync(
  examplesDir,
)
  .filter((f) => f.endsWith('.attn'))
  .sort()
  .map((file) => ({ file, text: readFileSync(new URL(file, examplesDir), 'utf8') }));

type Kind = 'grammar' | 'grammar-odd' | 'grammar-mutated' | 'example-mutated';

export function fuzzInput(seed: number, index: number): FuzzInput {
  const rng = new Rng(seed, index);
  const large = rng.chance(1 / 500);
  const kind = rng.weighted<Kind>([
    [30, 'grammar'],
    [25, 'grammar-odd'],
    [15, 'grammar-mutated'],
    [30, 'example-mutated'],
  ]);
  const donor = rng.pick(EXAMPLES);
  if (large) return { index, ...largeInput(rng, donor.text) };
  switch (kind) {
    case 'grammar':
      return { index, text: generateSpec(rng, { oddity: 0.01, large: false }), origin: 'grammar' };
    case 'grammar-odd':
      return {
        index,
        text: generateSpec(rng, { oddity: 0.15, large: false }),
        origin: 'grammar (boundary values)',
      };
    case 'grammar-mutated': {
      const base = generateSpec(rng, { oddity: 0.05, large: false });
      const m = mutate(rng, base, donor.text, { maxMutations: 3, large: false });
      return { index, text: m.text, origin: `grammar, mutated: ${m.applied.join(', ')}` };
    }
    case 'example-mutated': {
      const example = rng.pick(EXAMPLES);
      const m = mutate(rng, example.text, donor.text, { maxMutations: 4, large: false });
      return { index, text: m.text, origin: `mutated ${example.file}: ${m.applied.join(', ')}` };
    }
  }
}

/**
 * A large input (up to MAX_MUTATED_LENGTH): the shapes that find deep recursion, quadratic
 * passes and slow suggestions. Each starts from a small valid-looking spec.
 */
function largeInput(rng: Rng, donor: string): { text: string; origin: string } {
  const base = generateSpec(rng, { oddity: 0.02, large: false });
  const prim = () =>
    rng.pick(['causal', 'window(4)', 'global(0)', 'sink(4)', 'stride(8)', 'blocks(16)', 'full']);
  const withMask = (mask: string) =>
    /mask: [^;\n}]*/.test(base)
      ? base.replace(/mask: [^;\n}]*/, () => `mask: ${mask}`)
      : base.replace(/\{/, () => `{ mask: ${mask};`);
  const shape = rng.int(0, 6);
  switch (shape) {
    case 0: {
      const depth = rng.weighted([
        [3, rng.int(100, 1000)],
        [1, rng.int(1000, 20_000)],
      ] as const);
      return {
        text: withMask('('.repeat(depth) + prim() + ')'.repeat(depth)),
        origin: `large: mask nested ${depth} deep`,
      };
    }
    case 1: {
      const terms = rng.int(100, 5000);
      const op = rng.pick([' | ', ' & ']);
      return {
        text: withMask(Array.from({ length: terms }, prim).join(op)),
        origin: `large: mask of ${terms} terms`,
      };
    }
    case 2: {
      const length = rng.int(1000, 100_000);
      const name = rng
        .pick(['p', 'x', 'heads', 'window'])
        .repeat(Math.ceil(length / 5))
        .slice(0, length);
      return {
        text: base.replace(/\{/, () => `{ ${name}: 4;`),
        origin: `large: property name of ${length} characters`,
      };
    }
    case 3: {
      const length = rng.int(1000, 100_000);
      const name = 'n'.repeat(length);
      return {
        text: base.replace(/attention \S+/, () => `attention ${name}`),
        origin: `large: attention name of ${length} characters`,
      };
    }
    case 4: {
      const copies: string[] = [];
      let size = 0;
      const wanted = rng.int(20, 2000);
      for (let i = 0; i < wanted && size < MAX_MUTATED_LENGTH / 2; i++) {
        const copy = generateSpec(rng, { oddity: 0.02, large: false }).replace(
          /attention (\S+)/g,
          `attention $1_${i}`,
        );
        copies.push(copy);
        size += copy.length;
      }
      return { text: copies.join('\n'), origin: `large: ${copies.length} attentions` };
    }
    case 5: {
      const digits = rng.int(20, 5000);
      const number = '9'.repeat(digits);
      return {
        text: base.replace(/\d+/, () => number),
        origin: `large: a literal of ${digits} digits`,
      };
    }
    default: {
      const m = mutate(rng, rng.chance(0.5) ? base : donor, donor, {
        maxMutations: 8,
        large: true,
      });
      return { text: m.text, origin: `large, mutated: ${m.applied.join(', ')}` };
    }
  }
}
