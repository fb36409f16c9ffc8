// The spec's abstract syntax tree: what the text says, before any meaning is checked.
// Every node carries the span of the text it came from, so the checker can point at it.

import type { Span } from '../base/span.js';

export interface Identifier {
  readonly name: string;
  readonly span: Span;
}

export type Expr =
  UnionExpr | IntersectExpr | CallExpr | NameExpr | NumberExpr | BoolExpr | ListExpr;

/** `a | b | c`: two or more terms. */
export interface UnionExpr {
  readonly kind: 'union';
  readonly terms: readonly Expr[];
  readonly span: Span;
}

/** `a & b & c`: two or more terms; binds tighter than `|`. */
export interface IntersectExpr {
  readonly kind: 'intersect';
  readonly terms: readonly Expr[];
  readonly span: Span;
}

export interface CallExpr {
  readonly kind: 'call';
  readonly callee: Identifier;
  readonly args: readonly Argument[];
  readonly span: Span;
}

/** A positional (`name` absent) or named (`name: value`) argument. */
export interface Argument {
  readonly name?: Identifier;
  readonly value: Expr;
  readonly span: Span;
}

export interface NameExpr {
  readonly kind: 'name';
  readonly name: string;
  readonly span: Span;
}

export interface NumberExpr {
  readonly kind: 'number';
  readonly value: number;
  /** The literal as written, so `2.0` and `2` can be told apart (integers must not have a point). */
  readonly text: string;
  readonly span: Span;
}

export interface BoolExpr {
  readonly kind: 'bool';
  readonly value: boolean;
  readonly span: Span;
}

export interface ListExpr {
  readonly kind: 'list';
  readonly items: readonly Expr[];
  readonly span: Span;
}

export interface Property {
  readonly kind: 'property';
  readonly name: Identifier;
  readonly value: Expr;
  readonly span: Span;
}

export interface Group {
  readonly kind: 'group';
  readonly name: Identifier;
  readonly properties: readonly Property[];
  readonly span: Span;
  /** Part of its text could not be parsed: the checker must not report what is missing. */
  readonly recovered?: boolean;
}

export interface AttentionDecl {
  readonly kind: 'attention';
  readonly name: Identifier;
  /** Items in source order. */
  readonly items: readonly (Property | Group)[];
  readonly span: Span;
  /** Part of its text could not be parsed: the checker must not report what is missing. */
  readonly recovered?: boolean;
}

export interface SpecFile {
  readonly kind: 'file';
  readonly attentions: readonly AttentionDecl[];
  readonly span: Span;
}
