// The parser of well-formed declarations: a recursive descent over the token stream that
// builds the AST directly, with no CST and no token objects. Almost every declaration of a
// real (or a large generated) spec is well formed, and building chevrotain's CST of a million
// tokens, then the AST from it, was most of the time of checking a 4 MiB spec.
//
// It accepts only text the grammar of parser.ts accepts with no error, builds the AST that
// cst-to-ast.ts builds from that text's CST, and reports what cst-to-ast.ts reports (E101 for
// properties on one line). On anything else (a syntax error, a malformed number) it gives up,
// and parse.ts parses the declaration with chevrotain, whose recovery and messages are the
// reference. test/syntax/direct-parser.test.ts checks that both give the same result.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Argument, AttentionDecl, Expr, Group, Identifier, Property } from './ast.js';
import { STRICT_NUMBER } from './cst-to-ast.js';
import { Kind, type TokenStream } from './scan.js';

export interface DirectParse {
  readonly attentions: AttentionDecl[];
  readonly diagnostics: Diagnostic[];
}

/**
 * The declarations in tokens [from, to), or undefined when they are not well formed.
 * `to` is the end of the range: a token after it is never looked at.
 */
export function parseWellFormed(
  tokens: TokenStream,
  from: number,
  to: number,
): DirectParse | undefined {
  const descent = new Descent(tokens, from, to);
  try {
    const attentions: AttentionDecl[] = [];
    while (descent.position < to) attentions.push(descent.attention());
    return { attentions, diagnostics: descent.diagnostics };
  } catch (error) {
    if (error === NOT_WELL_FORMED) return undefined;
    throw error;
  }
}

/** Thrown (not an Error: no stack to build) to give up on the whole range. */
const NOT_WELL_FORMED = Symbol('not well formed');

/** No token: past the end of the range. */
const END = -1;

class Descent {
  readonly diagnostics: Diagnostic[] = [];
  private readonly kinds: Uint8Array;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly text: string;

  constructor(
    tokens: TokenStream,
    public position: number,
    private readonly to: number,
  ) {
    this.kinds = tokens.kinds;
    this.starts = tokens.starts;
    this.ends = tokens.ends;
    this.text = tokens.text;
  }

  attention(): AttentionDecl {
    const start = this.starts[this.expect(Kind.Attention)]!;
    const name = this.identifier();
    this.expect(Kind.LBrace);
    const items: (Property | Group)[] = [];
    // Reported after the groups' own, as cst-to-ast.ts does.
    const separatorErrors: Diagnostic[] = [];
    let semicolonSince = false;
    for (;;) {
      const kind = this.peek();
      let item: Property | Group;
      if (kind === Kind.Semicolon) {
        this.position++;
        semicolonSince = true;
        continue;
      } else if (kind === Kind.Group) {
        item = this.group();
      } else if (kind === Kind.Name) {
        item = this.property();
      } else {
        break;
      }
      const previous = items[items.length - 1];
      if (previous) this.checkSeparator(previous, item, semicolonSince, separatorErrors);
      items.push(item);
      semicolonSince = false;
    }
    const end = this.ends[this.expect(Kind.RBrace)]!;
    this.diagnostics.push(...separatorErrors);
    return { kind: 'attention', name, items, span: { start, end } };
  }

  private group(): Group {
    const start = this.starts[this.expect(Kind.Group)]!;
    const name = this.identifier();
    this.expect(Kind.LBrace);
    const properties: Property[] = [];
    let semicolonSince = false;
    for (;;) {
      const kind = this.peek();
      if (kind === Kind.Semicolon) {
        this.position++;
        semicolonSince = true;
        continue;
      }
      if (kind !== Kind.Name) break;
      const property = this.property();
      const previous = properties[properties.length - 1];
      if (previous) this.checkSeparator(previous, property, semicolonSince, this.diagnostics);
      properties.push(property);
      semicolonSince = false;
    }
    const end = this.ends[this.expect(Kind.RBrace)]!;
    return { kind: 'group', name, properties, span: { start, end } };
  }

  private property(): Property {
    const name = this.identifier();
    this.expect(Kind.Colon);
    const value = this.expression();
    return { kind: 'property', name, value, span: { start: name.span.start, end: value.span.end } };
  }

  /** cst-to-ast.ts's checkSeparators, for one pair of neighbouring items. */
  private checkSeparator(
    previous: Property | Group,
    next: Property | Group,
    semicolonBetween: boolean,
    into: Diagnostic[],
  ): void {
    if (previous.kind === 'group' || next.kind === 'group' || semicolonBetween) return;
    for (let i = previous.span.end; i < next.span.start; i++) {
      if (this.text.charCodeAt(i) === 0x0a) return;
    }
    into.push({
      code: 'E101',
      severity: 'error',
      message: `expected a newline or \`;\` before \`${next.name.name}\``,
      primary: { span: { start: next.span.start, end: next.name.span.end } },
      notes: ['put each property on its own line, or separate them with `;`'],
    });
  }

  /** `a | b`: union; binds looser than `&`. */
  private expression(): Expr {
    const first = this.intersection();
    if (this.peek() !== Kind.Pipe) return first;
    const terms = [first];
    while (this.peek() === Kind.Pipe) {
      this.position++;
      terms.push(this.intersection());
    }
    const span = { start: first.span.start, end: terms[terms.length - 1]!.span.end };
    return { kind: 'union', terms, span };
  }

  private intersection(): Expr {
    const first = this.atom();
    if (this.peek() !== Kind.Amp) return first;
    const terms = [first];
    while (this.peek() === Kind.Amp) {
      this.position++;
      terms.push(this.atom());
    }
    const span = { start: first.span.start, end: terms[terms.length - 1]!.span.end };
    return { kind: 'intersect', terms, span };
  }

  private atom(): Expr {
    const i = this.position;
    switch (this.peek()) {
      case Kind.Name:
        return this.callOrName();
      case Kind.Number:
        return this.number();
      case Kind.True:
      case Kind.False:
        this.position++;
        return {
          kind: 'bool',
          value: this.kinds[i] === Kind.True,
          span: { start: this.starts[i]!, end: this.ends[i]! },
        };
      case Kind.LBracket:
        return this.list();
      case Kind.LParen: {
        this.position++;
        // Parentheses only group: the inner expression is the node, so `(a)` reads as `a`.
        const inner = this.expression();
        this.expect(Kind.RParen);
        return inner;
      }
      default:
        throw NOT_WELL_FORMED;
    }
  }

  private callOrName(): Expr {
    const callee = this.identifier();
    if (this.peek() !== Kind.LParen) return { kind: 'name', name: callee.name, span: callee.span };
    this.position++;
    const args: Argument[] = [];
    if (this.startsExpression()) {
      args.push(this.argument());
      while (this.peek() === Kind.Comma) {
        this.position++;
        args.push(this.argument());
      }
    }
    const end = this.ends[this.expect(Kind.RParen)]!;
    return { kind: 'call', callee, args, span: { start: callee.span.start, end } };
  }

  /** `name: value` or `value`; the checker enforces positional-before-named. */
  private argument(): Argument {
    if (this.peek() === Kind.Name && this.peek(1) === Kind.Colon) {
      const name = this.identifier();
      this.position++;
      const value = this.expression();
      return { name, value, span: { start: name.span.start, end: value.span.end } };
    }
    const value = this.expression();
    return { value, span: { start: value.span.start, end: value.span.end } };
  }

  private list(): Expr {
    const start = this.starts[this.expect(Kind.LBracket)]!;
    const items: Expr[] = [];
    if (this.startsExpression()) {
      items.push(this.expression());
      while (this.peek() === Kind.Comma) {
        this.position++;
        items.push(this.expression());
      }
    }
    const end = this.ends[this.expect(Kind.RBracket)]!;
    return { kind: 'list', items, span: { start, end } };
  }

  private number(): Expr {
    const i = this.position++;
    const text = this.text.slice(this.starts[i]!, this.ends[i]!);
    // A malformed number is E103, whose recovery cst-to-ast.ts owns.
    if (!STRICT_NUMBER.test(text)) throw NOT_WELL_FORMED;
    return {
      kind: 'number',
      value: Number(text),
      text,
      span: { start: this.starts[i]!, end: this.ends[i]! },
    };
  }

  private identifier(): Identifier {
    const i = this.expect(Kind.Name);
    const start = this.starts[i]!;
    const end = this.ends[i]!;
    return { name: this.text.slice(start, end), span: { start, end } };
  }

  private startsExpression(): boolean {
    switch (this.peek()) {
      case Kind.Name:
      case Kind.Number:
      case Kind.True:
      case Kind.False:
      case Kind.LBracket:
      case Kind.LParen:
        return true;
      default:
        return false;
    }
  }

  private peek(ahead = 0): number {
    const i = this.position + ahead;
    return i < this.to ? this.kinds[i]! : END;
  }

  /** The index of the next token, which must be of `kind`. */
  private expect(kind: Kind): number {
    if (this.peek() !== kind) throw NOT_WELL_FORMED;
    return this.position++;
  }
}
