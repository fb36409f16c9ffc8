import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import type { CliIo } from '../../src/cli/io.js';
import { createProgress, statusLine, withProgress } from '../../src/cli/progress.js';

const ERASE = '\r\x1b[2K';
const examples = new URL('../../examples/', import.meta.url).pathname;

function fakeStream() {
  const writes: string[] = [];
  return { writes, stream: { write: (t: string) => writes.push(t) } };
}

describe('createProgress', () => {
  it('draws nothing when the stream is not a terminal, or when disabled (--json)', () => {
    for (const options of [{ isTTY: false }, { isTTY: true, enabled: false }]) {
      const { writes, stream } = fakeStream();
      const progress = createProgress({ stream, ...options, tickMs: 0 });
      progress.step('compiling');
      progress.note('a note');
      let wrote = false;
      progress.around(() => (wrote = true));
      progress.clear();
      expect(wrote).toBe(true);
      expect(writes).toEqual([]);
      expect(progress.active).toBe(false);
    }
  });

  it('rewrites one status line in place, with the seconds spent on the step', () => {
    const { writes, stream } = fakeStream();
    let now = 0;
    const progress = createProgress({ stream, isTTY: true, tickMs: 0, now: () => now });
    progress.step('swa: compiling kernels, first run (N = 4096)');
    now = 2500;
    progress.note('a lasting line');
    progress.clear();
    expect(writes).toEqual([
      `${ERASE}swa: compiling kernels, first run (N = 4096)`,
      `${ERASE}a lasting line\n`,
      `${ERASE}swa: compiling kernels, first run (N = 4096) (2s)`,
      ERASE,
    ]);
  });

  it('ticks the clock while a step runs, and stops when cleared', async () => {
    const { writes, stream } = fakeStream();
    const progress = createProgress({ stream, isTTY: true, tickMs: 5 });
    progress.step('waiting');
    await new Promise((resolve) => setTimeout(resolve, 40));
    progress.clear();
    const drawn = writes.length;
    expect(drawn).toBeGreaterThan(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(writes.length).toBe(drawn);
  });

  it('keeps a status line to one terminal line', () => {
    expect(statusLine('x'.repeat(100))).toHaveLength(78);
    expect(statusLine('short')).toBe('short');
  });
});

describe('withProgress', () => {
  it('erases the status line before each printed line and draws it again after', () => {
    let out = '';
    let err = '';
    const io: CliIo = {
      stdout: (t) => (out += `[out:${t}]`),
      stderr: (t) => (err += t),
      color: false,
      stderrIsTTY: true,
    };
    const wrapped = withProgress(io);
    wrapped.progress.step('rep 1/5');
    wrapped.io.stdout('result\n');
    expect(out).toBe('[out:result\n]');
    expect(err).toBe(`${ERASE}rep 1/5${ERASE}${ERASE}rep 1/5`);
    wrapped.progress.clear();
  });
});

describe('progress in attnc explain', () => {
  async function explain(stderrIsTTY: boolean, ...args: string[]) {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      color: false,
      stderrIsTTY,
    };
    const code = await runCli(
      ['explain', join(examples, 'sliding_window_causal.attn'), ...args],
      io,
    );
    return { code, stdout, stderr };
  }

  it('says what it is counting on a terminal, and leaves the line erased', async () => {
    const r = await explain(true, '--seq', '256', '--picture', '0');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('mistral_swa: group mistral_swa: density and tiles at N = 256');
    expect(r.stderr.endsWith(ERASE)).toBe(true);
    expect(r.stdout).not.toContain('\x1b');
  });

  it('prints nothing extra when stderr is piped', async () => {
    const r = await explain(false, '--seq', '256', '--picture', '0');
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });
});
