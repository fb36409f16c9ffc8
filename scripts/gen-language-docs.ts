// Writes src/lsp/language-docs.generated.ts from docs/language.md: the hover text of the
// language server. test/lsp/language-docs.test.ts fails when the file is stale.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { extractLanguageDocs } from '../src/lsp/docs-tables.js';

const docs = fileURLToPath(new URL('../docs/language.md', import.meta.url));
const target = fileURLToPath(new URL('../src/lsp/language-docs.generated.ts', import.meta.url));

const tables = extractLanguageDocs(readFileSync(docs, 'utf8'));
const source = `// Generated from docs/language.md by \`npm run lsp-docs\` (scripts/gen-language-docs.ts).
// Do not edit: change the docs and regenerate; test/lsp/language-docs.test.ts fails when stale.

import type { LanguageDocs } from './docs-tables.js';

export const LANGUAGE_DOCS: LanguageDocs = ${JSON.stringify(tables, null, 2)};
`;
const config = (await prettier.resolveConfig(target)) ?? {};
writeFileSync(target, await prettier.format(source, { ...config, parser: 'typescript' }));
console.log(`wrote ${target}`);
