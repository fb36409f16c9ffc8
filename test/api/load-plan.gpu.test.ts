// A generated module, as an app imports it: loadPlan runs its plan on llvmpipe, and
// reference() checks the result from what the module exports (its `attention`), with no
// spec and no recompiling. Never skipped in CI (see test/runtime/gpu-availability.ts).

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { adapterAvailability } from '../runtime/gpu-availability.js';
import * as gqa from '../../generated/gqa/gqa.js';
import * as documentMask from '../../generated/document_mask/document_mask.js';

const availability = await adapterAvailability('llvmpipe');

describe.skipIf(!availability.run)('generated modules on llvmpipe', () => {
  let acquired: AcquiredDevice;
  beforeAll(async () => {
    acquired = await acquireDevice({ adapter: 'llvmpipe' });
  });
  afterAll(() => acquired?.destroy());

  const cases = [
    { module: gqa, create: gqa.createGqa, example: 'gqa', n: 40 },
    {
      module: documentMask,
      create: documentMask.createDocumentMask,
      example: 'document_mask',
      n: 33,
    },
  ];
  for (const c of cases) {
    it(`${c.example}: the module's run matches reference(module)`, async () => {
      // Inputs only: the module itself is what runs and what the reference reads.
      const text = readFileSync(
        new URL(`../../examples/${c.example}.attn`, import.meta.url),
        'utf8',
      );
      const compiled = compile(text).modules[0]!;
      expect(compiled.plan).toEqual(c.module.plan);
      const inputs = randomInputs(compiled, { batch: 1, seqQ: c.n, seqK: c.n, seed: 3 });
      const kernel = c.create(acquired.device);
      try {
        const { o } = await kernel.run(inputs as never);
        const expected = reference(c.module, inputs).o;
        expect(o.length).toBe(expected.length);
        let maxError = 0;
        for (let i = 0; i < o.length; i++)
          maxError = Math.max(maxError, Math.abs(o[i]! - expected[i]!));
        expect(maxError).toBeLessThan(1e-4);
      } finally {
        kernel.destroy();
      }
    }, 120_000);
  }
});
