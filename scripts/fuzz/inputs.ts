// Input `index` of a fuzzing run with seed `seed`: a pure function of the two, so workers
// draw inputs on their own and a failure is reproduced from its index alone. The mix:
// grammar-generated specs (valid and near-valid), generated specs mutated, and mutated
// copies of examples/. About 1 input in 500 may be large (up to 128 KB); the rest stay under 8 KB.

import { readdirSync, readFileSync } from 'node:fs';
import { generateSpec } from './generate-spec.js';
import { mutate } from './mutate.js';
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
  switch (kind) {
    case 'grammar':
      return { index, text: generateSpec(rng, { oddity: 0.01, large }), origin: 'grammar' };
    case 'grammar-odd':
      return {
        index,
        text: generateSpec(rng, { oddity: 0.15, large }),
        origin: 'grammar (boundary values)',
      };
    case 'grammar-mutated': {
      const base = generateSpec(rng, { oddity: 0.05, large: false });
      const m = mutate(rng, base, donor.text, { maxMutations: large ? 8 : 3, large });
      return { index, text: m.text, origin: `grammar, mutated: ${m.applied.join(', ')}` };
    }
    case 'example-mutated': {
      const example = rng.pick(EXAMPLES);
      const m = mutate(rng, example.text, donor.text, { maxMutations: large ? 8 : 4, large });
      return { index, text: m.text, origin: `mutated ${example.file}: ${m.applied.join(', ')}` };
    }
  }
}
