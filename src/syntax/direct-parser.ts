// The parser of well-formed declarations: a recursive descent over the token stream that
// builds the AST directly, with no CST and no token objects. Almost every declaration of a
// real (or a large generated) spec is well formed, and building chevrotain's CST of a million
// tokens, then the AST from it, was most of the time of checking a 4 MiB spec.
//
// It accepts only tokens the grammar of parser.ts accepts with no error, builds the AST that
// cst-to-ast.ts builds from their CST, and reports what cst-to-ast.ts reports: E103 for a
// malformed number (whose property is then dropped and its block `recovered`), E101 for
// properties on one line, and `recovered` on a block with a lexical error or a nesting cut.
// On a syntax error it gives up, and parse.ts parses the declaration with chevrotain, whose
// recovery and messages are the reference. test/syntax/direct-parser.test.ts checks that both
// give the same result.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../base/span.js';
import type { Argument, AttentionDecl, Expr, Group, Identifier, Property } from './ast.js';
import { malformedNumber, STRICT_NUMBER } from './cst-to-ast.js';
import { Kind, type TokenStream } from './scan.js';

export interface DirectParse {
  readonly attentions: AttentionDecl[];
  readonly diagnostics: Diagnostic[];
}

/**
 * The declarations in tokens [from, to), or undefined when they are not well formed.
 * `to` is the end of the range: a token after it is never looked at. `errorOffsets` (sorted)
 * are where lexical errors and nesting cuts are: a block that spans one is `recovered`.
 */
export function parseWellFormed(
  tokens: TokenStream,
  from: number,
  to: number,
  errorOffsets: readonly number[] = [],
): DirectParse | undefined {
  const descent = new Descent(tokens, from, to, errorOffsets);
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

  /** Where E103 goes: cst-to-ast.ts reports a block's numbers before its separators. */
  private numberErrors: Diagnostic[] = this.diagnostics;

  constructor(
    tokens: TokenStream,
    public position: number,
    private readonly to: number,
    private readonly errorOffsets: readonly number[],
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
    // cst-to-ast.ts reports the groups' diagnostics, then the numbers of the attention's own
    // properties, then its separators.
    const numberErrors: Diagnostic[] = [];
    const separatorErrors: Diagnostic[] = [];
    let semicolonSince = false;
    let incomplete = false;
    for (;;) {
      const kind = this.peek();
      let item: Property | Group | undefined;
      if (kind === Kind.Semicolon) {
        this.position++;
        semicolonSince = true;
        continue;
      } else if (kind === Kind.Group) {
        this.numberErrors = this.diagnostics;
        item = this.group();
      } else if (kind === Kind.Name) {
        this.numberErrors = numberErrors;
        item = this.property();
      } else {
        break;
      }
      // A property dropped for a malformed number is not there to be separated from.
      if (item === undefined) {
        incomplete = true;
        continue;
      }
      const previous = items[items.length - 1];
      if (previous) this.checkSeparator(previous, item, semicolonSince, separatorErrors);
      items.push(item);
      semicolonSince = false;
    }
    const end = this.ends[this.expect(Kind.RBrace)]!;
    this.diagnostics.push(...numberErrors, ...separatorErrors);
    const span = { start, end };
    return {
      kind: 'attention',
      name,
      items,
      span,
      ...(incomplete || this.hasErrorIn(span) ? { recovered: true } : {}),
    };
  }

  private group(): Group {
    const start = this.starts[this.expect(Kind.Group)]!;
    const name = this.identifier();
    this.expect(Kind.LBrace);
    const properties: Property[] = [];
    const separatorErrors: Diagnostic[] = [];
    let semicolonSince = false;
    let incomplete = false;
    for (;;) {
      const kind = this.peek();
      if (kind === Kind.Semicolon) {
        this.position++;
        semicolonSince = true;
        continue;
      }
      if (kind !== Kind.Name) break;
      const property = this.property();
      if (property === undefined) {
        incomplete = true;
        continue;
      }
      const previous = properties[properties.length - 1];
      if (previous) this.checkSeparator(previous, property, semicolonSince, separatorErrors);
      properties.push(property);
      semicolonSince = false;
    }
    const end = this.ends[this.expect(Kind.RBrace)]!;
    this.diagnostics.push(...separatorErrors);
    const span = { start, end };
    return {
      kind: 'group',
      name,
      properties,
      span,
      ...(incomplete || this.hasErrorIn(span) ? { recovered: true } : {}),
    };
  }

  /** Undefined (like every node below) when a malformed number in it was reported. */
  private property(): Property | undefined {
    const name = this.identifier();
    this.expect(Kind.Colon);
    const value = this.expression();
    if (value === undefined) return undefined;
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
    if (this.hasErrorIn({ start: previous.span.start, end: next.span.end })) return;
    into.push({
      code: 'E101',
      severity: 'error',
      message: `expected a newline or \`;\` before \`${next.name.name}\``,
      primary: { span: { start: next.span.start, end: next.name.span.end } },
      notes: ['put each property on its own line, or separate them with `;`'],
    });
  }

  /** `a | b`: union; binds looser than `&`. */
  private expression(): Expr | undefined {
    const first = this.intersection();
    if (this.peek() !== Kind.Pipe) return first;
    const terms = [first];
    while (this.peek() === Kind.Pipe) {
      this.position++;
      terms.push(this.intersection());
    }
    return nary('union', terms);
  }

  private intersection(): Expr | undefined {
    const first = this.atom();
    if (this.peek() !== Kind.Amp) return first;
    const terms = [first];
    while (this.peek() === Kind.Amp) {
      this.position++;
      terms.push(this.atom());
    }
    return nary('intersect', terms);
  }

  private atom(): Expr | undefined {
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

  private callOrName(): Expr | undefined {
    const callee = this.identifier();
    if (this.peek() !== Kind.LParen) return { kind: 'name', name: callee.name, span: callee.span };
    this.position++;
    const args: (Argument | undefined)[] = [];
    if (this.startsExpression()) {
      args.push(this.argument());
      while (this.peek() === Kind.Comma) {
        this.position++;
        args.push(this.argument());
      }
    }
    const end = this.ends[this.expect(Kind.RParen)]!;
    if (args.includes(undefined)) return undefined;
    const present = args as Argument[];
    return { kind: 'call', callee, args: present, span: { start: callee.span.start, end } };
  }

  /** `name: value` or `value`; the checker enforces positional-before-named. */
  private argument(): Argument | undefined {
    if (this.peek() === Kind.Name && this.peek(1) === Kind.Colon) {
      const name = this.identifier();
      this.position++;
      const value = this.expression();
      if (value === undefined) return undefined;
      return { name, value, span: { start: name.span.start, end: value.span.end } };
    }
    const value = this.expression();
    if (value === undefined) return undefined;
    return { value, span: { start: value.span.start, end: value.span.end } };
  }

  private list(): Expr | undefined {
    const start = this.starts[this.expect(Kind.LBracket)]!;
    const items: (Expr | undefined)[] = [];
    if (this.startsExpression()) {
      items.push(this.expression());
      while (this.peek() === Kind.Comma) {
        this.position++;
        items.push(this.expression());
      }
    }
    const end = this.ends[this.expect(Kind.RBracket)]!;
    if (items.includes(undefined)) return undefined;
    return { kind: 'list', items: items as Expr[], span: { start, end } };
  }

  private number(): Expr | undefined {
    const i = this.position++;
    const text = this.text.slice(this.starts[i]!, this.ends[i]!);
    const span = { start: this.starts[i]!, end: this.ends[i]! };
    if (!STRICT_NUMBER.test(text)) {
      this.numberErrors.push(malformedNumber(text, span));
      return undefined;
    }
    return { kind: 'number', value: Number(text), text, span };
  }

  /** cst-to-ast.ts's hasErrorIn, over lexical errors and nesting cuts only. */
  private hasErrorIn(span: Span): boolean {
    const offsets = this.errorOffsets;
    let low = 0;
    let high = offsets.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (offsets[middle]! < span.start) low = middle + 1;
      else high = middle;
    }
    return low < offsets.length && offsets[low]! <= span.end;
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

function nary(kind: 'union' | 'intersect', terms: (Expr | undefined)[]): Expr | undefined {
  if (terms.includes(undefined)) return undefined;
  const present = terms as Expr[];
  const span = { start: present[0]!.span.start, end: present[present.length - 1]!.span.end };
  return { kind, terms: present, span };
}
