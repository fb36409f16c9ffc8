// Builds the AST from the parser's CST. With error recovery on, any child of a CST node may
// be missing; such nodes are dropped here and their enclosing block marked `recovered`,
// so the checker does not add "missing property" errors on top of the syntax error.

import type { CstNode, IToken } from 'chevrotain';
import type {
  ArgumentCstNode,
  AtomCstNode,
  AttentionCstNode,
  CallOrNameCstNode,
  ExpressionCstNode,
  FileCstNode,
  GroupCstNode,
  IntersectionCstNode,
  ListCstNode,
  ParenthesizedCstNode,
  PropertyCstNode,
} from '../../grammar/cst.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type {
  Argument,
  AttentionDecl,
  Expr,
  Group,
  Identifier,
  Property,
  SpecFile,
} from './ast.js';
import type { Span } from '../base/span.js';

/** What a number literal must look like (the lexer takes more, see tokens.ts). */
export const STRICT_NUMBER = /^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

export class AstBuilder {
  readonly diagnostics: Diagnostic[] = [];
  /** Offsets of lexical and syntax errors, each list sorted; blocks spanning one are `recovered`. */
  private readonly errorOffsets: readonly (readonly number[])[];

  /** `knownErrors` must be sorted; `parseErrors` (one declaration's, a few) need not be. */
  constructor(
    private readonly text: string,
    knownErrors: readonly number[],
    parseErrors: readonly number[] = [],
  ) {
    this.errorOffsets = [knownErrors, [...parseErrors].sort((a, b) => a - b)];
  }

  file(node: FileCstNode): SpecFile {
    const attentions = (node.children.attention ?? [])
      .map((a) => this.attention(a))
      .filter((a): a is AttentionDecl => a !== undefined);
    return { kind: 'file', attentions, span: { start: 0, end: this.text.length } };
  }

  private attention(node: AttentionCstNode): AttentionDecl | undefined {
    const name = this.identifier(node.children.Name?.[0]);
    if (!name) return undefined;
    const groups = (node.children.group ?? []).map((g) => this.group(g));
    const properties = (node.children.property ?? []).map((p) => this.property(p));
    const items = [...groups, ...properties]
      .filter((item): item is Group | Property => item !== undefined)
      .sort((a, b) => a.span.start - b.span.start);
    const span = this.nodeSpan(node);
    this.checkSeparators(items, node.children.Semicolon ?? []);
    const incomplete = groups.includes(undefined) || properties.includes(undefined);
    return {
      kind: 'attention',
      name,
      items,
      span,
      ...(incomplete || this.hasErrorIn(span) ? { recovered: true } : {}),
    };
  }

  private group(node: GroupCstNode): Group | undefined {
    const name = this.identifier(node.children.Name?.[0]);
    if (!name) return undefined;
    const parsed = (node.children.property ?? []).map((p) => this.property(p));
    const properties = parsed.filter((p): p is Property => p !== undefined);
    const span = this.nodeSpan(node);
    this.checkSeparators(properties, node.children.Semicolon ?? []);
    const incomplete = parsed.length !== properties.length;
    return {
      kind: 'group',
      name,
      properties,
      span,
      ...(incomplete || this.hasErrorIn(span) ? { recovered: true } : {}),
    };
  }

  private property(node: PropertyCstNode): Property | undefined {
    const name = this.identifier(node.children.Name?.[0]);
    const exprNode = node.children.expression?.[0];
    if (!name || !exprNode || !node.children.Colon?.[0]) return undefined;
    const value = this.expression(exprNode);
    if (!value) return undefined;
    return { kind: 'property', name, value, span: { start: name.span.start, end: value.span.end } };
  }

  private expression(node: ExpressionCstNode): Expr | undefined {
    const terms = (node.children.intersection ?? []).map((n) => this.intersection(n));
    return this.nary('union', terms);
  }

  private intersection(node: IntersectionCstNode): Expr | undefined {
    const terms = (node.children.atom ?? []).map((n) => this.atom(n));
    return this.nary('intersect', terms);
  }

  private nary(kind: 'union' | 'intersect', terms: (Expr | undefined)[]): Expr | undefined {
    if (terms.length === 0 || terms.includes(undefined)) return undefined;
    const present = terms as Expr[];
    if (present.length === 1) return present[0];
    const span = { start: present[0]!.span.start, end: present[present.length - 1]!.span.end };
    return { kind, terms: present, span };
  }

  private atom(node: AtomCstNode): Expr | undefined {
    const c = node.children;
    if (c.callOrName?.[0]) return this.callOrName(c.callOrName[0]);
    if (c.NumberLiteral?.[0]) return this.number(c.NumberLiteral[0]);
    if (c.True?.[0]) return { kind: 'bool', value: true, span: this.tokenSpan(c.True[0]) };
    if (c.False?.[0]) return { kind: 'bool', value: false, span: this.tokenSpan(c.False[0]) };
    if (c.list?.[0]) return this.list(c.list[0]);
    if (c.parenthesized?.[0]) return this.parenthesized(c.parenthesized[0]);
    return undefined;
  }

  private callOrName(node: CallOrNameCstNode): Expr | undefined {
    const callee = this.identifier(node.children.Name?.[0]);
    if (!callee) return undefined;
    const open = node.children.LParen?.[0];
    if (!open) return { kind: 'name', name: callee.name, span: callee.span };
    const close = node.children.RParen?.[0];
    if (!close || isMissing(close)) return undefined;
    const parsed = (node.children.argument ?? []).map((a) => this.argument(a));
    if (parsed.includes(undefined)) return undefined;
    const args = parsed as Argument[];
    return {
      kind: 'call',
      callee,
      args,
      span: { start: callee.span.start, end: close.endOffset! + 1 },
    };
  }

  private argument(node: ArgumentCstNode): Argument | undefined {
    const exprNode = node.children.expression?.[0];
    if (!exprNode) return undefined;
    const value = this.expression(exprNode);
    if (!value) return undefined;
    const nameToken = node.children.Name?.[0];
    const name = nameToken ? this.identifier(nameToken) : undefined;
    if (nameToken && !name) return undefined;
    const start = name ? name.span.start : value.span.start;
    return { ...(name ? { name } : {}), value, span: { start, end: value.span.end } };
  }

  private list(node: ListCstNode): Expr | undefined {
    const open = node.children.LBracket?.[0];
    const close = node.children.RBracket?.[0];
    if (!open || !close || isMissing(close)) return undefined;
    const items = (node.children.expression ?? []).map((e) => this.expression(e));
    if (items.includes(undefined)) return undefined;
    return {
      kind: 'list',
      items: items as Expr[],
      span: { start: open.startOffset, end: close.endOffset! + 1 },
    };
  }

  private parenthesized(node: ParenthesizedCstNode): Expr | undefined {
    const inner = node.children.expression?.[0];
    const close = node.children.RParen?.[0];
    if (!inner || !close || isMissing(close)) return undefined;
    // Parentheses only group: the inner expression is the node, so `(a)` reads as `a`.
    return this.expression(inner);
  }

  private number(token: IToken): Expr | undefined {
    const span = this.tokenSpan(token);
    if (!STRICT_NUMBER.test(token.image)) {
      this.diagnostics.push(malformedNumber(token.image, span));
      return undefined;
    }
    return { kind: 'number', value: Number(token.image), text: token.image, span };
  }

  private identifier(token: IToken | undefined): Identifier | undefined {
    if (!token || isMissing(token)) return undefined;
    return { name: token.image, span: this.tokenSpan(token) };
  }

  /**
   * language.md: two properties in a row are separated by a newline or `;`; a group is
   * delimited by its braces, so none is needed before or after one.
   * Items and semicolons are both in source order, so one pass over each suffices.
   */
  private checkSeparators(items: readonly (Property | Group)[], semicolons: readonly IToken[]) {
    let s = 0;
    for (let i = 1; i < items.length; i++) {
      const previous = items[i - 1]!;
      const next = items[i]!;
      while (s < semicolons.length && semicolons[s]!.startOffset < previous.span.end) s++;
      const semicolonBetween =
        s < semicolons.length && semicolons[s]!.startOffset < next.span.start;
      const separated =
        previous.kind === 'group' ||
        next.kind === 'group' ||
        semicolonBetween ||
        this.text.slice(previous.span.end, next.span.start).includes('\n');
      if (separated || this.hasErrorIn({ start: previous.span.start, end: next.span.end })) {
        continue;
      }
      this.diagnostics.push({
        code: 'E101',
        severity: 'error',
        message: `expected a newline or \`;\` before \`${next.name.name}\``,
        primary: { span: { start: next.span.start, end: next.name.span.end } },
        notes: ['put each property on its own line, or separate them with `;`'],
      });
    }
  }

  private hasErrorIn(span: Span): boolean {
    return this.errorOffsets.some((offsets) => {
      // The first offset at or after span.start, by binary search.
      let low = 0;
      let high = offsets.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (offsets[middle]! < span.start) low = middle + 1;
        else high = middle;
      }
      return low < offsets.length && offsets[low]! <= span.end;
    });
  }

  private tokenSpan(token: IToken): Span {
    return { start: token.startOffset, end: token.endOffset! + 1 };
  }

  private nodeSpan(node: CstNode): Span {
    const location = node.location;
    const start = location?.startOffset ?? 0;
    const end = location?.endOffset;
    return {
      start: Number.isNaN(start) ? 0 : start,
      end: end === undefined || Number.isNaN(end) ? this.text.length : end + 1,
    };
  }
}

/** E103: the lexer takes `256px` as one token so that it is one error, this one. */
export function malformedNumber(text: string, span: Span): Diagnostic {
  return {
    code: 'E103',
    severity: 'error',
    message: `malformed number \`${text}\``,
    primary: { span },
    notes: ['numbers are written like `64`, `0.5` or `1e-6`, with no unit or suffix'],
  };
}

/** Tokens inserted by chevrotain's single-token-insertion recovery have no position. */
function isMissing(token: IToken): boolean {
  return token.isInsertedInRecovery === true || Number.isNaN(token.startOffset);
}
