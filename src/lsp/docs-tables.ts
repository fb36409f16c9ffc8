// Reads the reference tables of docs/language.md (properties, mask primitives, mechanisms)
// so hover text in editors is the documentation itself, never a second copy that drifts.
// scripts/gen-language-docs.ts runs this and writes language-docs.generated.ts.

export interface PropertyDoc {
  readonly value: string;
  readonly default: string;
  readonly inGroup: string;
}

export interface PrimitiveDoc {
  /** How it is written, e.g. "window(left: a, right: b)". */
  readonly form: string;
  readonly arguments: string;
  readonly ranges: string;
}

export interface MechanismDoc {
  readonly forms: string;
  readonly defaults: string;
  readonly ranges: string;
}

export interface LanguageDocs {
  readonly properties: Readonly<Record<string, PropertyDoc>>;
  /** Keyed by primitive name; some (window, global) have two rows. */
  readonly primitives: Readonly<Record<string, readonly PrimitiveDoc[]>>;
  /** Keyed by property (kernel, lowrank, bias, head_routing). */
  readonly mechanisms: Readonly<Record<string, MechanismDoc>>;
}

export function extractLanguageDocs(markdown: string): LanguageDocs {
  const properties: Record<string, PropertyDoc> = {};
  for (const [name, value, def, inGroup] of tableAfter(markdown, '## 3. Properties', 4)) {
    properties[unquote(name!)] = { value: value!, default: def!, inGroup: inGroup! };
  }
  const primitives: Record<string, PrimitiveDoc[]> = {};
  for (const [form, args, ranges] of tableAfter(markdown, '## 5. Masks', 3)) {
    const written = unquote(form!);
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(written)?.[0];
    if (!name) throw new Error(`docs/language.md section 5: cannot read primitive \`${form}\``);
    (primitives[name] ??= []).push({ form: written, arguments: args!, ranges: ranges! });
  }
  const mechanisms: Record<string, MechanismDoc> = {};
  for (const [property, forms, defaults, ranges] of tableAfter(markdown, '## 6. Mechanisms', 4)) {
    mechanisms[unquote(property!)] = { forms: forms!, defaults: defaults!, ranges: ranges! };
  }
  return { properties, primitives, mechanisms };
}

/** The body rows of the first table after `heading`, each with exactly `columns` cells. */
function tableAfter(markdown: string, heading: string, columns: number): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start === -1) throw new Error(`docs/language.md has no heading \`${heading}\``);
  let i = start + 1;
  while (i < lines.length && !lines[i]!.startsWith('|')) i++;
  const rows: string[][] = [];
  // Skip the header and the `| --- |` line.
  for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const cells = splitRow(lines[i]!);
    if (cells.length !== columns) {
      throw new Error(`docs/language.md ${heading}: row ${i + 1} has ${cells.length} cells`);
    }
    rows.push(cells);
  }
  return rows;
}

function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  for (let i = 1; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && line[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (ch === '|') {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += ch;
    }
  }
  return cells;
}

function unquote(cell: string): string {
  return cell.replace(/^`(.*)`$/, '$1');
}
