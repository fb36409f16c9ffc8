// What `attnc run` and `attnc bench` share: read one spec file, acquire a device, compile the
// spec for that device's profile and print its diagnostics, then hand the modules to the
// command. Every failure becomes a one-line message and an exit code; the device is always
// released.

import { compile, type CompiledModule } from '../api/compile.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../api/runtime.js';
import { hasErrors } from '../diagnostics/diagnostic.js';
import { renderDiagnostic } from '../diagnostics/render.js';
import { ADAPTER_CHOICES, isAdapterChoice, type AdapterChoice } from '../runtime/device.js';
import { assertDeviceUsable } from '../runtime/device-errors.js';
import { UsageError, type CliIo } from './io.js';
import { readSpecFile } from './read-spec-file.js';

/** Throws UsageError for an unknown adapter, before any file or device is touched. */
function checkAdapter(adapter: string): asserts adapter is AdapterChoice {
  if (!isAdapterChoice(adapter)) {
    throw new UsageError(`unknown adapter \`${adapter}\`: use ${ADAPTER_CHOICES.join(', ')}`);
  }
}

export async function withSpecOnDevice(
  file: string,
  adapter: string,
  io: CliIo,
  color: boolean,
  body: (runtime: Runtime, modules: readonly CompiledModule[]) => Promise<number>,
  runtimeOptions: Omit<RuntimeOptions, 'adapter'> = {},
): Promise<number> {
  checkAdapter(adapter);
  const read = readSpecFile(file);
  if (!read.ok) {
    io.stderr(`attnc: error: ${read.message}\n`);
    return read.kind === 'usage' ? 2 : 1;
  }
  let runtime: Runtime;
  try {
    runtime = await createRuntime({ ...runtimeOptions, adapter });
  } catch (error) {
    io.stderr(`attnc: error: ${(error as Error).message}\n`);
    return 1;
  }
  try {
    const compiled = compile(read.text, { file, target: runtime.profile });
    for (const d of compiled.diagnostics)
      io.stderr(renderDiagnostic(d, compiled.source, { color }) + '\n\n');
    if (hasErrors(compiled.diagnostics)) return 1;
    const code = await body(runtime, compiled.modules);
    // An error the device raised after the last call would otherwise go unreported.
    assertDeviceUsable(runtime.device, file);
    return code;
  } catch (error) {
    io.stderr(`attnc: error: ${(error as Error).message}\n`);
    return 1;
  } finally {
    runtime.destroy();
  }
}
