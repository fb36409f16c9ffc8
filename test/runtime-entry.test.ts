// `attnc/runtime` is a subset of `attnc`: everything an app needs to run a plan, the same
// objects under the same names, so code can move from one entry to the other. The one
// difference is createRuntime: attnc's self-checks kernel variants, which compiles probes.

import { expect, it } from 'vitest';
import * as full from '../src/index.js';
import * as runtime from '../src/runtime-entry.js';

it('re-exports every runtime export from the full API, as the same object', () => {
  const names = Object.keys(runtime);
  expect(names).toEqual(
    expect.arrayContaining(['loadPlan', 'validatePlan', 'createRuntime', 'acquireDevice']),
  );
  for (const name of names) {
    if (name === 'createRuntime') continue;
    expect((full as Record<string, unknown>)[name], name).toBe(
      (runtime as Record<string, unknown>)[name],
    );
  }
});

it('has no compiler entry points', () => {
  for (const name of ['compile', 'checkSource', 'parseSpec', 'reference', 'benchmark']) {
    expect(name in runtime, name).toBe(false);
  }
});

it('createRuntime of attnc/runtime has no variant self-check, and says so if asked for one', async () => {
  expect(runtime.createRuntime).not.toBe(full.createRuntime);
  await expect(runtime.createRuntime({ selfCheck: true })).rejects.toThrow(
    /the variant self-check compiles probe kernels, which attnc\/runtime cannot: use createRuntime from 'attnc'/,
  );
});
