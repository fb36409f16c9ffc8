#!/usr/bin/env node
// Which WebGPU adapters does this machine have? Plain JavaScript so it runs before (and
// without) the TypeScript build: scripts/setup-webgpu.sh calls it to decide what to
// install and to check the result. The runtime's own logic is src/runtime/node-adapters.ts;
// the name patterns below must match src/runtime/adapter-kind.ts (a unit test checks).
//
// usage: node scripts/probe-adapters.mjs [--json] [--require KIND[,KIND...]] [KIND...]
//   KIND: hardware | llvmpipe | swiftshader (default: all three)
//   exit status 0, or 1 when a --require'd kind is missing, or 2 when dawn.node won't load.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SOFTWARE_PATTERNS = [
  [/swiftshader|subzero/i, 'swiftshader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe|softpipe|microsoft basic render|\bwarp\b|software rasterizer/i, 'other-software'],
];

/** Same contract as classifyAdapter in src/runtime/adapter-kind.ts. */
export function classifyAdapter(info) {
  const text = [info.vendor, info.architecture, info.device, info.description]
    .filter((s) => typeof s === 'string' && s.length > 0)
    .join(' ');
  for (const [pattern, kind] of SOFTWARE_PATTERNS) {
    if (pattern.test(text)) return kind;
  }
  return info.isFallbackAdapter === true ? 'other-software' : 'hardware';
}

const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib64/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

const KINDS = ['hardware', 'llvmpipe', 'swiftshader'];

function setup(kind) {
  switch (kind) {
    case 'hardware':
      return { env: {}, create: [], request: { powerPreference: 'high-performance' } };
    case 'llvmpipe':
      return {
        env: { EGL_PLATFORM: 'surfaceless', LIBGL_ALWAYS_SOFTWARE: '1' },
        create: ['backend=opengl'],
        request: { featureLevel: 'compatibility' },
      };
    case 'swiftshader': {
      const icd = [process.env.ATTNC_SWIFTSHADER_ICD, ...SWIFTSHADER_ICDS].find(
        (p) => p && existsSync(p),
      );
      if (!icd) return { missing: 'no SwiftShader ICD (Debian package chromium ships one)' };
      return {
        env: { VK_ICD_FILENAMES: icd, VK_DRIVER_FILES: icd },
        create: [],
        request: {},
      };
    }
    default:
      throw new Error(`unknown adapter kind ${kind}`);
  }
}

/** Probes one kind: { kind, ok, name?, reason? }. Devices are made and destroyed. */
export async function probe(dawn, kind) {
  const s = setup(kind);
  if (s.missing) return { kind, ok: false, reason: s.missing };
  const before = Object.fromEntries(Object.keys(s.env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, s.env);
  try {
    const gpu = dawn.create(s.create);
    const adapter = await gpu.requestAdapter(s.request);
    if (!adapter) return { kind, ok: false, reason: 'no adapter' };
    const info = adapter.info;
    const name = info.device || info.description || info.vendor || 'unnamed adapter';
    const found = classifyAdapter(info);
    if (found !== kind) return { kind, ok: false, name, reason: `got ${found} adapter ${name}` };
    const device = await adapter.requestDevice();
    device.destroy();
    return { kind, ok: true, name };
  } catch (e) {
    return { kind, ok: false, reason: e instanceof Error ? e.message : String(e) };
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function main(argv) {
  const json = argv.includes('--json');
  const reqIndex = argv.indexOf('--require');
  const required = reqIndex >= 0 ? (argv[reqIndex + 1] ?? '').split(',').filter(Boolean) : [];
  const asked = argv.filter((a, i) => !a.startsWith('--') && (reqIndex < 0 || i !== reqIndex + 1));
  const kinds = asked.length > 0 ? asked : required.length > 0 ? required : KINDS;
  for (const k of [...kinds, ...required]) {
    if (!KINDS.includes(k)) {
      console.error(`probe-adapters: unknown kind '${k}' (expected ${KINDS.join(', ')})`);
      return 2;
    }
  }
  let dawn;
  try {
    dawn = await import('webgpu');
  } catch (e) {
    console.error(`probe-adapters: cannot load npm 'webgpu' (run npm install): ${e.message}`);
    return 2;
  }
  const results = [];
  for (const kind of kinds) results.push(await probe(dawn, kind));
  if (json) {
    console.log(JSON.stringify(results));
  } else {
    for (const r of results) {
      console.log(`${r.kind.padEnd(12)} ${r.ok ? 'yes' : 'no '}  ${r.ok ? r.name : r.reason}`);
    }
  }
  const missing = required.filter((k) => !results.some((r) => r.kind === k && r.ok));
  return missing.length > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // Exit explicitly: a process holding dawn.node objects need not exit by itself.
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(2);
    },
  );
}
