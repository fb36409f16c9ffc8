// The prettier printer for specs: AST (plus comments) -> prettier Doc. Canonical spacing,
// items in the order written, one blank line kept where the author left one or more.
// Parentheses are not in the AST, so they are printed wherever nesting needs them for the
// text to parse back to the same tree.

import { doc, util, type AstPath, type Doc, type ParserOptions, type Printer } from 'prettier';
import type { Argument, Expr, Identifier } from '../syntax/ast.js';
import {
  childKeys,
  isArgument,
  isIdentifier,
  type FormatNode,
  type KindedNode,
  type SpecComment,
} from './format-ast.js';

const { group, hardline, indent, join, line, softline, ifBreak } = doc.builders;

type Print = (selector?: string | number | (string | number)[]) => Doc;

/** What prettier adds to a node when it attaches comments to it. */
interface AttachedComment extends SpecComment {
  leading?: boolean;
  trailing?: boolean;
  printed?: boolean;
}

export const attnPrinter: Printer<FormatNode> = {
  print: printNode,
  printComment(path) {
    return (path.node as SpecComment).text;
  },
  canAttachComment(node) {
    return 'span' in node && (!('kind' in node) || node.kind !== 'comment');
  },
  isBlockComment() {
    return false;
  },
  getVisitorKeys(node) {
    return childKeys(node);
  },
  handleComments: {
    ownLine: attachBetweenSiblings,
    endOfLine: attachBetweenSiblings,
    remaining: attachBetweenSiblings,
  },
};

/** What prettier's comment attachment knows about a comment's surroundings. */
interface CommentContext extends SpecComment {
  precedingNode?: FormatNode & { comments?: AttachedComment[] };
  followingNode?: FormatNode;
}

/**
 * A comment between two siblings trails the first only when it is on the first's last line;
 * any other belongs to the second. Prettier's default also looks at what follows on the
 * comment's own line, which lets two comments swap places, or move between trailing and
 * leading from one run to the next (the output would not be stable).
 */
function attachBetweenSiblings(comment: CommentContext, text: string): boolean {
  const { precedingNode, followingNode } = comment;
  if (!precedingNode || !followingNode || !('span' in precedingNode)) return false;
  const onPrecedingLine = !text.slice(precedingNode.span.end, comment.span.start).includes('\n');
  const alreadyTrailed = (precedingNode.comments ?? []).some((c) => c.trailing);
  if (onPrecedingLine && !alreadyTrailed) util.addTrailingComment(precedingNode, comment);
  else util.addLeadingComment(followingNode, comment);
  return true;
}

function printNode(
  path: AstPath<FormatNode>,
  options: ParserOptions<FormatNode>,
  print: Print,
): Doc {
  const node = path.node;
  if (isIdentifier(node)) return (node as Identifier).name;
  if (isArgument(node)) {
    return (node as Argument).name ? [print('name'), ': ', print('value')] : print('value');
  }
  const text = options.originalText;
  const kinded = node as KindedNode;
  switch (kinded.kind) {
    case 'file': {
      if (kinded.attentions.length === 0) {
        const dangling = printDangling(path);
        return dangling.length ? [join(hardline, dangling), hardline] : '';
      }
      return [
        join(
          [hardline, hardline],
          path.map(() => print(), 'attentions' as never),
        ),
        hardline,
      ];
    }
    case 'attention': {
      const items = printItems(path, 'items', text, print, hardline);
      const dangling = printDangling(path);
      const body = [...items, ...(dangling.length ? [join(hardline, dangling)] : [])];
      const inside = body.length ? [indent([hardline, ...body]), hardline] : '';
      return ['attention ', print('name'), ' {', inside, '}'];
    }
    case 'group': {
      const dangling = printDangling(path);
      if (kinded.properties.length === 0 && dangling.length === 0) {
        return ['group ', print('name'), ' {}'];
      }
      // Like prettier's objects: a group written across lines stays so; one written on
      // one line stays there while it fits.
      const firstStart = kinded.properties[0]?.span.start ?? kinded.span.end;
      const brokenAsWritten = text.slice(kinded.name.span.end, firstStart).includes('\n');
      const separator = [ifBreak('', ';'), line];
      const items = printItems(path, 'properties', text, print, separator);
      const body = [...items, ...(dangling.length ? [join(hardline, dangling)] : [])];
      return group(['group ', print('name'), ' {', indent([line, ...body]), line, '}'], {
        shouldBreak: brokenAsWritten || dangling.length > 0,
      });
    }
    case 'property':
      return [print('name'), ': ', print('value')];
    case 'union':
    case 'intersect': {
      const operator = kinded.kind === 'union' ? ' |' : ' &';
      const terms = path.map(
        (term) => (needsParens(kinded.kind, term.node as Expr) ? ['(', print(), ')'] : print()),
        'terms' as never,
      );
      const [first, ...rest] = terms;
      return group([first!, indent(rest.map((term) => [operator, line, term]))]);
    }
    case 'call':
      return [print('callee'), printBracketed(path, '(', ')', 'args', print)];
    case 'list':
      return printBracketed(path, '[', ']', 'items', print);
    case 'name':
      return kinded.name;
    case 'number':
      return kinded.text;
    case 'bool':
      return kinded.value ? 'true' : 'false';
    case 'comment':
      return kinded.text;
    default:
      return unreachable(kinded);
  }
}

/**
 * `(a | b) & c` and `(a & b) & c` must keep their parentheses: without them the text would
 * parse to a different (flatter) tree. `a & b` inside `|` binds tighter and needs none.
 */
function needsParens(parent: 'union' | 'intersect', term: Expr): boolean {
  return term.kind === 'union' || (parent === 'intersect' && term.kind === 'intersect');
}

/** `(a, b)` or `[a, b]`, broken one per line when too long (no trailing comma: not in the grammar). */
function printBracketed(
  path: AstPath<FormatNode>,
  open: string,
  close: string,
  key: string,
  print: Print,
): Doc {
  const items = path.map(() => print(), key as never);
  const dangling = printDangling(path);
  if (items.length === 0 && dangling.length === 0) return [open, close];
  const body = [
    join([',', line], items),
    ...(dangling.length ? [hardline, join(hardline, dangling)] : []),
  ];
  return group([open, indent([softline, ...body]), softline, close], {
    shouldBreak: dangling.length > 0,
  });
}

/** Block items separated by `separator`, with one blank line where the source had any. */
function printItems(
  path: AstPath<FormatNode>,
  key: string,
  text: string,
  print: Print,
  separator: Doc,
): Doc[] {
  const parts: Doc[] = [];
  let previous: { span: { end: number } } | undefined;
  path.each((item) => {
    const node = item.node as FormatNode & { span: { start: number; end: number } };
    if (previous) {
      parts.push(separator);
      if (blankLineBetween(text, previous.span.end, node.span.start)) parts.push(softline);
    }
    parts.push(print());
    previous = node;
  }, key as never);
  return parts;
}

/**
 * Whether the author left an empty line between two items. A comment on the first item's
 * line is its own; the gap is measured up to the next comment, which prettier prints with
 * its own blank lines.
 */
export function blankLineBetween(text: string, end: number, start: number): boolean {
  let gap = text.slice(end, start);
  const lineEnd = gap.indexOf('\n');
  if (lineEnd === -1) return false;
  gap = gap.slice(lineEnd);
  const comment = gap.search(/#|\/\//);
  if (comment !== -1) gap = gap.slice(0, comment);
  return (gap.match(/\n/g)?.length ?? 0) >= 2;
}

/** Comments with nothing around them to attach to (`[ # note ]`, a file of comments only). */
function printDangling(path: AstPath<FormatNode>): Doc[] {
  const comments = ((path.node as { comments?: AttachedComment[] }).comments ?? []).filter(
    (c) => !c.leading && !c.trailing,
  );
  for (const comment of comments) comment.printed = true;
  return comments.map((c) => c.text);
}

function unreachable(node: never): never {
  throw new Error(`formatter: unhandled node ${JSON.stringify(node)}`);
}
