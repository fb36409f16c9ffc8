// `attnc explain FILE --kernels`: the kernel IR of every kernel (a golden stage, like the
// attention IR after each pass), one line for kernels still written from a WGSL template.
// Rewrite with `UPDATE_GOLDEN=1 npx vitest run test/cli/explain-kernels.test.ts`.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import type { CliIo } from '../../src/cli/io.js';

const examples = new URL('../../examples/', import.meta.url).pathname;
const update = process.env['UPDATE_GOLDEN'] === '1';

async function explainKernels(example: string) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), color: false };
  const code = await runCli(['explain', `${examples}${example}.attn`, '--kernels'], io);
  return { code, stdout, stderr };
}

describe('attnc explain --kernels', () => {
  for (const example of [
    'document_mask',
    'linear_transformer',
    'performer',
    'linformer',
    'nystromformer',
    'routing_transformer',
    'moba',
    'mixture_of_heads',
  ]) {
    it(example, async () => {
      const r = await explainKernels(example);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const path = new URL(`golden/${example}.kernels.txt`, import.meta.url);
      if (update || !existsSync(path)) writeFileSync(path, r.stdout);
      expect(r.stdout).toBe(readFileSync(path, 'utf8'));
    });
  }

  it('lists the option in its help', async () => {
    let stdout = '';
    const io: CliIo = { stdout: (t) => (stdout += t), stderr: () => {}, color: false };
    expect(await runCli(['explain', '--help'], io)).toBe(0);
    expect(stdout).toContain('--kernels           print the kernel IR of every kernel instead');
  });
});
