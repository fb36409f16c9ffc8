// Issue 9: one kernel IR and one renderer, src/kernel/render-wgsl.ts, the only module that
// writes WGSL text. Every other file under src/ builds kernels as IR values, so this reads
// their syntax trees (comments are not in them, so a comment may quote WGSL freely) and fails
// on: an IR node that carries WGSL text (`kind: 'raw'`), a string or template that spells
// WGSL source (attributes, declarations, statements, suffixed literals), and an import of the
// renderer's fragments (expressions, statements, types) or of its literal spelling outside
// the modules that may (the IR printer shows expressions as WGSL does; the whole kernel's
// text is fine to take anywhere, there is nothing left to splice into).

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(dirname(new URL(import.meta.url).pathname), '../..');
const RENDERER = 'src/kernel/render-wgsl.ts';

/** Who may import what from the WGSL-text modules (beyond `renderKernel`, open to all). */
const ALLOWED_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  'src/kernel/f32-literal.ts': [RENDERER],
  [RENDERER]: ['src/kernel/print.ts'],
};

/** WGSL source in a string: attributes, declarations, statements, casts, barriers. */
const WGSL_SOURCE = new RegExp(
  [
    String.raw`@(compute|group|binding|builtin|workgroup_size)\b`,
    String.raw`\bvar<\s*(storage|uniform|workgroup|private|function)\b`,
    String.raw`\bfn\s+\w+\s*\(`,
    String.raw`\bstruct\s+\w+\s*\{`,
    String.raw`\benable\s+\w+\s*;`,
    String.raw`\b(let|var)\s+\w+\s*(:\s*[\w<>, ]+)?=`,
    // A WGSL constant has a WGSL type (a TypeScript module's `export const x =` is not one).
    String.raw`\bconst\s+\w+\s*:\s*(bool|[iuf]32|f16|vec[234]<|array<)`,
    String.raw`\breturn\b[^;]*;`,
    String.raw`\b(workgroupBarrier|storageBarrier|workgroupUniformLoad)\s*\(`,
    String.raw`\b(i32|u32|f32|f16|select|clamp)\(`,
    String.raw`\b\d+[iu]\b`,
  ].join('|'),
);

export interface WgslTextFinding {
  readonly line: number;
  readonly what: string;
}

function isKindName(name: ts.PropertyName | undefined): boolean {
  return name !== undefined && ts.isIdentifier(name) && name.text === 'kind';
}

/** `'raw'` as an IR node's kind: built, declared, or tested for. */
function isRawKind(node: ts.StringLiteral): boolean {
  if (node.text !== 'raw') return false;
  const parent = node.parent;
  if (ts.isPropertyAssignment(parent)) return isKindName(parent.name);
  if (ts.isLiteralTypeNode(parent))
    return ts.isPropertySignature(parent.parent) && isKindName(parent.parent.name);
  if (ts.isCaseClause(parent)) return true;
  if (ts.isBinaryExpression(parent)) {
    const other = parent.left === node ? parent.right : parent.left;
    return ts.isPropertyAccessExpression(other) && other.name.text === 'kind';
  }
  return false;
}

/** Where a source text builds WGSL text (comments are not looked at). */
export function findWgslText(fileName: string, source: string): WgslTextFinding[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const findings: WgslTextFinding[] = [];
  const report = (node: ts.Node, what: string) =>
    findings.push({ line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1, what });
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
    if (ts.isStringLiteral(node) && isRawKind(node)) report(node, "an IR node of kind 'raw'");
    const piece =
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node);
    if (piece) {
      const text = (node as ts.LiteralLikeNode).text;
      const wgsl = WGSL_SOURCE.exec(text);
      if (wgsl) report(node, `WGSL text \`${wgsl[0]}\` in ${JSON.stringify(text)}`);
      // `${n}u`, `${n}i`: a WGSL literal spelled from a number.
      if ((ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) && /^[iu]\b/.test(text))
        report(node, `a suffixed WGSL literal \`\${...}${text.slice(0, 1)}\``);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return findings;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The names each relative import of a file takes from each module (`*` for a namespace). */
function importsOf(file: string): { module: string; names: string[] }[] {
  const source = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), 99, true);
  return source.statements.flatMap((s) => {
    if (!ts.isImportDeclaration(s) && !ts.isExportDeclaration(s)) return [];
    const spec = s.moduleSpecifier;
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) return [];
    const target = relative(root, join(root, dirname(file), spec.text)).replace(/\.js$/, '.ts');
    const clause = ts.isImportDeclaration(s) ? s.importClause?.namedBindings : s.exportClause;
    const names =
      clause && (ts.isNamedImports(clause) || ts.isNamedExports(clause))
        ? clause.elements.map((e) => (e.propertyName ?? e.name).text)
        : ['*'];
    return [{ module: target, names }];
  });
}

describe('WGSL text is written by render-wgsl.ts alone', () => {
  const files = sourceFiles('src').sort();

  it('no file under src/ but the renderer spells WGSL source or builds a raw IR node', () => {
    const findings = files.flatMap((file) =>
      findWgslText(file, readFileSync(join(root, file), 'utf8'))
        .filter((f) => file !== RENDERER || f.what.startsWith('an IR node'))
        .map((f) => `${file}:${f.line}: ${f.what}`),
    );
    expect(findings).toEqual([]);
  });

  it("the renderer's fragments and literal spelling are imported only where allowed", () => {
    const refused = files.flatMap((file) =>
      importsOf(file).flatMap(({ module, names }) => {
        const allowed = ALLOWED_IMPORTS[module];
        if (allowed === undefined || allowed.includes(file)) return [];
        const fragments = names.filter((n) => module !== RENDERER || n !== 'renderKernel');
        return fragments.length ? [`${file} imports ${fragments.join(', ')} from ${module}`] : [];
      }),
    );
    expect(refused).toEqual([]);
  });

  it('finds WGSL text in code, not in comments', () => {
    const findings = (source: string) => findWgslText('x.ts', source).map((f) => f.what);
    // Comments may quote WGSL; type tags and builtin names are not WGSL source.
    expect(
      findings(
        [
          '// let x = i32(pa) - 4i; @group(0) var<storage, read> k: array<f32>;',
          '/** `return select(0u, 1u, c);` */',
          "const tag: 'vec4<f32>' | 'f32' = 'f32';",
          "const e = call('bitcast<f32>', x);",
          'const message = `${name} is used before it is defined`;',
          "const ts = 'export const plan: HostPlan = ';",
          "const shape = 'weights [B x Nq x H] f32 (device)';",
        ].join('\n'),
      ),
    ).toEqual([]);
    expect(findings("const e = { kind: 'raw', text: 'q.x' };")).toEqual([
      "an IR node of kind 'raw'",
    ]);
    expect(findings("type E = { readonly kind: 'raw' };")).toEqual(["an IR node of kind 'raw'"]);
    expect(findings("if (e.kind === 'raw') {}")).toHaveLength(1);
    expect(findings("switch (e.kind) { case 'raw': break; }")).toHaveLength(1);
    expect(findings('const lo = `i32(${position}) - ${k}i`;')).toEqual([
      'WGSL text `i32(` in "i32("',
      'a suffixed WGSL literal `${...}i`',
    ]);
    expect(findings("const ALL = { lo: '0i', hi: 'NK' };")).toEqual(['WGSL text `0i` in "0i"']);
    expect(findings("lines.push('workgroupBarrier();');")).toHaveLength(1);
    expect(findings('const c = `const NEG_BIG: f32 = ${x};`;')).toHaveLength(1);
    expect(findings('const decl = `@group(0) @binding(${n}) var<storage, read> ${name}`;')).toEqual(
      [
        'WGSL text `@group` in "@group(0) @binding("',
        'WGSL text `var<storage` in ") var<storage, read> "',
      ],
    );
  });
});
