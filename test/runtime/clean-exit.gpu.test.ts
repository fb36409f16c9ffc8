// dawn.node habits: a process that acquired a device, ran a kernel and destroyed it must
// end by itself, without process.exit(). Runs the fixture in a child process per adapter.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { adapterAvailability } from './gpu-availability.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = 'test/runtime/fixtures/acquire-run-exit.ts';
const EXIT_WITHIN_MS = 15_000;

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

function runFixture(args: readonly string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_WITHIN_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

for (const adapter of ['llvmpipe', 'swiftshader'] as const) {
  const availability = await adapterAvailability(adapter);
  describe.skipIf(!availability.run)(`${adapter}: process exit`, () => {
    it('ends on its own after destroy()', async () => {
      const exit = await runFixture([adapter]);
      expect(exit.stderr).not.toMatch(/Error/);
      expect(exit.stdout.trim()).toBe(`ok ${adapter} sum-correct`);
      expect(exit.code).toBe(0);
      expect(exit.ms).toBeLessThan(EXIT_WITHIN_MS);
    });
  });
}
