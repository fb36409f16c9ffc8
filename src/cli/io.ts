// Where the CLI writes, so commands can be run in-process by tests.

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /**
   * Colour is used when the output is a terminal that has colours: Node's own check
   * (tty.WriteStream#hasColors) honours NO_COLOR, NODE_DISABLE_COLORS, FORCE_COLOR and
   * TERM=dumb.
   */
  readonly color: boolean;
  /** Whether stderr is a terminal: progress lines are drawn only then (cli/progress.ts). */
  readonly stderrIsTTY?: boolean;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  color: Boolean(process.stdout.isTTY && process.stdout.hasColors()),
  stderrIsTTY: Boolean(process.stderr.isTTY),
};

/** A usage error: bad flags or arguments (exit code 2). */
export class UsageError extends Error {}
