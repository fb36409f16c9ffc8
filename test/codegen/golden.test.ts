// Golden outputs per stage for a few specs: lowered IR, optimized IR, WGSL and the host plan.
// Rewrite them with `UPDATE_GOLDEN=1 npx vitest run test/codegen` and review the diff.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CheckedAttention } from '../../src/check/checked.js';
import { compileAttention } from '../../src/codegen/compile.js';
import { lowerAttention } from '../../src/lower/lower.js';
import { printAttention } from '../../src/ir/print.js';
import { printKernel } from '../../src/kernel/print.js';
import {
  LLVMPIPE_PROFILE,
  PORTABLE_PROFILE,
  type DeviceProfile,
} from '../../src/target/profile.js';
import { attention, m } from '../kernels/build.js';

const here = dirname(fileURLToPath(import.meta.url));
const update = process.env['UPDATE_GOLDEN'] === '1';

function golden(name: string, actual: string): void {
  const path = join(here, 'golden', name);
  if (update || !existsSync(path)) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const SPECS: [string, CheckedAttention, DeviceProfile][] = [
  [
    'longformer-portable',
    attention({
      name: 'longformer',
      heads: 12,
      headDim: 64,
      mask: m.or(m.window(256), m.global(1)),
    }),
    PORTABLE_PROFILE,
  ],
  [
    'longformer-llvmpipe',
    attention({
      name: 'longformer',
      heads: 12,
      headDim: 64,
      mask: m.or(m.window(256), m.global(1)),
    }),
    LLVMPIPE_PROFILE,
  ],
  [
    'bigbird-segment-portable',
    attention({
      name: 'bigbird',
      heads: 4,
      kvHeads: 2,
      headDim: 32,
      causal: true,
      softcap: 30,
      bias: 'alibi',
      mask: m.or(m.and(m.random(2, 64, 7), m.segment()), m.window(4, 0), m.window(0, 2)),
    }),
    PORTABLE_PROFILE,
  ],
];

describe('golden outputs', () => {
  for (const [name, spec, profile] of SPECS) {
    it(name, () => {
      const lowered = lowerAttention(spec);
      if (!lowered.ok) throw new Error('lowering failed');
      golden(`${name}.lowered.txt`, printAttention(lowered.attention));
      const compiled = compileAttention(spec, profile, { verify: true });
      golden(`${name}.optimized.txt`, printAttention(compiled.ir));
      compiled.plan.kernels.forEach((kernel) =>
        golden(`${name}.${kernel.name.replace(/\W+/g, '_')}.wgsl`, kernel.wgsl),
      );
      const onIr = compiled.kernels.flatMap((k) => (k.ir ? [printKernel(k.name, k.ir)] : []));
      if (onIr.length > 0) golden(`${name}.kernels.txt`, onIr.join('\n'));
      const { kernels, ...rest } = compiled.plan;
      const planJson = JSON.stringify(
        {
          ...rest,
          kernels: kernels.map(({ wgsl, ...k }) => ({ ...k, wgsl: `<${wgsl.length} chars>` })),
        },
        null,
        2,
      );
      golden(`${name}.plan.json`, planJson + '\n');
    });
  }
});
