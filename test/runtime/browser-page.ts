// The page side of browser.gpu.test.ts, bundled by esbuild: it takes the page's own
// `navigator.gpu` device, hands it to `createRuntime({ device })` and runs compiled specs,
// exactly as a web app would. Inputs and outputs cross the page boundary as plain arrays.

import { compile, createRuntime, type Runtime } from '../../src/index.js';

export interface PageRunRequest {
  readonly spec: string;
  /** `device` compiles for the runtime's own profile; otherwise a target name. */
  readonly target: string;
  readonly inputs: Record<string, number[] | number>;
}

export interface PageRunResult {
  readonly o: number[];
  /** The profile the module was compiled for. */
  readonly profile: string;
  /** The runtime's own profile, read off the page's device. */
  readonly runtimeProfile: { readonly name: string; readonly cpuLike: boolean };
  readonly kind: string;
}

let runtime: Runtime | null = null;

async function pageRuntime(): Promise<Runtime> {
  if (runtime) return runtime;
  // The project's tsconfig has no DOM lib; the page's navigator is typed here by hand.
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) throw new Error('navigator.gpu is missing: WebGPU is not enabled');
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned null');
  const wanted: GPUFeatureName[] = ['subgroups', 'shader-f16'];
  const device = await adapter.requestDevice({
    requiredFeatures: wanted.filter((f) => adapter.features.has(f)),
  });
  runtime = await createRuntime({ device });
  return runtime;
}

async function run(request: PageRunRequest): Promise<PageRunResult> {
  const rt = await pageRuntime();
  const target = request.target === 'device' ? rt.profile : request.target;
  const compiled = compile(request.spec, { target });
  const module = compiled.modules[0];
  if (!module) throw new Error(compiled.diagnostics.map((d) => d.message).join('\n'));
  const inputs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.inputs)) {
    if (typeof value === 'number') inputs[name] = value;
    else
      inputs[name] = name.startsWith('seg_') ? Uint32Array.from(value) : Float32Array.from(value);
  }
  const loaded = await rt.load(module);
  try {
    const { o } = await loaded.run(inputs as unknown as Parameters<typeof loaded.run>[0]);
    return {
      o: Array.from(o),
      profile: module.plan.profile,
      runtimeProfile: { name: rt.profile.name, cpuLike: rt.profile.cpuLike },
      kind: rt.kind,
    };
  } finally {
    loaded.destroy();
  }
}

function destroy(): void {
  runtime?.destroy();
  runtime = null;
}

Object.assign(globalThis, { attncPage: { run, destroy } });
