// The layer order of docs/compiler.md ("Layers"), kept by reading the import graph of src/:
// every import between two layers must be one the table below allows, and no module may
// reach itself through its imports (type-only imports count: they tie modules together for
// the reader as much as value imports do). A new folder under src/ must be given a place here.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(dirname(new URL(import.meta.url).pathname), '../..');

/**
 * Each layer and the layers it may import (directly). The host plan (codegen/plan.ts and its
 * schema) is a layer of its own: it is the contract between codegen, which writes plans, and
 * the runtime, which reads them, and imports only base/ (the cache plan's data types).
 * `kernel` is the kernel IR of issue 9.
 */
const LAYERS: Readonly<Record<string, readonly string[]>> = {
  base: [],
  random: [],
  target: [],
  plan: ['base'],
  diagnostics: ['base'],
  syntax: ['base', 'diagnostics'],
  format: ['base', 'diagnostics', 'syntax'],
  check: ['base', 'diagnostics', 'syntax'],
  frontend: ['diagnostics', 'syntax', 'check'],
  lsp: ['diagnostics', 'syntax', 'format', 'check', 'frontend'],
  reference: ['check', 'random'],
  ir: ['base', 'random'],
  lower: ['base', 'check', 'ir'],
  passes: ['ir', 'target'],
  kernel: ['base', 'ir', 'target', 'plan'],
  codegen: ['check', 'ir', 'lower', 'passes', 'kernel', 'target', 'plan'],
  runtime: ['plan', 'random', 'target'],
  api: [
    ...['diagnostics', 'frontend', 'check', 'reference', 'ir', 'lower', 'passes', 'codegen'],
    'plan',
    ...['runtime', 'random', 'target'],
  ],
  explain: ['api', 'ir', 'kernel', 'lower', 'passes', 'random', 'target'],
  picture: ['api', 'ir', 'random'],
  bundler: ['api', 'codegen', 'diagnostics'],
  index: [
    ...['base', 'diagnostics', 'syntax', 'check', 'frontend', 'passes', 'plan', 'target'],
    'runtime',
    ...['api', 'explain', 'picture'],
  ],
  'runtime-entry': ['api', 'check', 'plan', 'runtime', 'target'],
  cli: [
    ...['base', 'diagnostics', 'format', 'frontend', 'lsp', 'picture', 'runtime', 'api'],
    'index',
  ],
};

/** src/a/b.ts -> its layer: the folder under src/, the file's stem at the top, or `plan`. */
function layerOf(file: string): string {
  if (file === 'src/codegen/plan.ts' || file === 'src/codegen/plan-schema.ts') return 'plan';
  const parts = file.split('/');
  return parts.length > 2 ? parts[1]! : parts[1]!.replace(/\.ts$/, '');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

interface Edge {
  readonly from: string;
  readonly to: string;
}

/** Every relative import of every file under src/ (static, type-only, re-exports, dynamic). */
function importGraph(): { files: string[]; edges: Edge[]; unresolved: string[] } {
  const files = sourceFiles('src').sort();
  const edges: Edge[] = [];
  const unresolved: string[] = [];
  for (const from of files) {
    const info = ts.preProcessFile(readFileSync(join(root, from), 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue; // a package
      const base = relative(root, join(root, dirname(from), fileName));
      const stem = base.replace(/\.js$/, '');
      const to = [`${stem}.ts`, `${stem}.d.ts`, `${base}/index.ts`].find((f) =>
        existsSync(join(root, f)),
      );
      if (to === undefined) unresolved.push(`${from} imports '${fileName}'`);
      else if (to.startsWith('src/')) edges.push({ from, to });
    }
  }
  return { files, edges, unresolved };
}

/** The strongly connected components with more than one file (Tarjan): each is a cycle. */
function cycles(files: readonly string[], edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)!.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || next.get(v)!.includes(v)) found.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

const graph = importGraph();
const crossLayer = graph.edges
  .map((e) => ({ ...e, fromLayer: layerOf(e.from), toLayer: layerOf(e.to) }))
  .filter((e) => e.fromLayer !== e.toLayer);
const importsBetween = (from: string, to: string) =>
  crossLayer
    .filter((e) => e.fromLayer === from && e.toLayer === to)
    .map((e) => `${e.from} -> ${e.to}`);

describe('the import graph of src/', () => {
  it('is read completely: every relative import resolves to a file', () => {
    expect(graph.files.length).toBeGreaterThan(100);
    expect(graph.edges.length).toBeGreaterThan(300);
    expect(graph.unresolved).toEqual([]);
  });

  it('has no cycle', () => {
    expect(cycles(graph.files, graph.edges)).toEqual([]);
  });

  it('gives every file a layer of the table', () => {
    const unknown = [...new Set(graph.files.map(layerOf))].filter((l) => !(l in LAYERS));
    expect(unknown, 'add the new folder to LAYERS and to docs/compiler.md "Layers"').toEqual([]);
  });

  it('only imports across layers in the allowed direction', () => {
    const forbidden = crossLayer
      .filter((e) => !LAYERS[e.fromLayer]?.includes(e.toLayer))
      .map(
        (e) =>
          `${e.from} -> ${e.to}: ${e.fromLayer} may import only ${LAYERS[e.fromLayer]?.join(', ') || 'nothing'}`,
      );
    expect(forbidden).toEqual([]);
  });

  it('has a layer table that is itself an order (no layer reaches itself)', () => {
    const layerFiles = Object.keys(LAYERS);
    const layerEdges = layerFiles.flatMap((from) => LAYERS[from]!.map((to) => ({ from, to })));
    expect(layerEdges.every((e) => e.to in LAYERS)).toBe(true);
    expect(cycles(layerFiles, layerEdges)).toEqual([]);
  });
});

// The rules the layer table encodes that matter most, spelt out so that loosening the table
// for them is a visible change here.
describe('the layer rules that matter most', () => {
  it('codegen imports nothing from the api', () => {
    expect(importsBetween('codegen', 'api')).toEqual([]);
  });

  it('syntax and diagnostics do not import each other: both take Span from base', () => {
    expect(importsBetween('diagnostics', 'syntax')).toEqual([]);
    const below = crossLayer.filter((e) => e.fromLayer === 'diagnostics' && e.toLayer !== 'base');
    expect(below).toEqual([]);
  });

  it('the runtime takes a host plan: it imports no IR, lowering, pass, checker or parser', () => {
    for (const layer of ['ir', 'lower', 'passes', 'check', 'syntax', 'codegen', 'api'])
      expect(importsBetween('runtime', layer)).toEqual([]);
  });

  it('base imports nothing', () => {
    expect(crossLayer.filter((e) => e.fromLayer === 'base')).toEqual([]);
  });

  it('attnc explain goes through the public API (src/index.ts), not the internals', () => {
    const deep = graph.edges.filter(
      (e) =>
        e.from === 'src/cli/explain-command.ts' &&
        e.to !== 'src/index.ts' &&
        !e.to.startsWith('src/cli/'),
    );
    expect(deep).toEqual([]);
    expect(graph.edges).toContainEqual({ from: 'src/cli/explain-command.ts', to: 'src/index.ts' });
  });
});

describe('the cycle finder', () => {
  // A guard that cannot fail guards nothing: it must see a cycle where there is one.
  it('finds a cycle of two files and of one file importing itself', () => {
    const files = ['a', 'b', 'c', 'd'];
    const edges = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'a' },
      { from: 'b', to: 'c' },
      { from: 'd', to: 'd' },
    ];
    expect(cycles(files, edges)).toEqual([['a', 'b'], ['d']]);
  });

  it('finds none in a chain', () => {
    expect(
      cycles(
        ['a', 'b', 'c'],
        [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'c' },
        ],
      ),
    ).toEqual([]);
  });
});
