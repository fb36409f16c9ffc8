// The tuner's cache on disk, in Node: `$XDG_CACHE_HOME/attnc/tune.json`, else
// `~/.cache/attnc/tune.json` (docs/runtime.md, tuning). The file is a cache, so nothing in
// it can stop a run: a file that is missing starts empty; one that is not JSON, or not our
// shape, starts empty too and is replaced at the next save, with the problem reported once;
// entries of the wrong shape are dropped. Saving merges with what another process wrote in
// between, and writes a temporary file renamed over the old one, so a reader never sees half.
// Imported only when a cache file is asked for, so browsers never load `node:fs`.

import { parseTuneEntry, type TuneEntry } from './tune-cache.js';

export const TUNE_FILE_VERSION = 1;

/**
 * Node's file modules, loaded on first use: a static import would be hoisted to the top of a
 * browser bundle (esbuild keeps external imports of lazily loaded modules at the top) and stop
 * the whole page from loading.
 */
async function nodeModules() {
  const [fs, os, path] = await Promise.all([
    import('node:fs/promises'),
    import('node:os'),
    import('node:path'),
  ]);
  return { ...fs, ...os, ...path };
}

/** Where the cache lives by default. */
export async function defaultTuneCacheFile(): Promise<string> {
  const { homedir, join } = await nodeModules();
  const xdg = process.env['XDG_CACHE_HOME'];
  const root = xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache');
  return join(root, 'attnc', 'tune.json');
}

export interface TuneFileContents {
  readonly entries: [string, TuneEntry][];
  /** Set when the file existed but could not be used (it will be replaced at the next save). */
  readonly problem?: string;
}

export async function readTuneFile(path: string): Promise<TuneFileContents> {
  const { readFile } = await nodeModules();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [] };
    return { entries: [], problem: `cannot read ${path}: ${(error as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      entries: [],
      problem: `${path} is not valid JSON (${(error as Error).message}); it is ignored and will be rewritten`,
    };
  }
  const { version, entries } = (typeof json === 'object' && json !== null ? json : {}) as Record<
    string,
    unknown
  >;
  if (version !== TUNE_FILE_VERSION || typeof entries !== 'object' || entries === null) {
    return {
      entries: [],
      problem: `${path} is not an attnc tune cache of version ${TUNE_FILE_VERSION}; it is ignored and will be rewritten`,
    };
  }
  const kept: [string, TuneEntry][] = [];
  for (const [key, value] of Object.entries(entries)) {
    const entry = parseTuneEntry(value);
    if (entry !== null) kept.push([key, entry]);
  }
  return { entries: kept };
}

/** Writes `entries` over what the file holds now (theirs kept, ours winning). */
export async function saveTuneFile(
  path: string,
  entries: readonly [string, TuneEntry][],
): Promise<void> {
  const { dirname, mkdir, rename, writeFile } = await nodeModules();
  const current = await readTuneFile(path);
  const merged: Record<string, TuneEntry> = Object.fromEntries(current.entries);
  for (const [key, entry] of entries) merged[key] = entry;
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(
    temporary,
    JSON.stringify({ version: TUNE_FILE_VERSION, entries: merged }, null, 2) + '\n',
  );
  await rename(temporary, path);
}
