import { describe, expect, it } from 'vitest';
import { PASS_NAMES } from '../../src/passes/pipeline.js';
import { decodeSpec, encodeSpec } from '../../playground/src/share.js';
import { compileStages } from '../../playground/src/stages.js';

const GOOD =
  'attention a {\n  heads: 2\n  head_dim: 16\n  causal: true\n  mask: window(left: 8, right: 0)\n}\n';

describe('compileStages', () => {
  it('turns a checker error into an editor range on the offending text', () => {
    const spec = GOOD.replace('window(', 'windw(');
    const stages = compileStages(spec, { target: 'portable', seq: 64 });
    const error = stages.diagnostics.find((d) => d.severity === 'error')!;
    expect(spec.slice(error.from, error.to)).toBe('windw');
    expect(error.message).toMatch(/^E\d+: .*windw/);
    expect(stages.pictureSvg).toBeNull();
  });

  it('lists the IR after lowering and each pass, every kernel, the plan, and draws the picture', () => {
    const stages = compileStages(GOOD, { target: 'portable', seq: 64 });
    expect(stages.diagnostics).toEqual([]);
    const names = stages.stages[0]!.stages.map((s) => s.name);
    expect(names.slice(0, PASS_NAMES.length + 1)).toEqual(['lower', ...PASS_NAMES]);
    expect(names.some((n) => n.startsWith('wgsl: ') && n.endsWith('.wgsl'))).toBe(true);
    expect(names.at(-1)).toBe('plan');
    const wgsl = stages.stages[0]!.stages.find((s) => s.name.startsWith('wgsl: '))!;
    expect(wgsl.text).toContain('@compute');
    expect(JSON.parse(stages.stages[0]!.stages.at(-1)!.text)).toHaveProperty('kernels');
    expect(stages.pictureSvg).toContain('density:');
    // The IR stages differ: planning adds a block plan the lowered IR has not.
    const ir = Object.fromEntries(stages.stages[0]!.stages.map((s) => [s.name, s.text]));
    expect(ir['lower']).not.toBe(ir['plan-blocks']);
  });

  it('keeps a range visible for an error at the very end of the text', () => {
    const spec = 'attention a {\n  heads: 2\n';
    const stages = compileStages(spec, { target: 'portable', seq: 8 });
    const error = stages.diagnostics.find((d) => d.severity === 'error')!;
    expect(error.from).toBeLessThan(error.to);
    expect(error.to).toBeLessThanOrEqual(spec.length);
  });
});

describe('the spec in the URL', () => {
  it('round-trips through the compressed hash, unicode and all', async () => {
    const spec = GOOD + '# naïve → ok\n';
    const hash = await encodeSpec(spec);
    expect(hash).toMatch(/^s=[A-Za-z0-9_-]+$/);
    expect(await decodeSpec('#' + hash)).toBe(spec);
  });

  it('reads plain base64url links, and gives null for a damaged or missing one', async () => {
    expect(await decodeSpec('#t=' + Buffer.from(GOOD).toString('base64url'))).toBe(GOOD);
    expect(await decodeSpec('#s=AAAA')).toBeNull();
    expect(await decodeSpec('')).toBeNull();
  });
});
