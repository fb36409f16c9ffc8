// Writes the TextMate grammar (scripts/textmate-grammar.ts) to grammar/attn.tmLanguage.json
// and to the VS Code extension's copy, formatted as prettier would.
// test/editor/textmate.test.ts fails when either file is stale.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { buildTextMateGrammar } from './textmate-grammar.js';

const GRAMMAR_FILES = [
  '../grammar/attn.tmLanguage.json',
  '../editors/vscode/syntaxes/attn.tmLanguage.json',
];

const config = (await prettier.resolveConfig(fileURLToPath(import.meta.url))) ?? {};
const text = await prettier.format(JSON.stringify(buildTextMateGrammar()), {
  ...config,
  parser: 'json',
});
for (const file of GRAMMAR_FILES) {
  const path = fileURLToPath(new URL(file, import.meta.url));
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
