// Run on the browser's WebGPU: compile for the page's own device, time the kernels, and compare
// every output with the CPU reference (the max abs error), as `attnc run --verify` does.

import { compile } from '../../src/api/compile.js';
import { randomInputs } from '../../src/api/random-inputs.js';
import { reference } from '../../src/api/reference.js';
import { createRuntime, type Runtime } from '../../src/api/runtime.js';

export interface RunRow {
  readonly name: string;
  readonly seq: number;
  readonly medianMs: number;
  readonly maxError: number;
}

export interface RunReport {
  readonly adapter: string;
  readonly rows: readonly RunRow[];
}

let runtime: Promise<Runtime> | null = null;

/** The page's device, asked for once: subgroups and f16 when the adapter has them. */
function pageRuntime(): Promise<Runtime> {
  runtime ??= (async () => {
    const gpu = navigator.gpu;
    if (!gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error('navigator.gpu.requestAdapter() found no adapter');
    const wanted: GPUFeatureName[] = ['subgroups', 'shader-f16'];
    const device = await adapter.requestDevice({
      requiredFeatures: wanted.filter((f) => adapter.features.has(f)),
    });
    return createRuntime({ device });
  })();
  runtime.catch(() => (runtime = null));
  return runtime;
}

export async function runSpec(spec: string, seq: number, repeat = 3): Promise<RunReport> {
  const rt = await pageRuntime();
  const compiled = compile(spec, { file: 'playground.attn', target: rt.profile });
  const error = compiled.diagnostics.find((d) => d.severity === 'error');
  if (error) throw new Error(`the spec has errors: ${error.message}`);
  const rows: RunRow[] = [];
  for (const module of compiled.modules) {
    const inputs = randomInputs(module, { batch: 1, seqQ: seq, seqK: seq });
    const kernel = await rt.load(module);
    try {
      let output = await kernel.run(inputs); // first run compiles the pipelines: not timed
      const times: number[] = [];
      for (let r = 0; r < repeat; r++) {
        const start = performance.now();
        output = await kernel.run(inputs);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      const expected = reference(module, inputs).o;
      let maxError = 0;
      for (let i = 0; i < expected.length; i++) {
        const e = Math.abs(output.o[i]! - expected[i]!);
        maxError = Number.isFinite(e) ? Math.max(maxError, e) : Infinity;
      }
      rows.push({
        name: module.name,
        seq,
        medianMs: times[Math.floor(times.length / 2)]!,
        maxError,
      });
    } finally {
      kernel.destroy();
    }
  }
  return { adapter: rt.adapterName, rows };
}
