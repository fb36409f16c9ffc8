// Entry point of `npm run demo:decode` (tsx demo/decode/main.ts ...).

import { processIo, UsageError } from '../../src/cli/io.js';
import { runDemoDecode } from './demo-command.js';

try {
  process.exitCode = await runDemoDecode(process.argv.slice(2), processIo);
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
