// Shared body of the routing kernel test files (one device per file): every routing case
// compiled for the device's own profile and for `portable` (4 storage bindings: q/k/v packed),
// run, and compared with the CPU reference within 1e-4; the routing examples through the
// public compile(), with the same random inputs `attnc run` uses.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import { compileAttention } from '../../src/codegen/compile.js';
import { referenceAttention } from '../../src/reference/index.js';
import { acquireDevice, type AcquiredDevice } from '../../src/runtime/device.js';
import { load } from '../../src/runtime/loaded-kernel.js';
import { PORTABLE_PROFILE } from '../../src/target/profile.js';
import { ROUTING_CASES, ROUTING_EXAMPLES } from './routing-cases.js';
import { excessError } from './run-cases.js';

const examplesDir = new URL('../../examples/', import.meta.url);

export function describeRoutingCases(adapter: 'llvmpipe' | 'swiftshader'): void {
  describe(`routing kernels on ${adapter}`, () => {
    let acquired: AcquiredDevice;
    beforeAll(async () => {
      acquired = await acquireDevice({ adapter });
    });
    afterAll(() => acquired?.destroy());

    const cases = ROUTING_CASES.filter((c) =>
      adapter === 'llvmpipe' ? true : c.small && !c.llvmpipeOnly,
    );
    for (const c of cases) {
      it(c.name, { timeout: 120_000 }, async () => {
        const problem = c.problem();
        const expected = referenceAttention(c.attention, problem);
        for (const profile of [acquired.profile, PORTABLE_PROFILE]) {
          const compiled = compileAttention(c.attention, profile, { verify: true });
          const loaded = load(acquired.device, compiled);
          try {
            acquired.device.pushErrorScope('validation');
            // Twice: a prepared run is re-encoded many times (no zero-initialized buffers).
            await loaded.run(problem);
            const { o } = await loaded.run(problem);
            const error = await acquired.device.popErrorScope();
            expect(error?.message ?? null, `${profile.name}: WebGPU validation`).toBeNull();
            expect(
              excessError(o, expected, c.attention.dtype === 'f16'),
              `${c.name} on ${profile.name}`,
            ).toBe(0);
          } finally {
            loaded.destroy();
          }
        }
      });
    }

    for (const example of ROUTING_EXAMPLES) {
      const sizes = example.sizes[adapter];
      if (sizes.length === 0) continue;
      const label = [
        example.file,
        example.heads ? ` (heads: ${example.heads})` : '',
        example.dtype ? ` dtype: ${example.dtype}` : '',
        example.mask ? ` mask: ${example.mask}` : '',
      ].join('');
      it(`example ${label} via compile()`, { timeout: 180_000 }, async () => {
        let text = readFileSync(new URL(example.file, examplesDir), 'utf8');
        if (example.heads) text = text.replace(/heads: \d+/, `heads: ${example.heads}`);
        if (example.dtype) text = text.replace(/\n}/, `\n  dtype: ${example.dtype}\n}`);
        if (example.mask) text = text.replace(/mask: .*/, `mask: ${example.mask}`);
        for (const line of [
          example.dtype && `dtype: ${example.dtype}`,
          example.mask && `mask: ${example.mask}`,
        ])
          if (line) expect(text).toContain(line);
        const result = compile(text, {
          file: example.file,
          target: acquired.profile,
          verify: true,
        });
        expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        for (const module of result.modules) {
          const kernel = load(acquired.device, module);
          try {
            for (const [seqQ, seqK] of sizes) {
              const inputs = randomInputs(module, { batch: 1, seqQ, seqK, seed: seqK });
              acquired.device.pushErrorScope('validation');
              const { o } = await kernel.run(inputs);
              expect((await acquired.device.popErrorScope())?.message ?? null).toBeNull();
              const expectedO = reference(module, inputs).o;
              expect(
                excessError(o, expectedO, example.dtype === 'f16'),
                `${label} Nq=${seqQ} Nk=${seqK}`,
              ).toBe(0);
            }
          } finally {
            kernel.destroy();
          }
        }
      });
    }
  });
}
