// The tree the prettier printer walks: the parser's AST plus the file's comments, which the
// AST does not keep. Comments come from the lexer's `comments` token group (tokens.ts), so
// the grammar and the parser stay untouched by formatting.

import type { Argument, Expr, Group, Identifier, Property, SpecFile } from '../syntax/ast.js';
import type { Span } from '../base/span.js';
import { specLexer } from '../syntax/tokens.js';

/** One `# ...` or `// ...` comment, to the end of its line. */
export interface SpecComment {
  readonly kind: 'comment';
  /** As written, without trailing whitespace. */
  readonly text: string;
  readonly span: Span;
}

/** The root handed to prettier: prettier attaches `comments` to the nodes around them. */
export interface FormatRoot extends SpecFile {
  readonly comments: SpecComment[];
}

/** Every node the printer meets; identifiers and arguments have no `kind` in the AST. */
export type FormatNode =
  | FormatRoot
  | SpecFile
  | SpecFile['attentions'][number]
  | Group
  | Property
  | Expr
  | Argument
  | Identifier
  | SpecComment;

export function commentsOf(text: string): SpecComment[] {
  const comments = specLexer.tokenize(text).groups['comments'] ?? [];
  return comments.map((token) => {
    const written = token.image.replace(/\s+$/, '');
    return {
      kind: 'comment',
      text: written,
      span: { start: token.startOffset, end: token.startOffset + written.length },
    };
  });
}

/** An AST `Identifier` (no `kind`, a string `name`); not a type guard, as `NameExpr` fits too. */
export function isIdentifier(node: FormatNode): boolean {
  return !('kind' in node) && typeof (node as Identifier).name === 'string';
}

/** An AST `Argument` (no `kind`, a `value`). */
export function isArgument(node: FormatNode): boolean {
  return !('kind' in node) && 'value' in node;
}

/** The nodes that have a `kind`. */
export type KindedNode = Exclude<FormatNode, Identifier | Argument> | Expr | Property;

/**
 * The child nodes of each node, in source order, for prettier's comment attachment.
 * Identifiers are left out on purpose: a comment trailing a property or argument name would
 * be printed on the same line as one trailing its value (nothing breaks between `name:` and
 * the value), and two line comments on one line merge into one. Comments next to a name go
 * to the node after it instead.
 */
export function childKeys(node: FormatNode): string[] {
  if (isIdentifier(node)) return [];
  if (isArgument(node)) return ['value'];
  const kinded = node as KindedNode;
  switch (kinded.kind) {
    case 'file':
      return ['attentions'];
    case 'attention':
      return ['items'];
    case 'group':
      return ['properties'];
    case 'property':
      return ['value'];
    case 'union':
    case 'intersect':
      return ['terms'];
    case 'call':
      return ['args'];
    case 'list':
      return ['items'];
    case 'name':
    case 'number':
    case 'bool':
    case 'comment':
      return [];
  }
}
