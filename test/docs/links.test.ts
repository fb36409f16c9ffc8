// Every relative link in the repository's Markdown resolves to a file or folder inside the
// repository, and no page points a reader at a path outside it (a user has only the package).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(new URL('../../', import.meta.url).pathname);
const SKIP = new Set(['node_modules', 'dist', 'dist-check', '.git']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name) || entry.name.startsWith('scratch-')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** Inline links and images `[text](target)`, outside code spans and fenced blocks. */
export function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const targets = [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#'));
}

const files = markdownFiles(root);

describe('Markdown links', () => {
  it('finds the README and the docs', () => {
    const names = files.map((f) => relative(root, f));
    expect(names).toContain('README.md');
    expect(names).toContain('docs/language.md');
  });

  it('extracts links, skipping code, URLs and in-page anchors', () => {
    const text =
      'see [a](docs/a.md), [b](../b.md#part) and ![c](c.png "title"), ' +
      '[web](https://example.com), [here](#top), `[not](code.md)`\n```\n[no](block.md)\n```\n';
    expect(relativeLinks(text)).toEqual(['docs/a.md', '../b.md#part', 'c.png']);
  });

  for (const file of files) {
    it(`${relative(root, file)}: every relative link resolves inside the repository`, () => {
      const broken = relativeLinks(readFileSync(file, 'utf8')).filter((link) => {
        const target = resolve(dirname(file), decodeURIComponent(link.replace(/#.*$/, '')));
        return !target.startsWith(root + '/') || !existsSync(target);
      });
      expect(broken).toEqual([]);
    });
  }

  it('no page refers the reader to shared/ or /work/, which a user does not have', () => {
    const offenders = files
      .filter((f) => /(^|[\s`(/])(\/work\/|shared\/(spec|notes)\/)/m.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });
});
