// The tuner's memory: which schedule won for a kernel on an adapter at a size class. Entries
// are keyed by the adapter (vendor, architecture, description, and the profile's name), the
// kernel (a hash of the default kernels' WGSL, so any change to the spec or the compiler
// tunes again) with the softmax group, and the size class. In memory for a runtime's life;
// in Node it may also be kept in a JSON file (tune-cache-file.ts) shared by processes.
//
// What comes from a file is never trusted as is: entries of the wrong shape are dropped on
// reading, and the tuner checks a cached schedule against the profile before using it.

import type { KernelVariant } from '../ir/ir.js';
import type { Schedule } from '../passes/schedule.js';

/** The adapter a choice was measured on. */
export interface AdapterIdentity {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  /** The runtime's profile name (what readDeviceProfile named the adapter). */
  readonly profile: string;
}

export interface TuneKey {
  readonly adapter: AdapterIdentity;
  /** Hash of the module's default kernels (kernelFingerprint). */
  readonly kernel: string;
  readonly group: string;
  /** The size class of seqK (sizeClassOf). */
  readonly sizeClass: number;
}

export interface TuneEntry {
  readonly schedule: Schedule;
  /** The winner's median time at the size class, in milliseconds. */
  readonly medianMs: number;
}

/** Smallest size class seqK belongs to: powers of 4 from 64 (64, 256, 1024, 4096, ...). */
export function sizeClassOf(seqK: number): number {
  if (!Number.isInteger(seqK) || seqK < 1)
    throw new Error(`sequence length must be an integer >= 1, got ${seqK}`);
  let size = 64;
  while (size < seqK) size *= 4;
  return size;
}

/** The key as one string, the same in memory and in the file. */
export function tuneKeyString(key: TuneKey): string {
  const a = key.adapter;
  return [a.vendor, a.architecture, a.description, a.profile, key.kernel, key.group, key.sizeClass]
    .map((part) => String(part).replaceAll('|', '/'))
    .join('|');
}

/** FNV-1a (32 bits) of the texts, as 8 hex digits: identifies a kernel, not a secret. */
export function kernelFingerprint(texts: readonly string[]): string {
  let hash = 0x811c9dc5;
  for (const text of texts) {
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    hash ^= 0x1f;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** An in-memory cache; `entries` seeds it (from a file). */
export class TuneCache {
  private readonly map: Map<string, TuneEntry>;

  constructor(entries: Iterable<[string, TuneEntry]> = []) {
    this.map = new Map(entries);
  }

  get(key: TuneKey): TuneEntry | undefined {
    return this.map.get(tuneKeyString(key));
  }

  set(key: TuneKey, entry: TuneEntry): void {
    this.map.set(tuneKeyString(key), entry);
  }

  /** Adds `entries` (from a file) where this cache has none of its own. */
  seed(entries: Iterable<[string, TuneEntry]>): void {
    for (const [key, entry] of entries) if (!this.map.has(key)) this.map.set(key, entry);
  }

  delete(key: TuneKey): void {
    this.map.delete(tuneKeyString(key));
  }

  entries(): [string, TuneEntry][] {
    return [...this.map];
  }
}

const VARIANTS: readonly KernelVariant[] = ['rowwise', 'tiled', 'subgroup'];

/** `value` as a TuneEntry when it has exactly that shape, else null. */
export function parseTuneEntry(value: unknown): TuneEntry | null {
  if (typeof value !== 'object' || value === null) return null;
  const { schedule, medianMs } = value as Record<string, unknown>;
  if (typeof medianMs !== 'number' || !Number.isFinite(medianMs) || medianMs < 0) return null;
  if (typeof schedule !== 'object' || schedule === null) return null;
  const s = schedule as Record<string, unknown>;
  const positiveInt = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 1;
  if (!VARIANTS.includes(s['variant'] as KernelVariant)) return null;
  if (!positiveInt(s['rowsPerWorkgroup']) || !positiveInt(s['keyTile'])) return null;
  if (s['vectorWidth'] !== 1 && s['vectorWidth'] !== 4) return null;
  return {
    schedule: {
      variant: s['variant'] as KernelVariant,
      rowsPerWorkgroup: s['rowsPerWorkgroup'],
      keyTile: s['keyTile'],
      vectorWidth: s['vectorWidth'],
    },
    medianMs,
  };
}
