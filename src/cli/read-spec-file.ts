// Reads a spec file for the CLI, turning every way a path can be unusable into a message
// a user can act on: missing, a directory, unreadable, too large, binary, not UTF-8.

import { readFileSync, statSync } from 'node:fs';

/** Generous: a 10,000-line spec is about 300 KB. Larger files are almost surely not specs. */
export const MAX_SPEC_BYTES = 4 * 1024 * 1024;

export type ReadResult =
  | { readonly ok: true; readonly text: string }
  /** `usage`: the path itself is wrong (exit 2); `content`: the file is not a spec (exit 1). */
  | {
      readonly ok: false;
      readonly kind: 'usage' | 'content';
      readonly code?: 'E104' | 'E105';
      readonly message: string;
    };

export function readSpecFile(path: string): ReadResult {
  let size: number;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      return {
        ok: false,
        kind: 'usage',
        message: `\`${path}\` is a directory; pass spec files, e.g. \`${path.replace(/\/$/, '')}/*.attn\``,
      };
    }
    size = stat.size;
  } catch (error) {
    return { ok: false, kind: 'usage', message: describeFsError(path, error) };
  }
  if (size > MAX_SPEC_BYTES) {
    return {
      ok: false,
      kind: 'content',
      code: 'E105',
      message: `\`${path}\` is ${formatBytes(size)}; spec files are limited to ${formatBytes(MAX_SPEC_BYTES)}`,
    };
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    return { ok: false, kind: 'usage', message: describeFsError(path, error) };
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    return {
      ok: false,
      kind: 'content',
      code: 'E104',
      message: `\`${path}\` looks like a binary file (a NUL byte at offset ${nul}), not a spec`,
    };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { ok: true, text: text.startsWith('\ufeff') ? text.slice(1) : text };
  } catch {
    const offset = firstInvalidUtf8(bytes);
    return {
      ok: false,
      kind: 'content',
      code: 'E104',
      message: `\`${path}\` is not UTF-8 text (invalid byte 0x${bytes[offset]!.toString(16).padStart(2, '0')} at offset ${offset}); save it as UTF-8`,
    };
  }
}

function describeFsError(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `cannot read \`${path}\`: no such file`;
    case 'EACCES':
    case 'EPERM':
      return `cannot read \`${path}\`: permission denied`;
    case 'EISDIR':
      return `\`${path}\` is a directory`;
    default:
      return `cannot read \`${path}\`: ${(error as Error).message}`;
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/** The offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const length =
      b < 0x80
        ? 1
        : b >= 0xc2 && b < 0xe0
          ? 2
          : b >= 0xe0 && b < 0xf0
            ? 3
            : b >= 0xf0 && b < 0xf5
              ? 4
              : 0;
    if (length === 0 || i + length > bytes.length) return i;
    for (let k = 1; k < length; k++) {
      if ((bytes[i + k]! & 0xc0) !== 0x80) return i + k;
    }
    i += length;
  }
  return 0;
}
