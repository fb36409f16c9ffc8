// Dawn's OpenGL backend (the llvmpipe adapter) prints two "artificially reduced" limit
// warnings per device from native code, straight to file descriptor 2, where no JavaScript
// hook can reach them; they are harmless and say nothing to an attnc user. So the commands
// that open a device run in a child process whose stderr passes through a line filter that
// drops exactly those two lines; everything else (diagnostics, errors) goes through as is.

import { spawn } from 'node:child_process';

/** The two lines, and nothing else. */
export const DAWN_LIMIT_WARNING =
  /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;

/** Commands that open a WebGPU device. */
const DEVICE_COMMANDS = new Set(['run', 'bench']);

/** Set in the child, so it does not relaunch itself again. */
const FILTERED_ENV = 'ATTNC_DAWN_LOG_FILTERED';

/** Splits a stream into lines and passes on those that `drop` does not match. */
export function lineFilter(write: (text: string) => void, drop: RegExp) {
  let pending = '';
  return {
    push(chunk: string): void {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop()!;
      for (const line of parts) if (!drop.test(line)) write(line + '\n');
    },
    end(): void {
      if (pending !== '' && !drop.test(pending)) write(pending);
      pending = '';
    },
  };
}

/**
 * For a device command, runs this same CLI in a child with stderr filtered and resolves to
 * its exit code; otherwise (or already in the child) resolves to null: run in-process.
 */
export function runWithDawnLogFilter(args: readonly string[]): Promise<number> | null {
  if (!DEVICE_COMMANDS.has(args[0] ?? '') || process.env[FILTERED_ENV] === '1') return null;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, [FILTERED_ENV]: '1' },
  });
  const filter = lineFilter((text) => process.stderr.write(text), DAWN_LIMIT_WARNING);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => filter.push(chunk));
  // Ctrl-C reaches the child too (same process group); the parent waits for it to finish.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', () => {});
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`attnc: could not start the device process: ${error.message}\n`);
      resolve(70);
    });
    child.on('close', (code, signal) => {
      filter.end();
      resolve(code ?? 128 + (signal === 'SIGINT' ? 2 : 15));
    });
  });
}
