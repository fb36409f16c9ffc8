// The error acquireDevice throws when no adapter of the asked kind could be had. Its
// message must be enough to fix the machine: which adapters were tried, why each failed,
// and the exact packages to install.

export type NodeAdapterKind = 'hardware' | 'llvmpipe' | 'swiftshader';

export interface AdapterAttempt {
  readonly kind: NodeAdapterKind;
  readonly reason: string;
}

export const LLVMPIPE_PACKAGES = ['libegl1', 'libegl-mesa0', 'libgl1-mesa-dri'] as const;
/** Debian's chromium ships SwiftShader's Vulkan ICD; Dawn also needs the Vulkan loader. */
export const SWIFTSHADER_PACKAGES = ['chromium', 'libvulkan1'] as const;

export function aptInstallCommand(packages: readonly string[]): string {
  return `sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

export class AdapterNotFoundError extends Error {
  override readonly name = 'AdapterNotFoundError';
  readonly attempts: readonly AdapterAttempt[];

  constructor(requested: string, attempts: readonly AdapterAttempt[]) {
    super(renderMessage(requested, attempts));
    this.attempts = attempts;
  }
}

function renderMessage(requested: string, attempts: readonly AdapterAttempt[]): string {
  const tried = attempts.map((a) => `  - ${a.kind}: ${a.reason}`);
  const wantsSwiftShader = attempts.some((a) => a.kind === 'swiftshader');
  const wantsLlvmpipe = attempts.some((a) => a.kind === 'llvmpipe');
  const fixes: string[] = [];
  if (wantsLlvmpipe || !wantsSwiftShader) {
    fixes.push(`  ${aptInstallCommand(LLVMPIPE_PACKAGES)}     (Mesa llvmpipe, via OpenGL)`);
  }
  if (wantsSwiftShader) {
    fixes.push(`  ${aptInstallCommand(SWIFTSHADER_PACKAGES)}     (SwiftShader, via Vulkan)`);
  }
  return [
    `No WebGPU adapter found for adapter '${requested}'. Tried:`,
    ...tried,
    'To get a software adapter on Debian/Ubuntu, run:',
    ...fixes,
    '  or: scripts/setup-webgpu.sh   (add --with-swiftshader for SwiftShader)',
  ].join('\n');
}
