// `attnc explain FILE --cache [--capacity N]`: each head group's KV cache plan as text, and the
// construct that cannot be decoded incrementally at its line and column (exit 1).

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import type { CliIo } from '../../src/cli/io.js';

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), color: false };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const example = (name: string) =>
  fileURLToPath(new URL(`../../examples/${name}.attn`, import.meta.url));

describe('attnc explain --cache', () => {
  it('prints the ring of window | sink: independent of the capacity', async () => {
    const r = await cli('explain', example('streaming_llm'), '--cache', '--capacity', '100000');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        '== streaming_llm: KV cache at capacity 100,000 (per batch entry)',
        "-- group streaming_llm (32 heads, 32 kv heads): ring of 1,025 slots, whatever the capacity: the last 1,021 positions (look-back 1020 and the query's own) and the first 4 (sinks and global positions)",
        '   per kv head: 1024 B x min(1025, capacity)',
        '   at capacity 100,000: 1,025 positions, 1,049,600 B (1.00 MiB) per kv head, 33,587,200 B (32.0 MiB) for the group',
        'total: 33,587,200 B (32.0 MiB) per batch entry',
        '',
        '',
      ].join('\n'),
    );
  });

  it('plans each group of a hybrid on its own', async () => {
    const r = await cli('explain', example('hybrid_groups'), '--cache', '--capacity', '4096');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('-- group local (4 heads, 4 kv heads): ring of 129 slots');
    expect(r.stdout).toContain(
      '-- group linear (4 heads, 4 kv heads): recurrent state, no keys: sum phi(k) v^T (64 x 64) and sum phi(k) (64), f32, updated once per token',
    );
    expect(r.stdout).toContain('total: 330,752 B (323.0 KiB) per batch entry');
  });

  it('grows a contiguous cache with the capacity, topk with its block means', async () => {
    const small = await cli('explain', example('moba'), '--cache', '--capacity', '1024');
    expect(small.code).toBe(0);
    expect(small.stdout).toContain('per kv head: 1024 B x capacity + 512 B x ceil(capacity / 512)');
    expect(small.stdout).toContain(
      'at capacity 1,024: 1,024 positions, 1,049,600 B (1.00 MiB) per kv head',
    );
  });

  it('names the construct that cannot be decoded incrementally, where it is, and exits 1', async () => {
    const file = example('longformer');
    const r = await cli('explain', file, '--cache');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('-- group longformer: cannot be decoded incrementally');
    expect(r.stdout).toContain(
      `${file}:6:9: \`window(256)\`: it reads up to 256 keys after the query's position`,
    );
    const ny = await cli('explain', example('nystromformer'), '--cache');
    expect(ny.code).toBe(1);
    expect(ny.stdout).toMatch(/`nystrom\(64, iters: 6\)`: nystrom landmarks are segment means/);
  });

  it('rejects a capacity that is not a positive integer', async () => {
    const r = await cli('explain', example('moba'), '--cache', '--capacity', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--capacity must be a positive integer');
  });
});
