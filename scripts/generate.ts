// Regenerates generated/ from examples/: every example compiled for the portable target, as
// `attnc compile` writes it, plus an index; and the published JSON Schemas in schemas/ from
// their valibot definitions. `npm run generate` writes; `-- --check` fails when generated/ or
// schemas/ differ from what they are generated from, byte for byte.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../src/api/compile.js';
import { moduleFiles } from '../src/api/module-files.js';
import { hasErrors } from '../src/diagnostics/diagnostic.js';
import { jsonSchemaFiles } from './json-schemas.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const examplesDir = join(root, 'examples');
const outDir = join(root, 'generated');
const schemasDir = join(root, 'schemas');
const TARGET = 'portable';

const wanted = new Map<string, string>();
const index: string[] = [
  '# generated/',
  '',
  `The examples of \`examples/\` compiled by attnc for the \`${TARGET}\` target, exactly as`,
  '`attnc compile examples/NAME.attn -o generated/NAME` writes them. Do not edit: run',
  '`npm run generate`; CI fails when these files are stale.',
  '',
  '| example | attention | files |',
  '| --- | --- | --- |',
];

for (const file of readdirSync(examplesDir)
  .filter((f) => f.endsWith('.attn'))
  .sort()) {
  const stem = file.replace(/\.attn$/, '');
  const specPath = join(examplesDir, file);
  const result = compile(readFileSync(specPath, 'utf8'), {
    file: `examples/${file}`,
    target: TARGET,
  });
  if (hasErrors(result.diagnostics)) {
    const unsupported = result.diagnostics.filter((d) => d.code === 'E600');
    if (unsupported.length !== result.diagnostics.filter((d) => d.severity === 'error').length) {
      console.error(`examples/${file} does not compile:`);
      for (const d of result.diagnostics) console.error(`  ${d.code} ${d.message}`);
      process.exit(1);
    }
    const what = unsupported
      .map((d) =>
        d.message.replace(/^`[^`]*`: /, '').replace(' is not supported by the compiler yet', ''),
      )
      .join('; ');
    index.push(`| \`${file}\` | | not compiled yet: ${what} |`);
    continue;
  }
  for (const module of result.modules) {
    const dir = join(outDir, stem);
    const files = moduleFiles(module, relative(dir, specPath));
    for (const f of files) wanted.set(join(dir, f.path), f.text);
    index.push(
      `| \`${file}\` | \`${module.name}\` | ${files.map((f) => `[${f.path}](${stem}/${f.path})`).join(', ')} |`,
    );
  }
}
wanted.set(join(outDir, 'README.md'), index.join('\n') + '\n');
for (const [file, text] of jsonSchemaFiles()) wanted.set(join(schemasDir, file), text);

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

const check = process.argv.includes('--check');
let problems = 0;
for (const [path, text] of wanted) {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (current === text) continue;
  if (check) {
    console.error(`${relative(root, path)} is ${current === undefined ? 'missing' : 'stale'}`);
    problems++;
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote ${relative(root, path)}`);
  }
}
for (const path of [...listFiles(outDir), ...listFiles(schemasDir)]) {
  if (wanted.has(path)) continue;
  if (check) {
    console.error(`${relative(root, path)} is not generated from any example`);
    problems++;
  } else {
    rmSync(path);
    console.log(`removed ${relative(root, path)}`);
  }
}
if (check && problems) console.error('generated/ or schemas/ is stale: run `npm run generate`');
process.exit(problems ? 1 : 0);
