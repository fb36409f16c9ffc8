// `npm run demo:decode` end to end on llvmpipe, in-process: it prints the device, the model,
// the speeds and the latency table, and the tokens it generates are the CPU model's (default
// model with a window of 4, seed 5, the prompt repeated to the context, greedy), and the
// windowed layers keep ring caches.

import { describe, expect, it } from 'vitest';
import { argMax, CpuDecoder } from '../../../demo/decode/cpu-model.js';
import { DEFAULT_MODEL } from '../../../demo/decode/config.js';
import { runDemoDecode } from '../../../demo/decode/demo-command.js';
import { makeWeights } from '../../../demo/decode/weights.js';
import type { CliIo } from '../../../src/cli/io.js';
import { adapterAvailability } from '../../runtime/gpu-availability.js';

const availability = await adapterAvailability('llvmpipe');

describe.skipIf(!availability.run)('npm run demo:decode', () => {
  it('generates the CPU model tokens and prints its report', async () => {
    const out: string[] = [];
    const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => out.push(t), color: false };
    const argv = ['--tokens', '4', '--context', '20', '--adapter', 'llvmpipe', '--seed', '5'];
    argv.push('--window', '4'); // so that the windowed layers' rings are smaller than 24
    expect(await runDemoDecode([...argv, '--prompt', 'Hi there', '--chunk', '8'], io)).toBe(0);
    const text = out.join('');
    expect(text).toContain('device: ');
    expect(text).toContain('model: 4 layers (3 x causal window(left: 4) | sink(4)');
    expect(text).toMatch(/KV caches \(attention\.createCache\), [\d.]+ KiB in all:\n/);
    expect(text).toMatch(/ {2}layers 0-2: a ring of \d+ positions per kv head/);
    expect(text).toMatch(/ {2}layer 3: a contiguous store of 24 positions per kv head/);
    expect(text).toMatch(/prefill: 20 tokens in [\d.]+ s/);
    expect(text).toMatch(/decode: 3 tokens in [\d.]+ s: [\d.]+ tokens\/s/);
    expect(text).toMatch(/\n {9}8 {7}5 +[\d.]+\n/);
    expect(text).toMatch(/\n {8}16 {7}4 +[\d.]+\n/);
    expect(text).toMatch(/\n {5}21-23 {7}3 +[\d.]+ {3}\(decode\)\n/);

    const config = { ...DEFAULT_MODEL, window: 4 };
    const cpu = new CpuDecoder(config, makeWeights(config, 5));
    const prompt = new TextEncoder().encode('Hi there');
    const context = Array.from({ length: 20 }, (_, i) => prompt[i % prompt.length]!);
    const expected = [argMax(cpu.step(context))];
    while (expected.length < 4) expected.push(argMax(cpu.step([expected.at(-1)!])));
    expect(text).toContain(`generated ids: ${expected.join(' ')}\n`);
  }, 180_000);
});
