// Finding a WebGPU adapter in Node through dawn.node (npm `webgpu`), one kind at a time.
// Only device.ts loads this module, and only by dynamic import on the Node path, so a
// browser bundle never pulls in dawn.node or Node built-ins.
//
// Each kind needs its own Dawn instance and environment (docs/runtime.md has the facts):
// - hardware:    create([]) with the caller's own Vulkan setup; a core adapter whose
//                name is not a software one.
// - llvmpipe:    create(['backend=opengl']) with EGL_PLATFORM=surfaceless and
//                LIBGL_ALWAYS_SOFTWARE=1, compatibility feature level.
// - swiftshader: create([]) with VK_ICD_FILENAMES (and VK_DRIVER_FILES, which newer
//                Vulkan loaders prefer) naming SwiftShader's ICD manifest.
// The variables are set only while the adapter and device are being made, then restored,
// so a later hardware probe in the same process does not see SwiftShader. Because
// process.env is global, acquisitions are serialized.

import { classifyAdapter, describeAdapter } from './adapter-kind.js';
import type { NodeAdapterKind } from './adapter-not-found.js';

export interface OpenedAdapter<T> {
  readonly adapter: GPUAdapter;
  readonly value: T;
}

export type AdapterOutcome<T> =
  | { readonly ok: true; readonly opened: OpenedAdapter<T> }
  | { readonly ok: false; readonly reason: string };

interface DawnModule {
  create(options: string[]): GPU;
  globals: object;
}

/** Where Debian's and Google's Chromium packages put SwiftShader's Vulkan ICD. */
const SWIFTSHADER_ICD_CANDIDATES = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib64/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

let serial: Promise<unknown> = Promise.resolve();

/**
 * Opens an adapter of `kind` and runs `open` on it (to request the device) while the
 * kind's environment is in place. Never throws for a missing adapter: says why instead.
 */
export function openNodeAdapter<T>(
  kind: NodeAdapterKind,
  open: (adapter: GPUAdapter) => Promise<T>,
): Promise<AdapterOutcome<T>> {
  const run = serial.then(() => openSerially(kind, open));
  serial = run.catch(() => undefined);
  return run;
}

async function openSerially<T>(
  kind: NodeAdapterKind,
  open: (adapter: GPUAdapter) => Promise<T>,
): Promise<AdapterOutcome<T>> {
  let dawn: DawnModule;
  try {
    dawn = await loadDawn();
  } catch (e) {
    if (isPackageMissing(e)) throw new WebGPUPackageMissingError();
    return { ok: false, reason: `could not load dawn.node from npm 'webgpu': ${message(e)}` };
  }
  const setup = await adapterSetup(kind);
  if (typeof setup === 'string') return { ok: false, reason: setup };
  const restore = setEnv(setup.env);
  try {
    const gpu = dawnInstance(dawn, kind, setup.createOptions);
    const adapter = await gpu.requestAdapter(setup.adapterOptions);
    if (adapter === null) return { ok: false, reason: await setup.whyNull() };
    const found = classifyAdapter(adapter.info);
    const expected = kind === 'hardware' ? 'hardware' : kind;
    if (found !== expected) {
      return {
        ok: false,
        reason: `${setup.what} gave '${describeAdapter(adapter.info)}', which is ${found}, not ${expected}`,
      };
    }
    const value = await open(adapter);
    return { ok: true, opened: { adapter, value } };
  } catch (e) {
    return { ok: false, reason: `${setup.what} failed: ${message(e)}` };
  } finally {
    restore();
  }
}

// One Dawn instance per kind for the life of the process, never dropped: when a dropped
// instance is garbage-collected while another instance has work in flight, dawn.node
// 0.6.2 now and then aborts the process ("terminate called after throwing an instance
// of 'std::system_error'") or leaves a mapAsync promise unresolved. Seen under vitest,
// where GC runs at other moments than in a plain script; docs/runtime.md has the story.
const instances = new Map<NodeAdapterKind, GPU>();

function dawnInstance(dawn: DawnModule, kind: NodeAdapterKind, options: string[]): GPU {
  let gpu = instances.get(kind);
  if (gpu === undefined) {
    gpu = dawn.create(options);
    instances.set(kind, gpu);
  }
  return gpu;
}

/**
 * npm `webgpu` (Dawn for Node, 132 MB) is an optional peer dependency: browser-only and
 * compile-only users never install it, so its absence is said plainly, with the fix.
 */
export class WebGPUPackageMissingError extends Error {
  override readonly name = 'WebGPUPackageMissingError';
  constructor() {
    super(
      "attnc needs the npm package 'webgpu' (Dawn for Node) to find a WebGPU adapter in Node, " +
        "and it is not installed; run 'npm install webgpu'. (In a browser, pass your own " +
        'device instead: createRuntime({ device }).)',
    );
  }
}

function isPackageMissing(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /'webgpu'/.test(message(e))
  );
}

let dawnModule: Promise<DawnModule> | undefined;
/** A variable, so that a bundler leaves the optional native package alone (never bundled). */
const WEBGPU_PACKAGE: string = 'webgpu';

async function loadDawn(): Promise<DawnModule> {
  dawnModule ??= import(WEBGPU_PACKAGE).then(
    (m: { create: DawnModule['create']; globals: object }) => {
      // GPUBufferUsage, GPUMapMode and friends, which the rest of the runtime uses as globals.
      const g = globalThis as Record<string, unknown>;
      for (const [name, value] of Object.entries(m.globals as object)) {
        if (!(name in g)) g[name] = value;
      }
      return { create: m.create, globals: m.globals as object };
    },
  );
  return dawnModule;
}

interface AdapterSetup {
  readonly what: string;
  readonly env: Readonly<Record<string, string>>;
  readonly createOptions: string[];
  readonly adapterOptions: GPURequestAdapterOptions;
  whyNull(): Promise<string>;
}

async function adapterSetup(kind: NodeAdapterKind): Promise<AdapterSetup | string> {
  switch (kind) {
    case 'hardware': {
      const none = await noVulkanDriverReason();
      if (none !== undefined) return none;
      return {
        what: "Dawn's default backend",
        env: {},
        createOptions: [],
        adapterOptions: { powerPreference: 'high-performance' },
        whyNull: async () => "Dawn's default backend found no core adapter",
      };
    }
    case 'llvmpipe':
      return {
        what: "Dawn's OpenGL backend",
        env: { EGL_PLATFORM: 'surfaceless', LIBGL_ALWAYS_SOFTWARE: '1' },
        createOptions: ['backend=opengl'],
        adapterOptions: { featureLevel: 'compatibility' },
        whyNull: async () =>
          (await findLibrary('libEGL_mesa.so.0')) === undefined
            ? "Mesa's EGL (libEGL_mesa.so.0, package libegl-mesa0) is not installed"
            : "Dawn's OpenGL backend (EGL_PLATFORM=surfaceless) returned no adapter; " +
              'are libegl1 and libgl1-mesa-dri installed?',
      };
    case 'swiftshader': {
      const icd = await findSwiftShaderIcd();
      if (icd === undefined) {
        return (
          `no SwiftShader Vulkan ICD (looked for ${SWIFTSHADER_ICD_CANDIDATES.join(', ')}; ` +
          'set ATTNC_SWIFTSHADER_ICD to use another); Debian package chromium ships one'
        );
      }
      if ((await findLibrary('libvulkan.so.1')) === undefined) {
        return `found ${icd}, but the Vulkan loader libvulkan.so.1 (package libvulkan1) is missing`;
      }
      return {
        what: `Dawn's Vulkan backend with ${icd}`,
        env: { VK_ICD_FILENAMES: icd, VK_DRIVER_FILES: icd },
        createOptions: [],
        adapterOptions: {},
        whyNull: async () => `Dawn's Vulkan backend found no adapter with VK_ICD_FILENAMES=${icd}`,
      };
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown adapter kind ${String(never)}`);
    }
  }
}

/** Sets variables, returning a function that puts back exactly what was there before. */
function setEnv(vars: Readonly<Record<string, string>>): () => void {
  const before = Object.keys(vars).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, vars);
  return () => {
    for (const [name, value] of before) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

async function findSwiftShaderIcd(): Promise<string | undefined> {
  const { existsSync } = await import('node:fs');
  const fromEnv = process.env['ATTNC_SWIFTSHADER_ICD'];
  const candidates = fromEnv ? [fromEnv] : SWIFTSHADER_ICD_CANDIDATES;
  return candidates.find((path) => existsSync(path));
}

function libraryDirs(): string[] {
  const triple = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  return [`/usr/lib/${triple}`, `/lib/${triple}`, '/usr/lib64', '/usr/lib', '/lib64', '/lib'];
}

async function findLibrary(file: string): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'not checked';
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  return libraryDirs()
    .map((dir) => join(dir, file))
    .find((path) => existsSync(path));
}

/**
 * On Linux, Dawn's default backend is Vulkan. When no Vulkan driver manifest exists at
 * all, asking Dawn only prints loader warnings, so say so without asking.
 */
async function noVulkanDriverReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return undefined;
  const env = process.env;
  if (env['VK_ICD_FILENAMES'] || env['VK_DRIVER_FILES'] || env['VK_ADD_DRIVER_FILES']) {
    return undefined;
  }
  const { readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const home = env['HOME'] ?? '';
  const configDirs = [env['XDG_CONFIG_HOME'] ?? join(home, '.config')]
    .concat((env['XDG_CONFIG_DIRS'] ?? '/etc/xdg').split(':'))
    .concat(['/etc']);
  const dataDirs = [env['XDG_DATA_HOME'] ?? join(home, '.local/share')]
    .concat((env['XDG_DATA_DIRS'] ?? '/usr/local/share:/usr/share').split(':'))
    .concat(['/usr/share']);
  const icdDirs = [...configDirs, ...dataDirs].map((dir) => join(dir, 'vulkan', 'icd.d'));
  for (const dir of icdDirs) {
    try {
      if (readdirSync(dir).some((f) => f.endsWith('.json'))) return undefined;
    } catch {
      // A missing directory is the common case.
    }
  }
  if ((await findLibrary('libvulkan.so.1')) === undefined) {
    return 'no Vulkan loader (libvulkan.so.1) and no Vulkan driver installed';
  }
  return 'no Vulkan driver installed (no ICD manifest in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d)';
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
