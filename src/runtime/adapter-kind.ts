// Telling hardware adapters from CPU-emulated ones by what GPUAdapterInfo reports.
// Names are the only signal that works everywhere: Dawn marks SwiftShader as a fallback
// adapter but not llvmpipe, and browsers may blank the fields. Keep the patterns in step
// with scripts/probe-adapters.mjs (test/runtime/adapter-kind.test.ts checks both agree).

export type SoftwareKind = 'llvmpipe' | 'swiftshader' | 'other-software';
export type AdapterClass = 'hardware' | SoftwareKind;

/** The GPUAdapterInfo fields read here; a structural subset so tests can pass plain objects. */
export interface AdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}

// lavapipe reports itself as "llvmpipe (LLVM ...)" through Vulkan, so 'llvmpipe' here
// means "Mesa's CPU rasterizer" whichever API it came through.
const SOFTWARE_PATTERNS: readonly (readonly [RegExp, SoftwareKind])[] = [
  [/swiftshader|subzero/i, 'swiftshader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe|softpipe|microsoft basic render|\bwarp\b|software rasterizer/i, 'other-software'],
];

export function classifyAdapter(info: AdapterInfoLike): AdapterClass {
  const text = [info.vendor, info.architecture, info.device, info.description]
    .filter((s): s is string => typeof s === 'string' && s.length > 0)
    .join(' ');
  for (const [pattern, kind] of SOFTWARE_PATTERNS) {
    if (pattern.test(text)) return kind;
  }
  return info.isFallbackAdapter === true ? 'other-software' : 'hardware';
}

/**
 * A one-line human name, device first: "swiftshader-device-subzero- (SwiftShader driver
 * 5.0.0)", "NVIDIA GeForce RTX 4090 (NVIDIA: 550.54)".
 */
export function describeAdapter(info: AdapterInfoLike): string {
  const head = info.device || info.description || info.vendor || info.architecture || '';
  if (head === '') return 'unnamed adapter';
  const detail = info.description ?? '';
  return detail !== '' && detail !== head ? `${head} (${detail})` : head;
}
