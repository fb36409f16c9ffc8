// Progress on long work (`attnc run`, `bench`, `explain` at large N): one status line on stderr,
// rewritten in place, with the seconds spent on the current step, so a first run on a software
// adapter that sits in the driver's shader compiler for minutes does not look hung. Only on a
// terminal: when stderr is piped, or the command writes --json, it prints nothing at all.
//
// Hand-written rather than a progress-bar library: the work has no known total (a driver
// compiling a kernel gives no percentage), so what is needed is a labelled line with a clock,
// which is `\r`, an erase-line escape and a timer; tests drive it with a fake stream and clock.

import type { CliIo } from './io.js';

export interface ProgressStream {
  write(text: string): unknown;
}

export interface ProgressOptions {
  readonly stream: ProgressStream;
  /** Whether the stream is a terminal; progress is drawn only then. */
  readonly isTTY: boolean;
  /** False under --json (and anything else that wants a clean stderr). */
  readonly enabled?: boolean;
  /** Milliseconds between redraws of the clock (default 1000; 0 for no timer, as in tests). */
  readonly tickMs?: number;
  readonly now?: () => number;
}

export interface Progress {
  /** Shows `text` as the current step; the clock restarts. */
  step(text: string): void;
  /** A line that stays (the status line is redrawn below it). */
  note(text: string): void;
  /** Clears the status line and stops the clock (the work is done). */
  clear(): void;
  /** Runs `write` with the status line erased and draws it again after (for printing results). */
  around(write: () => void): void;
  /** Whether anything is drawn (a terminal, and enabled). */
  readonly active: boolean;
}

const ERASE_LINE = '\r\x1b[2K';

export function createProgress(options: ProgressOptions): Progress {
  if (!options.isTTY || options.enabled === false) return NO_PROGRESS;
  const { stream } = options;
  const now = options.now ?? (() => performance.now());
  const tickMs = options.tickMs ?? 1000;
  let current: string | null = null;
  let since = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  const draw = () => {
    if (current === null) return;
    const seconds = Math.floor((now() - since) / 1000);
    stream.write(`${ERASE_LINE}${current}${seconds > 0 ? ` (${seconds}s)` : ''}`);
  };
  const stopTimer = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  return {
    active: true,
    step(text) {
      current = statusLine(text);
      since = now();
      draw();
      if (timer === null && tickMs > 0) {
        timer = setInterval(draw, tickMs);
        // A forgotten clear must never keep the process alive.
        timer.unref?.();
      }
    },
    note(text) {
      stream.write(`${ERASE_LINE}${text}\n`);
      draw();
    },
    clear() {
      stopTimer();
      if (current !== null) stream.write(ERASE_LINE);
      current = null;
    },
    around(write) {
      if (current !== null) stream.write(ERASE_LINE);
      write();
      draw();
    },
  };
}

/** Progress that draws nothing (under --json). */
export const NO_PROGRESS: Progress = {
  active: false,
  step: () => {},
  note: () => {},
  clear: () => {},
  around: (write) => write(),
};

/**
 * The command's io with progress: progress is drawn on its stderr when `io.stderrIsTTY` (and
 * `enabled`), and every line the command prints erases the status line first, so results never
 * share a line with it on a terminal.
 */
export function withProgress(io: CliIo, enabled = true): { io: CliIo; progress: Progress } {
  const progress = createProgress({
    stream: { write: (text: string) => io.stderr(text) },
    isTTY: io.stderrIsTTY === true,
    enabled,
  });
  if (!progress.active) return { io, progress };
  return {
    progress,
    io: {
      ...io,
      stdout: (text) => progress.around(() => io.stdout(text)),
      stderr: (text) => progress.around(() => io.stderr(text)),
    },
  };
}

/**
 * Said once before the first kernel runs: the driver compiles each pipeline on first use, which
 * takes minutes for a large kernel on a software adapter; the pipelines are then reused, and
 * Mesa (llvmpipe) also keeps its shader cache on disk, so the next process starts faster.
 */
export const FIRST_RUN_NOTE =
  'attnc: compiling kernels: the first run of each kernel waits for the driver to compile it\n' +
  '       (minutes on a software adapter); later runs are cached';

/** A status line must fit one terminal line, or erasing it leaves the wrapped part behind. */
export function statusLine(text: string, columns = 78): string {
  return text.length <= columns ? text : text.slice(0, columns - 1) + '…';
}
