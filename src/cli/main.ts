#!/usr/bin/env node
// Entry point of the `attnc` binary. Exits explicitly: a WebGPU device (dawn.node) can keep
// the event loop alive after work is done.

import { runCli } from './cli.js';
import { runWithDawnLogFilter } from './dawn-log-filter.js';
import { processIo } from './io.js';

const args = process.argv.slice(2);
(runWithDawnLogFilter(args) ?? runCli(args, processIo)).then(
  (code) => {
    process.exitCode = code;
    // Let stdout drain before leaving.
    process.stdout.write('', () => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(
      `attnc: internal error (a bug in attnc; please report it): ${(error as Error)?.stack ?? String(error)}\n`,
    );
    process.exit(70);
  },
);
