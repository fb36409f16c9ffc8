// loadPlan's check of a plan that came from outside (a JSON file, a network): every generated
// plan passes; a wrong one fails before any GPU call, naming the plan and the path of what
// is wrong.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlan, PlanValidationError, validatePlan } from '../../src/api/load-plan.js';

const generated = new URL('../../generated/', import.meta.url).pathname;
const plans = readdirSync(generated, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.plan.json'))
  .map((f) => ({ file: f, plan: JSON.parse(readFileSync(join(generated, f), 'utf8')) }));
const longformer = plans.find((p) => p.file.endsWith('longformer.plan.json'))!.plan;

function problemsOf(plan: unknown): string {
  try {
    validatePlan('broken', plan);
  } catch (e) {
    expect(e).toBeInstanceOf(PlanValidationError);
    return (e as Error).message;
  }
  throw new Error('the plan was accepted');
}

describe('validatePlan', () => {
  it('accepts every plan in generated/ and returns it unchanged', () => {
    expect(plans.length).toBeGreaterThanOrEqual(18);
    for (const { plan } of plans) expect(validatePlan('x', plan)).toEqual(plan);
  });

  it('names the path of a wrong value', () => {
    const plan = structuredClone(longformer);
    plan.kernels[0].bindings[1].type = 'texture';
    expect(problemsOf(plan)).toMatch(
      /^plan 'broken' is not a valid attnc host plan \(schemas\/plan\.schema\.json\):\n {2}plan\.kernels\.0\.bindings\.1\.type: Invalid type: Expected .*"storage".* but received "texture"$/,
    );
  });

  it('names a missing field, an unknown field and a wrong version', () => {
    const { steps: _, ...noSteps } = longformer;
    expect(problemsOf(noSteps)).toMatch(/plan\.steps: Invalid key: Expected "steps"/);
    expect(problemsOf({ ...longformer, stepz: [] })).toMatch(/plan\.stepz: Invalid key/);
    expect(problemsOf({ ...longformer, version: 2 })).toMatch(/plan\.version: .*Expected 1/);
  });

  it('rejects a size expression with an unknown operation, however deep', () => {
    const plan = structuredClone(longformer);
    plan.buffers[0].size = { op: 'add', args: [1, { op: 'pow', args: [2, 3] }] };
    expect(problemsOf(plan)).toMatch(/plan\.buffers\.0\.size/);
  });

  it('rejects what is not a plan at all, and caps the list of problems', () => {
    expect(problemsOf(null)).toMatch(/^plan 'broken' is not a valid .*\n {2}plan: Invalid type/);
    const message = problemsOf({});
    expect(message.split('\n').length).toBe(1 + 5 + 1);
    expect(message).toMatch(/\(\d+ more problems\)$/);
  });

  it('loadPlan checks before it touches the device', () => {
    // A device that fails the test if anything is asked of it.
    const device = new Proxy({} as GPUDevice, {
      get: (_, key) => {
        throw new Error(`device.${String(key)} was used`);
      },
    });
    expect(() => loadPlan(device, { name: 'x', plan: { version: 1 } })).toThrow(
      PlanValidationError,
    );
  });
});
