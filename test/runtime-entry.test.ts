// `attnc/runtime` is a subset of `attnc`: everything an app needs to run a plan, the same
// objects under the same names, so code can move from one entry to the other.

import { expect, it } from 'vitest';
import * as full from '../src/index.js';
import * as runtime from '../src/runtime-entry.js';

it('re-exports every runtime export from the full API, as the same object', () => {
  const names = Object.keys(runtime);
  expect(names).toEqual(
    expect.arrayContaining(['loadPlan', 'validatePlan', 'createRuntime', 'acquireDevice']),
  );
  for (const name of names) {
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
