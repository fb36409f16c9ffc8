// `npm run bench -- --cold`: each example's first run on a machine whose shader cache is
// empty. Mesa compiles every kernel with LLVM on first use and caches the result under
// ~/.cache/mesa_shader_cache, so a fresh machine (a new user, a CI box) pays what a warm
// one never shows. Each example runs in its own process with MESA_SHADER_CACHE_DISABLE=true:
// the time is process start to exit of `attnc run FILE --seq N --reps 1`.

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface ColdStart {
  readonly example: string;
  readonly seconds: number;
  /** 'ok', 'failed' (exit status), or 'timeout' (killed at the limit). */
  readonly outcome: 'ok' | 'failed' | 'timeout';
}

export function exampleFiles(dir = 'examples'): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.attn'))
    .sort()
    .map((f) => join(dir, f));
}

/** Runs one example cold, with the CLI from source (tsx), and times the whole process. */
export function coldStart(
  file: string,
  options: { adapter: string; seq: number; limitSeconds: number },
): Promise<ColdStart> {
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'run', file];
  args.push('--seq', String(options.seq), '--reps', '1', '--adapter', options.adapter);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, MESA_SHADER_CACHE_DISABLE: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // The driver compiles inside the process group's threads: end the whole group.
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, options.limitSeconds * 1000);
    child.stderr.resume();
    child.on('exit', (code) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const outcome = timedOut ? 'timeout' : code === 0 ? 'ok' : 'failed';
      resolve({ example: file, seconds, outcome });
    });
  });
}

export function formatColdStarts(results: readonly ColdStart[]): string {
  const width = Math.max(...results.map((r) => r.example.length), 'example'.length);
  const lines = [`${'example'.padEnd(width)}  first run (s)  outcome`];
  for (const r of results) {
    lines.push(`${r.example.padEnd(width)}  ${r.seconds.toFixed(2).padStart(13)}  ${r.outcome}`);
  }
  const worst = results.reduce((m, r) => Math.max(m, r.seconds), 0);
  lines.push(`slowest: ${worst.toFixed(2)} s`);
  return lines.join('\n');
}
